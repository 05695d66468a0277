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

FIRST_SHARE = 0.1  # of the postings: the rarest terms scored first, to find passages to probe
PROBE = 3  # times k: passages scored in full for a first k-th best score
LOOKUP_COST = 0.5  # a binary search's step against adding a posting: look terms up for fewer candidates
RAISE_FROM = 4096  # candidates: at most this many, their k-th best partial score raises θ
MARGIN = 1e-6  # relative: bounds are compared with this slack, far above any rounding of the sums


class Term(NamedTuple):
    start: int  # its postings: docs[start:end], impacts[start:end]
    end: int
    factor: np.float32  # query weight · idf: a posting adds impact · factor (float32, as ``scores``)
    bound: float  # the most it adds to any passage: factor · its highest impact

    @property
    def length(self) -> int:
        return self.end - self.start


def top(docs: np.ndarray, impacts: np.ndarray, partial: np.ndarray, terms: Sequence[Term],
        k: int) -> list[tuple[int, float]] | None:
    """The ``k`` best (passage, score) pairs, best first, of the terms (in the question's order);
    None when no term can be skipped (then exhaustive scoring costs no more). ``partial``: an
    array of a float64 a passage to work in (zeroed here; reused, as fresh memory costs more).

    1. The rarest terms (a tenth of the postings) are scored; the best passages they find are
       scored in full: their k-th best score is a lower bound of the k-th best there is (θ).
    2. The terms with the smallest bounds, summing to less than θ, are skipped; the rest scored.
    3. Only a passage whose partial score plus the skipped bounds reaches θ can make the top k:
       the skipped terms are added to those (``narrow``), which are then scored in full."""
    if not terms or k <= 0:
        return []
    partial.fill(0)
    by_length = sorted(range(len(terms)), key=lambda i: terms[i].length)
    first = rarest(terms, by_length)
    for i in first:
        add(partial, docs, impacts, terms[i])
    slack = MARGIN * sum(t.bound for t in terms)
    touched = np.concatenate([docs[terms[i].start:terms[i].end] for i in first])
    theta = probe(docs, impacts, terms, partial, touched, len(first), k)
    lazy = skippable([i for i in by_length if i not in first], terms, theta - slack)
    if not lazy:
        return None
    for i in by_length:
        if i not in first and i not in lazy:
            add(partial, docs, impacts, terms[i])
    rest = sum(terms[i].bound for i in lazy)
    cand = np.flatnonzero(partial >= theta - rest - slack)  # above 0: rest < theta - slack
    cand = narrow(docs, impacts, [terms[i] for i in sorted(lazy, key=lambda i: -terms[i].bound)], cand,
                  partial, rest, theta, slack, k)
    scores = exact(docs, impacts, terms, cand)
    best = np.lexsort((cand, -scores))[:k]
    return [(int(d), float(s)) for d, s in zip(cand[best], scores[best])]


def add(partial: np.ndarray, docs: np.ndarray, impacts: np.ndarray, t: Term) -> None:
    """Add a term's postings to the passages' partial scores (its passages are distinct, so a
    fancy-index add is exact)."""
    partial[docs[t.start:t.end]] += impacts[t.start:t.end] * t.factor


def rarest(terms: Sequence[Term], by_length: list[int]) -> list[int]:
    """The rarest terms, holding a tenth of the postings (one term at least)."""
    total = sum(t.length for t in terms)
    first: list[int] = []
    taken = 0
    for i in by_length:
        if first and taken + terms[i].length > total * FIRST_SHARE:
            break
        first.append(i)
        taken += terms[i].length
    return first


def probe(docs, impacts, terms: Sequence[Term], partial: np.ndarray, touched: np.ndarray, rounds: int, k: int) -> float:
    """A lower bound of the k-th best score: the k-th best full score of the passages best by
    ``partial`` (0 when fewer than k have one)."""
    values = partial[touched]
    some = min(len(values), PROBE * k * rounds)  # a passage is in as many postings as it has terms
    picked = distinct(touched[np.argpartition(values, len(values) - some)[len(values) - some:]])
    if len(picked) < k:
        return 0.0
    best = picked[np.argpartition(partial[picked], len(picked) - min(len(picked), PROBE * k))[-PROBE * k:]]
    full = exact(docs, impacts, terms, np.sort(best))
    return float(np.partition(full, len(full) - k)[len(full) - k])


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


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique hashes: several times slower on these)."""
    ordered = np.sort(values)
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    return ordered[new]


def narrow(docs, impacts, lazy: Sequence[Term], cand: np.ndarray, partial: np.ndarray, rest: float,
           theta: float, slack: float, k: int) -> np.ndarray:
    """Add the skipped terms to the candidates' partial scores (``partial``: of every passage),
    largest bound first, dropping each candidate that can no longer reach ``theta``, raised as
    the partial scores grow (the candidates hold every passage whose partial score is among the
    k best). A term is looked up for the candidates, or, while they are many, its postings added."""
    for t in [*lazy, None]:
        held = partial[cand]
        if k <= len(held) <= RAISE_FROM:  # θ from probing is near the true one: raise it when cheap
            theta = max(theta, float(np.partition(held, len(held) - k)[len(held) - k]))
        cand = cand[held + rest >= theta - slack]
        if t is None:
            return cand
        if len(cand) * LOOKUP_COST * max(t.length, 2).bit_length() < t.length:
            found, at = lookup(docs, t, cand)
            partial[cand[found]] += impacts[at] * t.factor
        else:
            add(partial, docs, impacts, t)
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
