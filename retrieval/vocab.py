"""The index's vocabulary and the term counts it is made of, shared by the build
(``postings``, ``counting``) and the index (``index``).

Term ids below ``len(words)`` are words; above them, Han grams by code (``retrieval.grams``).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import grams

NO_CODES = np.zeros(0, dtype=np.int64)


@dataclass
class Counts:
    """Term counts of passages: ``tfs[i]`` of term ``term_ids[i]`` in passage ``doc_ids[i]``. Term ids
    below ``len(words)`` are words; above, Han grams by code (``grams``, see ``retrieval.grams``),
    each once, in any order."""
    words: list[str]
    grams: np.ndarray
    term_ids: np.ndarray
    doc_ids: np.ndarray
    tfs: np.ndarray
    size: int  # passages, including any without terms

    @property
    def terms(self) -> list[str]:
        """Every term as a string, by term id."""
        return self.words + grams.terms(self.grams)

    @classmethod
    def of(cls, docs: Sequence[Sequence[str]], numbers: Sequence[int] | None = None) -> "Counts":
        """Count term lists (one a passage), passage i numbered ``numbers[i]`` (default i)."""
        vocab: dict[str, int] = {}
        ids = [vocab.setdefault(t, len(vocab)) for d in docs for t in d]
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d) for d in docs])
        width = max(len(vocab), 1)
        keys, tfs = count_keys(doc_of, np.asarray(ids, dtype=np.int64), width)
        number = np.asarray(numbers if numbers is not None else range(len(docs)), dtype=np.int64)
        words, codes, place = split_terms(list(vocab))
        return cls(words, codes, place[keys % width], number[keys // width] if len(keys) else keys,
                   tfs.astype(np.float32), len(docs))


def split_terms(terms: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(the words, the gram codes, each term's id in words + grams) of a list of distinct terms."""
    codes = [grams.code(t) for t in terms]
    is_gram = np.array([c is not None for c in codes], dtype=bool)
    place = np.empty(len(terms), dtype=np.int64)
    place[~is_gram] = np.arange(int((~is_gram).sum()))
    place[is_gram] = np.arange(int((~is_gram).sum()), len(terms))
    return ([t for t, g in zip(terms, is_gram) if not g],
            np.asarray([c for c in codes if c is not None], dtype=np.int64), place)


def count_keys(doc_of: np.ndarray, term_of: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (passage, term) pairs as ``passage * width + term``, sorted, and how often each
    occurs: a sort of values, not an argsort, which is many times faster."""
    keys = doc_of * width
    keys += term_of
    keys.sort()
    if not len(keys):
        return keys, keys
    first = np.flatnonzero(keys[1:] != keys[:-1])
    first += 1
    first = np.concatenate([[0], first])
    return keys[first], np.diff(first, append=len(keys))


class Vocabulary:
    """The index's terms: words sorted, then gram codes sorted; a term's id is its place, found by
    binary search. Loading a million-term index then builds no dict and makes no strings."""

    def __init__(self, words: list[str], codes: np.ndarray = NO_CODES):
        self.words, self.codes = words, codes
        self.known: dict[str, int | None] = {}  # a question looks each of its terms up several times

    @property
    def terms(self) -> list[str]:
        return self.words + grams.terms(self.codes)

    def get(self, term: str, default: int | None = None) -> int | None:
        found = self.known.get(term, -1)
        if found == -1:
            if len(self.known) > 100_000:
                self.known.clear()
            found = self.known[term] = self.find(term)
        return default if found is None else found

    def find(self, term: str) -> int | None:
        code = grams.code(term)
        if code is not None:
            i = int(np.searchsorted(self.codes, code))
            return len(self.words) + i if i < len(self.codes) and self.codes[i] == code else None
        i = bisect_left(self.words, term)
        return i if i < len(self.words) and self.words[i] == term else None

    def __getitem__(self, term: str) -> int:
        i = self.get(term)
        if i is None:
            raise KeyError(term)
        return i

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return len(self.words) + len(self.codes)

    def __iter__(self):
        return iter(self.terms)

    def items(self):
        return zip(self.terms, range(len(self)))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self.words == other.words
                and np.array_equal(self.codes, other.codes))
