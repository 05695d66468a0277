"""Packed postings (retrieval/postings.py): slices, tfs too big for their field, growing the
key array, words renumbered in sorted order — each against the plain BM25 of the same docs."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from retrieval import postings
from retrieval.errors import IndexStoreError
from retrieval.index import ARRAYS, BM25Index, BM25Settings, Counts
from retrieval.postings import Merger

from tests.helpers import index_of

DOCS = [
    ["商汤", "·商汤", "•商", "成立", "医疗", "医疗"],
    ["zebra", "apple", "•北", "·北京", "2024"],
    ["医疗", "apple", "•商", "影像"],
    [],
    ["·北京", "•北", "•京", "zebra", "商汤"],
]


def expected_scores(docs, term, k1=0.9, b=0.4):
    """BM25 (Lucene variant) of ``term`` in each doc, written out by hand."""
    n, avgdl = len(docs), sum(map(len, docs)) / len(docs)
    df = sum(term in d for d in docs)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return [idf * c[term] * (k1 + 1) / (c[term] + k1 * (1 - b + b * len(d) / avgdl)) if (c := Counter(d))[term] else 0.0
            for d in docs]


def assert_same(a: BM25Index, b: BM25Index) -> None:
    assert a.vocab == b.vocab
    for name in ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("term", sorted({t for d in DOCS for t in d}))
def test_scores_match_hand_written_bm25(term):
    index = index_of(DOCS)
    assert np.allclose(index.scores({term: 1.0}), expected_scores(DOCS, term), rtol=1e-5)


def test_vocabulary_is_words_sorted_then_characters_then_bigrams():
    index = index_of(DOCS)
    assert index.vocab.words == sorted({t for d in DOCS for t in d if t[0] not in "·•"})
    assert index.vocab.terms[len(index.vocab.words):] == ["•京", "•北", "•商", "·北京", "·商汤"]


def test_slices_do_not_change_the_index(monkeypatch):
    """Term runs and unpacking go a slice at a time: a run cut by a slice border is one run."""
    whole = index_of(DOCS)
    monkeypatch.setattr(postings, "SLICE", 3)
    assert_same(index_of(DOCS), whole)


def highest_by_hand(index: BM25Index) -> np.ndarray:
    impacts = np.asarray(index.impacts)
    return np.array([impacts[s:e].max() for s, e in zip(index.indptr[:-1], index.indptr[1:])], dtype=np.float32)


def test_each_terms_highest_impact_is_kept(monkeypatch):
    """The bound pruning skips by, also for terms cut by slice borders."""
    docs = [[f"w{i % 7}"] * (1 + i % 5) + ["common"] * (i % 3 + 1) for i in range(60)]
    assert np.array_equal(index_of(docs).max_impact, highest_by_hand(index_of(docs)))
    monkeypatch.setattr(postings, "SLICE", 4)
    assert np.array_equal(index_of(docs).max_impact, highest_by_hand(index_of(docs)))


def test_a_tf_too_big_for_its_field_is_kept_exactly():
    docs = [["哈"] * 300 + ["笑"], ["笑", "哈"], ["•哈"] * 70000]
    index = index_of(docs)
    assert index.tfs.dtype == np.uint32
    for term in ("哈", "笑", "•哈"):
        tid = index.vocab[term]
        span = slice(index.indptr[tid], index.indptr[tid + 1])
        assert dict(zip(index.docs[span].tolist(), index.tfs[span].tolist())) == {
            i: d.count(term) for i, d in enumerate(docs) if term in d}
        assert np.allclose(index.scores({term: 1.0}), expected_scores(docs, term), rtol=1e-5)
    assert np.array_equal(index.max_impact, highest_by_hand(index))  # the put-back tfs' impacts count


def test_parts_in_any_sizes_make_the_same_index(monkeypatch):
    """The key array is sized by estimate from the first part; a far bigger later part moves it."""
    docs = [["一"]] + [[f"词{i % 50}", f"•{chr(0x4e00 + i % 300)}", "共同"] * 5 for i in range(400)]
    one = BM25Index.from_counts(Counts.of(docs))
    merger = Merger(len(docs))
    for start, end in ((0, 1), (1, 3), (3, len(docs))):
        merger.add(Counts.of(docs[start:end], range(start, end)))
    assert_same(BM25Index.gathered(merger, BM25Settings()), one)


def test_too_many_passages_for_the_key_fields():
    with pytest.raises(IndexStoreError, match="more than one index holds .8,388,608.; make passages longer"):
        Merger(1 << 30)
