"""The BM25 index over token lists: build, save, load, score, top-k.

Postings are stored column-wise (CSR by term): for each term the passages it
occurs in and its precomputed BM25 impact there, so a question costs one
vectorised add per question term, not a pass over every passage.
Saved as .npy arrays and JSON, loaded memory-mapped; never pickled.
"""
from __future__ import annotations

import json
import os
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from . import grams
from .errors import IndexStoreError

ARRAYS = ("indptr", "docs", "tfs", "impacts", "df", "doc_len")


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


@dataclass(frozen=True)
class BM25Settings:
    k1: float = 0.9
    b: float = 0.4


class BM25Index:
    """Lucene-variant BM25: idf = ln(1 + (N - df + .5)/(df + .5)), tf part tf·(k1+1)/(tf + k1·norm)."""

    def __init__(self, vocab: "Vocabulary", arrays: dict[str, np.ndarray], settings: BM25Settings):
        self.vocab = vocab
        self.settings = settings
        self.indptr, self.docs, self.impacts = arrays["indptr"], arrays["docs"], arrays["impacts"]
        self.tfs = arrays["tfs"]
        self.df, self.doc_len = arrays["df"], arrays["doc_len"]
        self.size = len(self.doc_len)
        self.unseen_idf = self.idf_of(0)

    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], settings: BM25Settings = BM25Settings()) -> "BM25Index":
        """An index over term lists, one list a passage."""
        counts = Counts.of([list(d) for d in docs])
        return cls.from_counts(counts, settings)

    @classmethod
    def from_counts(cls, counts: "Counts", settings: BM25Settings = BM25Settings()) -> "BM25Index":
        """An index from (term, passage, tf) counts. The vocabulary is sorted and postings ordered
        by (term, passage), so the same counts give the same arrays however they were gathered:
        an incremental build equals a full one byte for byte."""
        from .postings import Merger

        return Merger(counts.size, [counts]).index(settings)

    def counts(self) -> "Counts":
        """The (term, passage, tf) counts this index was made of (the benchmark's references are
        made of them; an incremental build carries postings over in slices, ``counting.Carried``)."""
        term_ids = np.repeat(np.arange(len(self.df), dtype=np.int64), self.df)
        return Counts(self.vocab.words, np.asarray(self.vocab.codes), term_ids, np.asarray(self.docs),
                      np.asarray(self.tfs), self.size)

    def idf_of(self, df: int | np.ndarray) -> float | np.ndarray:
        return np.log1p((self.size - df + 0.5) / (df + 0.5))

    def df_of(self, term: str) -> int:
        tid = self.vocab.get(term)
        return int(self.df[tid]) if tid is not None else 0

    def idf(self, term: str) -> float:
        tid = self.vocab.get(term)
        return float(self.idf_of(self.df[tid]) if tid is not None else self.unseen_idf)

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every passage for terms with query weights."""
        docs, values = [], []
        for term, weight in weighted_terms.items():
            tid = self.vocab.get(term)
            if tid is None:
                continue
            s, e = self.indptr[tid], self.indptr[tid + 1]
            docs.append(self.docs[s:e])
            values.append(self.impacts[s:e] * np.float32(weight * self.idf_of(self.df[tid])))
        if not docs:
            return np.zeros(self.size, dtype=np.float32)
        # one bincount over all postings: a single pass in C, where a += per term gathers,
        # adds and scatters the whole score array again for every term
        return np.bincount(np.concatenate(docs), weights=np.concatenate(values), minlength=self.size)

    def top(self, weighted_terms: dict[str, float], k: int) -> list[tuple[int, float]]:
        """The ``k`` best (passage, score) pairs with a score above zero, best first."""
        scores = self.scores(weighted_terms)
        hit = np.flatnonzero(scores > 0)  # usually a small part of the index: select among these only
        if k <= 0 or not len(hit):
            return []
        if len(hit) > k:
            # argpartition is linear; sorting only the winners keeps top-k cheap on big indexes.
            # Every passage tied with the k-th score is kept, so ties break by passage order.
            kth = np.partition(scores[hit], len(hit) - k)[len(hit) - k]
            hit = hit[scores[hit] >= kth]
        best = hit[np.lexsort((hit, -scores[hit]))][:k]
        return [(int(i), float(scores[i])) for i in best]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ARRAYS:
            array = getattr(self, name)
            if isinstance(array, np.memmap) and same_file(array.filename, folder / f"{name}.npy"):
                pass  # made in place by Merger.index; the system writes it out (as it does np.save's)
            else:
                np.save(folder / f"{name}.npy", array, allow_pickle=False)
        (folder / "vocab.json").write_text(json.dumps(self.vocab.words, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "grams.npy", np.asarray(self.vocab.codes, dtype=np.int64), allow_pickle=False)
        meta = {"k1": self.settings.k1, "b": self.settings.b, "size": self.size}
        (folder / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        try:
            meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
            words = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            codes = np.load(folder / "grams.npy", mmap_mode="r", allow_pickle=False)
            arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in ARRAYS}
        except (OSError, ValueError, EOFError, KeyError) as exc:
            raise IndexStoreError(f"index in {folder} is unreadable ({exc}); run `qabot index` to rebuild it") from exc
        if len(words) + len(codes) + 1 != len(arrays["indptr"]) or meta["size"] != len(arrays["doc_len"]):
            raise IndexStoreError(f"index in {folder} is inconsistent; run `qabot index` to rebuild it")
        return cls(Vocabulary(words, codes), arrays, BM25Settings(meta["k1"], meta["b"]))


def length_norm(doc_len: np.ndarray, s: BM25Settings) -> np.ndarray:
    """k1·(1 − b + b·dl/avgdl) of each passage."""
    avgdl = float(doc_len.mean()) if len(doc_len) else 1.0
    return (s.k1 * (1 - s.b + s.b * doc_len / max(avgdl, 1e-9))).astype(np.float32)


def tf_part(tf: np.ndarray, norm: np.ndarray, s: BM25Settings) -> np.ndarray:
    return (tf * (s.k1 + 1) / (tf + norm)).astype(np.float32)


def same_file(a, b) -> bool:
    """Whether two paths name one file, however spelt (``..``, symlinks): numpy keeps a normalised path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
