"""The top k passages without scoring what cannot make them: MaxScore (Turtle & Flood, 1995)
over each term's score upper bound, as Lucene, PISA and tantivy do.

A question's frequent terms (single characters, common words) hold most of its postings and
each adds little: its bound (weight · idf · its highest tf part) is small. Once the k-th best
score of the other terms alone (a lower bound of the true k-th best) exceeds the sum of the
frequent terms' bounds, no passage outside the other terms' postings can make the top k, so the
frequent terms are never scanned: they are only looked up (binary search, postings are sorted by
passage) for the few candidates that could still make it. The result is the exhaustive one:
the same passages with the same scores, summed in the same order (``exact``), ties by passage.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

FIRST_SHARE = 0.1  # of the postings: the rarest terms scored first, for a first k-th best score
MARGIN = 1e-6  # relative: bounds are compared with this slack, far above any rounding of the sums


class Term(NamedTuple):
    start: int  # its postings: docs[start:end], impacts[start:end]
    end: int
    factor: np.float32  # query weight · idf: a posting adds impact · factor (float32, as ``scores``)
    bound: float  # the most it adds to any passage: factor · its highest impact

    @property
    def length(self) -> int:
        return self.end - self.start


def top(docs: np.ndarray, impacts: np.ndarray, size: int, terms: Sequence[Term], k: int) -> list[tuple[int, float]] | None:
    """The ``k`` best (passage, score) pairs, best first, of the terms (in the question's order);
    None when no term can be skipped (then exhaustive scoring costs no more)."""
    if not terms or k <= 0:
        return []
    by_length = sorted(range(len(terms)), key=lambda i: terms[i].length)
    total = sum(t.length for t in terms)
    first: list[int] = []
    taken = 0
    for i in by_length:
        if first and taken + terms[i].length > total * FIRST_SHARE:
            break
        first.append(i)
        taken += terms[i].length
    slack = MARGIN * sum(t.bound for t in terms)
    theta = kth_best(*accumulate(docs, impacts, size, [terms[i] for i in first]), k)
    lazy = skippable([i for i in by_length if i not in first], terms, theta - slack)
    if not lazy:
        return None
    eager = [terms[i] for i in range(len(terms)) if i not in lazy]
    partial, touched = accumulate(docs, impacts, size, eager)
    rest = sum(terms[i].bound for i in lazy)
    cand = candidates(partial, touched, theta - rest - slack)
    cand = narrow(docs, impacts, [terms[i] for i in sorted(lazy, key=lambda i: -terms[i].bound)], cand,
                  partial[cand], rest, theta, slack, k)
    scores = exact(docs, impacts, terms, cand)
    best = np.lexsort((cand, -scores))[:k]
    return [(int(d), float(s)) for d, s in zip(cand[best], scores[best])]


def skippable(rest: list[int], terms: Sequence[Term], room: float) -> set[int]:
    """The terms of ``rest`` with the smallest bounds whose bounds sum to less than ``room``."""
    lazy: set[int] = set()
    total = 0.0
    for i in sorted(rest, key=lambda i: terms[i].bound):
        if total + terms[i].bound >= room:
            break
        lazy.add(i)
        total += terms[i].bound
    return lazy


def accumulate(docs: np.ndarray, impacts: np.ndarray, size: int, terms: Sequence[Term]) -> tuple[np.ndarray, np.ndarray]:
    """(the scores of every passage over ``terms``, the postings' passages)."""
    touched = np.concatenate([docs[t.start:t.end] for t in terms])
    values = np.concatenate([impacts[t.start:t.end] * t.factor for t in terms])
    return np.bincount(touched, weights=values, minlength=size), touched


def kth_best(partial: np.ndarray, touched: np.ndarray, k: int) -> float:
    """The k-th best of the passages' partial scores (0 when fewer have one): partial scores are
    at most the full ones, so the k-th best full score is at least this."""
    seen = np.unique(touched) if len(touched) < len(partial) // 2 else np.flatnonzero(partial)
    if len(seen) < k:
        return 0.0
    values = partial[seen]
    return float(np.partition(values, len(values) - k)[len(values) - k])


def candidates(partial: np.ndarray, touched: np.ndarray, floor: float) -> np.ndarray:
    """The passages whose partial score reaches ``floor`` (> 0), in order."""
    if len(touched) < len(partial) // 2:
        return np.unique(touched[partial[touched] >= floor])
    return np.flatnonzero(partial >= floor)


def narrow(docs, impacts, lazy: Sequence[Term], cand: np.ndarray, partial: np.ndarray, rest: float,
           theta: float, slack: float, k: int) -> np.ndarray:
    """Add the skipped terms to the candidates' partial scores, largest bound first, dropping each
    candidate that can no longer reach ``theta``, raised as the partial scores grow (the
    candidates hold every passage whose partial score is among the k best)."""
    for t in [*lazy, None]:
        if len(partial) >= k:
            theta = max(theta, float(np.partition(partial, len(partial) - k)[len(partial) - k]))
        keep = partial + rest >= theta - slack
        cand, partial = cand[keep], partial[keep]
        if t is None:
            return cand
        found, at = lookup(docs, t, cand)
        partial[found] += impacts[at] * t.factor
        rest -= t.bound
    return cand


def lookup(docs: np.ndarray, t: Term, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which of the sorted passages ``cand`` the term holds, where their postings are)."""
    own = docs[t.start:t.end]
    at = np.searchsorted(own, cand)
    at[at == len(own)] = 0
    found = own[at] == cand if len(own) else np.zeros(len(cand), dtype=bool)
    return found, at[found] + t.start


def exact(docs, impacts, terms: Sequence[Term], cand: np.ndarray) -> np.ndarray:
    """The full scores of ``cand``, each term's float32 contribution added in float64 in the
    question's order: the sums exhaustive scoring (``np.bincount``) makes, bit for bit."""
    scores = np.zeros(len(cand), dtype=np.float64)
    for t in terms:
        found, at = lookup(docs, t, cand)
        scores[found] += (impacts[at] * t.factor).astype(np.float64)
    return scores
