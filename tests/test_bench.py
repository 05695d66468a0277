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
    assert r["passages"] >= 300 and set(r["questions"]) == {"real", "toy"}
    assert {"total_s", "mb_per_s", "read_split_s", "analyse_s", "index_save_s", "text_mb"} <= set(r["build"])
    assert {"total_mb", "bm25_mb"} <= set(r["disk"])
    assert r["load"]["reused_cache"] and r["load"]["fresh_process"]["reused_cache"]
    assert {"load_s", "rss_loaded_mb", "maxrss_mb"} <= set(r["load"]["fresh_process"])
    assert r["batch_cli"]["questions"] == 5 and not r["batch_cli"]["rebuilt"]
    for questions in r["questions"].values():
        assert questions["n"] == 5 and questions["batch_qps"] > 0
        assert {"p50", "p95", "p99"} <= set(questions["latency"]["search_ms"])
        engines = questions["engines"]
        for engine in ("qabot_search", "qabot_top", "tantivy", "bm25s_terms", "bm25s_jieba", "rank_bm25_jieba"):
            assert engines[engine]["n"] > 0 and engines[engine]["p50"] > 0, engine
        for engine in ("tantivy", "bm25s_terms", "bm25s_jieba", "rank_bm25_jieba"):
            assert engines["ratios"][engine]["p50"] > 0 and engines["ratios"][engine]["p99"] > 0
    tables = run.table(report["corpora"])
    assert "corpus" in tables and "tantivy/qabot" in tables and "toy" in tables
    assert [c["target"] for c in report["targets"]] and run.target_lines(report["targets"])


def test_the_references_see_the_same_passages(tmp_path):
    """jieba words of each passage (title and text) for bm25s and rank-bm25; qabot's terms for tantivy."""
    engines, refs, synth = bench_module("engines"), bench_module("refs"), bench_module("synth")
    import rjieba

    from retrieval.store import RetrievalSettings, open_searcher

    corpus = synth.write_corpus(tmp_path / "c.jsonl", 300, seed=5)
    searcher = open_searcher([corpus["path"]], RetrievalSettings(), tmp_path / "index").searcher
    words = engines.JiebaWords(searcher)
    p = searcher.passages[7]
    assert words[7] == [w for w in rjieba.cut((p.title + "\n" + p.text).lower()) if w.strip() and w not in "。，！？"]
    counted = words.counts
    assert int(counted.tfs[counted.doc_ids == 7].sum()) == len(words[7])
    bags = refs.Bags(searcher.index)
    tantivy = engines.Tantivy(bags, threads=1)
    term = bags[3][0]
    assert tantivy.searcher.num_docs == len(searcher.passages)
    assert len(tantivy.top({term: 1.0}, 1000)) == searcher.index.df_of(term)


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
