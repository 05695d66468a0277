"""Measure one corpus: build, disk, load and memory, latency, throughput.

The build is ``open_searcher(rebuild=True)`` exactly as users get it (both cores); its stages
are timed through the callbacks ``open_searcher`` offers anyway: ``progress`` speaks once the
corpus is read and split, ``steps`` after each analysed chunk, so nothing is patched.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from retrieval.errors import QuestionError
from retrieval.store import RetrievalSettings, open_searcher

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RANK_BM25_MAX = 200_000  # rank-bm25 scores in pure Python: seconds per question above this
RANK_BM25_FULL = 20_000  # up to here every question goes to rank-bm25, above it RANK_BM25_SAMPLE
RANK_BM25_SAMPLE = 20
K = 30  # the candidates qabot re-ranks (search.candidates): what a top-k must deliver


def stats_ms(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ms = np.asarray(seconds) * 1000
    return {"n": len(ms), "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def timed(func, *args, **kwargs) -> tuple[float, object]:
    t = time.perf_counter()
    out = func(*args, **kwargs)
    return time.perf_counter() - t, out


def build(paths: list[str], index_dir: Path, settings: RetrievalSettings) -> tuple[dict, object]:
    marks: dict[str, float] = {}

    def progress(message: str) -> None:
        marks.setdefault("split", time.perf_counter())  # corpus key, read, split into passages

    def steps(done: int, total: int) -> None:
        marks["analysed"] = time.perf_counter()  # the last call: every chunk analysed

    start = time.perf_counter()
    opened = open_searcher(paths, settings, index_dir, rebuild=True, progress=progress, steps=steps)
    total = time.perf_counter() - start
    split = marks.get("split", start) - start
    analyse = marks.get("analysed", start + split) - start - split
    text_mb = sum(len(a.text.encode("utf-8")) for a in opened.searcher.articles.values()) / 1e6
    out = {"total_s": total, "text_mb": text_mb, "mb_per_s": text_mb / total,
           "read_split_s": split, "analyse_s": analyse,
           "analyse_mb_per_s": text_mb / analyse if analyse else None,
           # joining the chunks' counts, BM25Index.from_counts, saving, the Searcher
           "index_save_s": total - split - analyse,
           "vocab": len(opened.searcher.index.vocab), "postings": int(len(opened.searcher.index.docs))}
    return out, opened


def disk(folder: Path) -> dict:
    sizes = {f.name: f.stat().st_size for f in folder.iterdir() if f.is_file()}
    bm25 = sum(v for k, v in sizes.items() if k.endswith(".npy") and k != "passages.npy") + sizes.get("vocab.json", 0)
    return {"total_mb": sum(sizes.values()) / 1e6, "bm25_mb": bm25 / 1e6}


def probe(paths: list[str], index_dir: Path, questions: list[str], workdir: Path, code: Path | None = None) -> dict:
    qfile = workdir / "probe-questions.json"
    qfile.write_text(json.dumps(questions[:20], ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, **({"QABOT_BENCH_CODE": str(code)} if code else {})}
    run = subprocess.run([sys.executable, str(HERE / "probe.py"), str(index_dir), str(qfile), *paths],
                         capture_output=True, text=True, timeout=3600, env=env)
    if run.returncode:
        return {"error": run.stderr.strip().splitlines()[-1:]}
    return json.loads(run.stdout)


def latency(searcher, questions: list[str]) -> dict:
    """End-to-end ``search`` per question (analysis, scoring, re-rank, hits), token cache cold;
    and, apart, the question's analysis alone (``Searcher.query``)."""
    searcher.token_cache.clear()
    per, analysis = [], []
    for q in questions:
        try:
            per.append(timed(searcher.search, q)[0])
        except QuestionError:
            continue
        analysis.append(timed(searcher.query, q)[0])
    return {"search_ms": stats_ms(per), "analysis_ms": stats_ms(analysis)}


def batch_qps(searcher, questions: list[str]) -> float:
    """``qabot batch``'s own loop (``run_batch``, JSON lines out, its worker processes), token cache cold."""
    from bot.answering import Answerer
    from bot.batch import Item, run_batch

    searcher.token_cache.clear()
    items = [Item(i, q) for i, q in enumerate(questions)]
    with contextlib.redirect_stderr(io.StringIO()):
        seconds, _ = timed(run_batch, Answerer(searcher), items, io.StringIO())
    return len(items) / seconds


def batch_cli(paths: list[str], index_dir: Path, questions: list[str], workdir: Path,
              settings: RetrievalSettings, code: Path | None = None) -> dict:
    """``qabot batch`` as a user runs it: a new process that loads the built index and answers.
    A config file with no settings (every default) keeps the index the benchmark built current."""
    from bot.config import load_settings

    config = workdir / "bench-config.yaml"
    config.write_text("{}\n", encoding="utf-8")
    if load_settings(config).retrieval() != settings:
        return {"skipped": "the CLI's default settings differ from the benchmark's: it would rebuild"}
    qfile, out = workdir / "cli-questions.txt", workdir / "cli-answers.jsonl"
    qfile.write_text("".join(q.replace("\n", " ") + "\n" for q in questions), encoding="utf-8")
    command = [sys.executable, "-m", "bot", "--config", str(config)]
    for p in paths:
        command += ["--corpus", str(p)]
    command += ["batch", str(qfile), "-o", str(out)]
    # retrieval/ from the copy taken at start (as the probe), so an edit meanwhile cannot force a rebuild
    env = {**os.environ, "QABOT_INDEX_DIR": str(index_dir),
           "PYTHONPATH": os.pathsep.join(str(p) for p in (code, ROOT) if p)}
    seconds, run = timed(subprocess.run, command, capture_output=True, text=True, timeout=3600, env=env, cwd=ROOT)
    if run.returncode:
        return {"error": run.stderr.strip().splitlines()[-1:]}
    answered = sum(1 for _ in out.open(encoding="utf-8"))
    if "indexing" in run.stderr:  # it rebuilt: not a load-and-answer time
        return {"wall_s": seconds, "questions": answered, "rebuilt": True}
    return {"wall_s": seconds, "questions": answered, "qps_wall": answered / seconds, "rebuilt": False}
