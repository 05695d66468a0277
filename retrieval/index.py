"""The BM25 index over token lists: build, save, load, score, top-k.

Postings are stored column-wise (CSR by term): for each term the passages it
occurs in and its precomputed BM25 impact there, so a question costs one
vectorised add per question term, not a pass over every passage.
Saved as .npy arrays and JSON, loaded memory-mapped; never pickled.
"""
from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import IndexStoreError

ARRAYS = ("indptr", "docs", "tfs", "impacts", "df", "doc_len")


@dataclass
class Counts:
    """Term counts of passages: ``tfs[i]`` of term ``terms[term_ids[i]]`` in passage ``doc_ids[i]``."""
    terms: list[str]
    term_ids: np.ndarray
    doc_ids: np.ndarray
    tfs: np.ndarray
    size: int  # passages, including any without terms

    @classmethod
    def of(cls, docs: Sequence[Sequence[str]], numbers: Sequence[int] | None = None) -> "Counts":
        """Count term lists (one a passage), passage i numbered ``numbers[i]`` (default i)."""
        vocab: dict[str, int] = {}
        ids = [vocab.setdefault(t, len(vocab)) for d in docs for t in d]
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d) for d in docs])
        # one int64 key per (passage, term) pair; np.unique counts them without Python loops
        keys, tfs = np.unique(doc_of * max(len(vocab), 1) + np.asarray(ids, dtype=np.int64), return_counts=True)
        width = max(len(vocab), 1)
        number = np.asarray(numbers if numbers is not None else range(len(docs)), dtype=np.int64)
        return cls(list(vocab), keys % width, number[keys // width] if len(keys) else keys, tfs.astype(np.float32),
                   len(docs))

    def without_unused_terms(self) -> "Counts":
        """The same counts with terms that no passage holds (any more) dropped from ``terms``."""
        used = np.zeros(len(self.terms), dtype=bool)
        used[self.term_ids] = True
        if used.all():
            return self
        renumber = np.cumsum(used) - 1
        terms = [t for t, u in zip(self.terms, used) if u]
        return Counts(terms, renumber[self.term_ids], self.doc_ids, self.tfs, self.size)

    @classmethod
    def join(cls, parts: Iterable["Counts"]) -> "Counts":
        """Counts of disjoint passage sets (each numbered in the whole), as one."""
        merger = Merger()
        for part in parts:
            merger.add(part)
        return merger.counts()


class Merger:
    """Joins Counts one at a time, so merging vocabularies can go on while workers still count."""

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.size = 0

    def add(self, part: Counts) -> None:
        vocab = self.vocab
        mapping = np.fromiter((vocab.setdefault(t, len(vocab)) for t in part.terms), dtype=np.int64,
                              count=len(part.terms))
        term_ids = mapping[part.term_ids] if len(part.terms) else part.term_ids.astype(np.int64)
        self.parts.append((term_ids, part.doc_ids.astype(np.int64), part.tfs.astype(np.float32)))
        self.size += part.size

    def counts(self) -> Counts:
        def cat(i, dtype):
            return np.concatenate([p[i] for p in self.parts]) if self.parts else np.zeros(0, dtype)
        return Counts(list(self.vocab), cat(0, np.int64), cat(1, np.int64), cat(2, np.float32), self.size)


class Vocabulary:
    """The index's terms, sorted; a term's id is its place, found by binary search. Loading a
    million-term index then builds no dict (that took longer than reading the arrays)."""

    def __init__(self, terms: list[str]):
        self.terms = terms

    def get(self, term: str, default: int | None = None) -> int | None:
        i = bisect_left(self.terms, term)
        return i if i < len(self.terms) and self.terms[i] == term else default

    def __getitem__(self, term: str) -> int:
        i = self.get(term)
        if i is None:
            raise KeyError(term)
        return i

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self):
        return iter(self.terms)

    def items(self):
        return zip(self.terms, range(len(self.terms)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.terms == other.terms


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
        counts = counts.without_unused_terms()
        order = np.asarray(sorted(range(len(counts.terms)), key=counts.terms.__getitem__), dtype=np.int64)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        term_ids = rank[counts.term_ids]
        by = np.argsort(term_ids * max(counts.size, 1) + counts.doc_ids, kind="stable")  # by (term, passage)
        term_ids, doc_ids, tfs = term_ids[by], counts.doc_ids[by].astype(np.int32), counts.tfs[by].astype(np.float32)
        df = np.bincount(term_ids, minlength=len(order)).astype(np.int32)
        indptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        doc_len = np.bincount(doc_ids, weights=tfs, minlength=counts.size).astype(np.float32)
        impacts = tf_part(tfs, doc_len[doc_ids], float(doc_len.mean()) if counts.size else 1.0, settings)
        arrays = {"indptr": indptr, "docs": doc_ids, "tfs": tfs, "impacts": impacts, "df": df, "doc_len": doc_len}
        terms = [counts.terms[i] for i in order]
        return cls(Vocabulary(terms), arrays, settings)

    def counts(self) -> "Counts":
        """The (term, passage, tf) counts this index was made of, to reuse in the next build."""
        term_ids = np.repeat(np.arange(len(self.df), dtype=np.int64), self.df)
        terms = self.vocab.terms
        return Counts(terms, term_ids, np.asarray(self.docs), np.asarray(self.tfs), self.size)

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
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        terms = self.vocab.terms
        (folder / "vocab.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        meta = {"k1": self.settings.k1, "b": self.settings.b, "size": self.size}
        (folder / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        try:
            meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
            terms = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in ARRAYS}
        except (OSError, ValueError, EOFError, KeyError) as exc:
            raise IndexStoreError(f"index in {folder} is unreadable ({exc}); run `qabot index` to rebuild it") from exc
        if len(terms) + 1 != len(arrays["indptr"]) or meta["size"] != len(arrays["doc_len"]):
            raise IndexStoreError(f"index in {folder} is inconsistent; run `qabot index` to rebuild it")
        return cls(Vocabulary(terms), arrays, BM25Settings(meta["k1"], meta["b"]))


def tf_part(tf: np.ndarray, dl: np.ndarray, avgdl: float, s: BM25Settings) -> np.ndarray:
    norm = s.k1 * (1 - s.b + s.b * dl / max(avgdl, 1e-9))
    return (tf * (s.k1 + 1) / (tf + norm)).astype(np.float32)

