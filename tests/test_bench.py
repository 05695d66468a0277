"""The benchmark runs end to end on a tiny synthetic corpus and reports what it promises (no timings checked)."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_module(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def test_synthetic_corpus_is_deterministic_and_sized(tmp_path):
    synth = bench_module("synth")
    a = synth.write_corpus(tmp_path / "a.jsonl", 300, seed=3)
    b = synth.write_corpus(tmp_path / "b.jsonl", 300, seed=3)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert 300 <= a["passages"] == b["passages"] < 360
    first = json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"title", "text"} and first["text"][-1] in "。！？"


def test_benchmark_reports_every_measure(tmp_path):
    run = bench_module("run")
    report = run.run([300], real=False, n_questions=5, work=tmp_path, log=lambda message: None)
    json.dumps(report)  # serialisable as written
    (r,) = report["corpora"]
    assert r["passages"] >= 300 and r["questions"] == 5
    assert {"total_s", "mb_per_s", "read_split_s", "analyse_s", "index_save_s", "text_mb"} <= set(r["build"])
    assert {"total_mb", "bm25_mb"} <= set(r["disk"])
    assert r["load"]["reused_cache"] and r["load"]["fresh_process"]["reused_cache"]
    assert {"load_s", "rss_loaded_mb", "maxrss_mb"} <= set(r["load"]["fresh_process"])
    assert {"p50", "p95", "p99"} <= set(r["latency"]["search_ms"]) and r["batch_qps"] > 0
    assert r["batch_cli"]["questions"] == 5 and not r["batch_cli"]["rebuilt"]
    scoring = r["scoring"]
    for engine in ("qabot", "bm25s", "rank_bm25"):
        assert scoring[engine]["n"] > 0 and scoring[engine]["p50"] > 0
    assert scoring["ratios"]["bm25s_over_qabot"] > 0 and scoring["ratios"]["rank_bm25_over_qabot"] > 0
    assert 0 <= scoring["top10_agreement_bm25s"] <= 1
    assert "corpus" in run.table(report["corpora"])
    assert [c["target"] for c in report["targets"]] and run.target_lines(report["targets"])


def test_bm25s_arrays_from_counts_equal_its_own_index(tmp_path):
    """Above 200k passages the benchmark makes bm25s's arrays with numpy: they must be bm25s's."""
    import bm25s
    import numpy as np

    refs, synth = bench_module("refs"), bench_module("synth")
    from retrieval.store import RetrievalSettings, open_searcher

    settings = RetrievalSettings()
    corpus = synth.write_corpus(tmp_path / "c.jsonl", 300, seed=5)
    index = open_searcher([corpus["path"]], settings, tmp_path / "index").searcher.index
    bags = refs.Bags(index)
    assert sorted(bags[0]) == sorted(t for t, i in index.vocab.items() for _ in range(int(
        index.tfs[index.indptr[i]:index.indptr[i + 1]][index.docs[index.indptr[i]:index.indptr[i + 1]] == 0].sum())))
    own = refs.bm25s_index(bm25s, bags, settings.bm25)
    ours = refs.bm25s_from_counts(bm25s, bags, settings.bm25)
    for name in ("indices", "indptr"):
        assert np.array_equal(own.scores[name], ours.scores[name])
    assert np.allclose(own.scores["data"], ours.scores["data"], rtol=1e-6) and own.vocab_dict == ours.vocab_dict
    query = list(index.vocab)[:3]
    assert np.array_equal(own.retrieve([query], k=10, show_progress=False)[0],
                          ours.retrieve([query], k=10, show_progress=False)[0])
