"""The cluster path's cost on loopback: added latency per question over the local searcher, and
batch throughput with 1, 2 and 3 workers.

    .venv/bin/python bench/cluster.py [--corpus FILE] [--shards 3] [--questions 300] [--batch 1000]

Each run starts a real LocalCluster (worker processes, one thread each, TCP on 127.0.0.1). Latency:
``Searcher.search`` (k=10) of the same questions on the single index and through the cluster,
interleaved per question, after one warm-up pass; the difference is taken per question (p50, p90).
Throughput: ``run_batch`` (what ``qabot batch --cluster`` runs) over ``--batch`` questions.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT = ROOT.parent / "shared" / "eval" / "ext" / "cmrc2018-trial.corpus.jsonl"


def questions_of(corpus: Path, count: int) -> list[str]:
    gold = corpus.with_name(corpus.name.replace(".corpus.jsonl", ".gold.jsonl"))
    out = [json.loads(line)["question"] for line in gold.read_text(encoding="utf-8").splitlines()]
    out = [q for q in out if q.strip()]
    return (out * (count // max(len(out), 1) + 1))[:count]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def run(corpus: Path, shards: int, count: int, batch: int) -> dict:
    import distributed

    from bot.answering import Answerer
    from bot.batch import Item, run_batch
    from bot.cluster import _clusters, open_cluster
    from bot.config import Settings
    from retrieval.shards import find_layout
    from retrieval.store import open_searcher

    index_dir = Path(tempfile.mkdtemp(prefix="qabot-bench-cluster-"))
    settings = Settings(index_dir=index_dir)
    single = open_searcher([corpus], settings.retrieval(), index_dir).searcher
    find_layout([corpus], settings.retrieval(), index_dir, shards=shards)
    questions = questions_of(corpus, count)
    items = [Item(i, q) for i, q in enumerate(questions_of(corpus, batch))]
    report = {"corpus": corpus.name, "passages": len(single.passages), "shards": shards, "load": os.getloadavg()[0]}
    for workers in (3, 2, 1):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None, memory_limit="1GiB") as local:
            sharded = open_cluster(local.scheduler_address, [corpus], settings)
            if workers == 3:
                report["latency"] = latency(single, sharded, questions)
            start = time.perf_counter()
            run_batch(Answerer(sharded), items, io.StringIO())
            report[f"batch q/s, {workers} workers"] = round(len(items) / (time.perf_counter() - start), 1)
            _clusters.pop(local.scheduler_address).close()
    start = time.perf_counter()
    run_batch(Answerer(single), items, io.StringIO(), workers=1)
    report["batch q/s, local, 1 process"] = round(len(items) / (time.perf_counter() - start), 1)
    return report


def latency(single, sharded, questions: list[str]) -> dict:
    for q in questions[:50]:  # warm: tokens cached on both sides alike
        single.search(q, 10), sharded.search(q, 10)
    local, cluster, added = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        single.search(q, 10)
        t1 = time.perf_counter()
        sharded.search(q, 10)
        t2 = time.perf_counter()
        local.append((t1 - t0) * 1e3)
        cluster.append((t2 - t1) * 1e3)
        added.append((t2 - t1 - (t1 - t0)) * 1e3)
    return {"local ms p50": round(statistics.median(local), 2), "cluster ms p50": round(statistics.median(cluster), 2),
            "added ms p50": round(statistics.median(added), 2), "added ms p90": round(percentile(added, 0.9), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(run(args.corpus, args.shards, args.questions, args.batch), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
