"""Pruned top-k (retrieval/pruning.py) equals exhaustive top-k: the same passages, the same
scores bit for bit, ties in the same order, on random corpora and questions."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from retrieval import pruning
from retrieval.index import BM25Index

from tests.helpers import index_of

# a Zipf-like alphabet: the first letters are in most passages, as single Han characters are
ALPHABET = [f"t{i}" for i in range(40)]
WEIGHTS = np.array([1 / (i + 1) ** 1.1 for i in range(len(ALPHABET))])


def corpus(seed: int, passages: int, longest: int = 30) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    p = WEIGHTS / WEIGHTS.sum()
    return [list(rng.choice(ALPHABET, size=int(rng.integers(0, longest)), p=p)) for _ in range(passages)]


def assert_pruned_is_exhaustive(index: BM25Index, weights: dict[str, float], k: int) -> bool:
    """True when pruning skipped something (else it gave the question back to exhaustive scoring)."""
    pruned = index.pruned_top(index.terms(weights), k)
    exhaustive = index.exhaustive_top(weights, k)
    if pruned is not None:
        assert pruned == exhaustive  # passages, order and float scores, exactly
    assert index.top(weights, k) == exhaustive
    return pruned is not None


questions = st.dictionaries(st.sampled_from(ALPHABET + ["absent"]),
                            st.sampled_from([1.0, 0.7, 0.5, 0.3, 0.15]) | st.floats(0.01, 3.0),
                            min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**16), passages=st.integers(1, 400), question=questions, k=st.integers(1, 40))
def test_pruned_top_equals_exhaustive_top(seed, passages, question, k):
    assert_pruned_is_exhaustive(index_of(corpus(seed, passages)), question, k)


@settings(max_examples=100, deadline=None)
@given(copies=st.integers(1, 60), k=st.integers(1, 50), question=questions)
def test_ties_keep_passage_order(copies, k, question):
    """Many passages with the same terms score the same: the first in passage order are kept."""
    docs = corpus(3, 50, 12) * copies
    assert_pruned_is_exhaustive(index_of(docs), question, k)


def test_pruning_skips_on_a_realistic_question():
    """A few rare terms and many frequent ones, as a real question: frequent terms get skipped
    (the test would pass vacuously if pruning always gave up)."""
    docs = corpus(7, 3000, 60)
    rng = np.random.default_rng(1)
    for i in range(3000):
        docs[i] += [f"rare{rng.integers(200)}"] * int(rng.integers(1, 3))
    index = index_of(docs)
    skipped = 0
    for q in range(50):
        question = {f"rare{q}": 1.0, f"rare{q + 50}": 1.0, **{t: 0.7 for t in ALPHABET[:10]}}
        skipped += assert_pruned_is_exhaustive(index, question, 30)
    assert skipped >= 45


def test_the_bounds_are_never_exceeded():
    index = index_of(corpus(11, 500))
    for term in index.terms({t: 0.7 for t in ALPHABET}):
        contributions = np.asarray(index.impacts[term.start:term.end]) * term.factor
        assert contributions.max() == np.float32(term.bound)
        assert isinstance(term, pruning.Term)
