"""BM25Index against an independent BM25, rank_bm25 and bm25s; top-k; save/load."""
from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest

from retrieval.errors import IndexStoreError
from retrieval.index import ARRAYS, BM25Index, BM25Settings

from tests.helpers import index_of


CORPUS = [
    ["商汤", "成立", "医疗", "实验室", "医疗"],
    ["商汤", "投资", "影谱", "科技"],
    ["量子", "计算", "芯片", "超导", "量子", "量子"],
    ["医疗", "影像", "诊断"],
    ["咖啡", "起源", "埃塞俄比亚", "咖啡", "传入", "也门", "种植", "咖啡", "历史"],
    ["实验室", "成立"],
    ["熊猫"],
    ["超导", "芯片", "商汤", "成立", "医疗", "影像", "计算", "科技", "研究", "发展", "实验室"],
]
QUERIES = [["医疗"], ["商汤", "成立"], ["量子", "芯片"], ["实验室", "医疗", "影像"], ["咖啡"], ["科技", "超导", "熊猫"]]


def lucene_bm25(corpus, query, k1=1.2, b=0.75):
    """BM25 as Lucene computes it, written out by hand."""
    n = len(corpus)
    avgdl = sum(map(len, corpus)) / n
    df = Counter(t for doc in corpus for t in set(doc))
    out = []
    for doc in corpus:
        tf = Counter(doc)
        score = 0.0
        for term in query:
            if tf[term] == 0:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(doc) / avgdl))
        out.append(score)
    return np.array(out)


def weights(query):
    return {t: 1.0 for t in query}


@pytest.mark.parametrize("k1, b", [(1.2, 0.75), (1.5, 0.3), (0.9, 1.0), (2.0, 0.0)])
@pytest.mark.parametrize("query", QUERIES)
def test_scores_match_the_lucene_formula(query, k1, b):
    index = index_of(CORPUS, BM25Settings(k1, b))
    np.testing.assert_allclose(index.scores(weights(query)), lucene_bm25(CORPUS, query, k1, b), rtol=1e-5, atol=1e-6)


def test_idf_matches_the_lucene_formula():
    index = index_of(CORPUS)
    n = len(CORPUS)
    assert index.idf("商汤") == pytest.approx(math.log(1 + (n - 3 + 0.5) / 3.5))
    assert index.idf("熊猫") == pytest.approx(math.log(1 + (n - 1 + 0.5) / 1.5))
    # a term no passage has counts as rarer than any (df = 0)
    assert index.idf("不存在") == pytest.approx(math.log(1 + (n + 0.5) / 0.5))
    assert index.idf("不存在") > index.idf("熊猫")


def test_query_weights_scale_each_term():
    index = index_of(CORPUS)
    full = index.scores({"医疗": 1.0})
    np.testing.assert_allclose(index.scores({"医疗": 0.5}), full * 0.5, rtol=1e-6)
    both = index.scores({"医疗": 1.0, "商汤": 0.3})
    np.testing.assert_allclose(both, full + 0.3 * index.scores({"商汤": 1.0}), rtol=1e-5)


def test_unknown_terms_score_nothing():
    index = index_of(CORPUS)
    assert not index.scores({"不存在": 1.0}).any()
    assert index.top({"不存在": 1.0}, 5) == []
    assert index.top({}, 5) == []


@pytest.mark.parametrize("settings", [BM25Settings(), BM25Settings(1.2, 0.75)], ids=["defaults", "lucene"])
@pytest.mark.parametrize("query", QUERIES)
def test_bm25s_lucene_matches_up_to_the_k1_plus_1_factor(query, settings):
    bm25s = pytest.importorskip("bm25s")
    vocab = {t: i for i, t in enumerate(sorted({t for d in CORPUS for t in d}))}
    other = bm25s.BM25(method="lucene", k1=settings.k1, b=settings.b)
    other.index(bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in d] for d in CORPUS], vocab=vocab),
                show_progress=False)
    theirs = other.get_scores(query)
    ours = index_of(CORPUS, settings).scores(weights(query))
    # bm25s's lucene variant leaves out the constant (k1 + 1) of the tf part
    np.testing.assert_allclose(ours, theirs * (settings.k1 + 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("term", ["医疗", "商汤", "量子", "咖啡", "成立", "芯片"])
def test_single_term_ranking_agrees_with_rank_bm25(term):
    rank_bm25 = pytest.importorskip("rank_bm25")
    # BM25Okapi's idf differs (ln((N-df+.5)/(df+.5))), but for one term it is a common factor,
    # so the ranking of the passages that hold the term must be the same
    okapi = rank_bm25.BM25Okapi(CORPUS, k1=1.2, b=0.75).get_scores([term])
    ours = index_of(CORPUS, BM25Settings(1.2, 0.75)).scores({term: 1.0})
    holders = [i for i, d in enumerate(CORPUS) if term in d]
    assert sorted(holders, key=lambda i: (-ours[i], i)) == sorted(holders, key=lambda i: (-okapi[i], i))
    assert set(np.flatnonzero(ours)) == set(holders)


def test_top_k_order_and_scores():
    index = index_of(CORPUS)
    query = weights(["实验室", "医疗", "影像"])
    scores = index.scores(query)
    top = index.top(query, 3)
    assert [d for d, _ in top] == list(np.argsort(-scores, kind="stable")[:3])
    assert [s for _, s in top] == pytest.approx(sorted(scores, reverse=True)[:3])
    assert all(s > 0 for _, s in top)


def test_top_returns_only_positive_scores_and_at_most_the_index_size():
    index = index_of(CORPUS)
    top = index.top({"咖啡": 1.0}, 50)
    assert [d for d, _ in top] == [4]
    assert index.top({"医疗": 1.0}, 0) == []


def test_ties_are_broken_by_passage_order():
    index = index_of([["x"], ["y", "z"], ["x"], ["x"], ["y", "z"]])
    assert [d for d, _ in index.top({"x": 1.0}, 5)] == [0, 2, 3]
    assert [d for d, _ in index.top({"y": 1.0}, 5)] == [1, 4]


def test_ties_at_the_k_boundary_keep_passage_order():
    index = index_of([["x", "y"]] * 1000 + [["z"]])
    full = [d for d, _ in index.top({"x": 1.0}, 1000)]
    assert full == list(range(1000))
    for k in (1, 2, 3, 7):
        assert [d for d, _ in index.top({"x": 1.0}, k)] == full[:k]


def test_empty_index():
    index = index_of([])
    assert index.size == 0
    assert index.top({"x": 1.0}, 5) == []


def test_empty_documents_are_allowed():
    index = index_of([[], ["a"], []])
    assert [d for d, _ in index.top({"a": 1.0}, 3)] == [1]


# --- save / load --------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    index = index_of(CORPUS, BM25Settings(1.5, 0.6))
    index.save(tmp_path / "idx")
    loaded = BM25Index.load(tmp_path / "idx")
    assert loaded.settings == BM25Settings(1.5, 0.6)
    assert loaded.vocab == index.vocab
    assert loaded.size == index.size
    for query in QUERIES:
        np.testing.assert_array_equal(loaded.scores(weights(query)), index.scores(weights(query)))
        assert loaded.top(weights(query), 4) == index.top(weights(query), 4)
        assert [loaded.idf(t) for t in query] == [index.idf(t) for t in query]


def test_loaded_arrays_are_memory_mapped_and_never_pickled(tmp_path):
    index_of(CORPUS).save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    for name in ARRAYS:
        assert isinstance(getattr(loaded, name), np.memmap), name
    for path in tmp_path.iterdir():
        assert path.suffix in {".npy", ".json"}, path
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)  # would raise for object (pickled) arrays
            assert array.dtype != object
        else:
            json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", [f"{a}.npy" for a in ARRAYS] + ["vocab.json", "bm25.json"])
@pytest.mark.parametrize("damage", ["truncate", "missing", "garbage"])
def test_damaged_index_file_raises_index_store_error(tmp_path, name, damage):
    index_of(CORPUS).save(tmp_path)
    path = tmp_path / name
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "missing":
        path.unlink()
    else:
        path.write_bytes(b"\x93NUMPY garbage" if name.endswith(".npy") else b"{not json")
    with pytest.raises(IndexStoreError, match="rebuild"):
        BM25Index.load(tmp_path)


@pytest.mark.parametrize("name", [f"{a}.npy" for a in ARRAYS])
def test_empty_array_file_raises_index_store_error(tmp_path, name):
    index_of(CORPUS).save(tmp_path)
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(IndexStoreError):
        BM25Index.load(tmp_path)


def test_inconsistent_vocabulary_raises_index_store_error(tmp_path):
    index_of(CORPUS).save(tmp_path)
    (tmp_path / "vocab.json").write_text(json.dumps(["商汤"]), encoding="utf-8")
    with pytest.raises(IndexStoreError, match="inconsistent"):
        BM25Index.load(tmp_path)


def test_wrong_size_raises_index_store_error(tmp_path):
    index_of(CORPUS).save(tmp_path)
    meta = json.loads((tmp_path / "bm25.json").read_text())
    meta["size"] += 1
    (tmp_path / "bm25.json").write_text(json.dumps(meta))
    with pytest.raises(IndexStoreError):
        BM25Index.load(tmp_path)
