"""The BM25 index over token lists: build, save, load, score, top-k.

Postings are stored column-wise (CSR by term): for each term the passages it
occurs in and its precomputed BM25 impact there, so a question costs one
vectorised add per question term, not a pass over every passage.
Saved as .npy arrays and JSON, loaded memory-mapped; never pickled.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

from .errors import IndexStoreError
from . import pruning
from .postings import Merger
from .scoring import BM25Settings, idf
from .vocab import Counts, Vocabulary

__all__ = ["ARRAYS", "BM25Index", "BM25Settings", "Counts", "Vocabulary"]

ARRAYS = ("indptr", "docs", "tfs", "impacts", "df", "doc_len", "max_impact")
PRUNE_FROM = 300_000  # postings of a question: below this scoring them all is quicker (numpy calls per term)


class BM25Index:
    """Lucene-variant BM25: idf = ln(1 + (N - df + .5)/(df + .5)), tf part tf·(k1+1)/(tf + k1·norm)."""

    def __init__(self, vocab: "Vocabulary", arrays: dict[str, np.ndarray], settings: BM25Settings):
        self.vocab = vocab
        self.settings = settings
        self.indptr, self.docs, self.impacts = arrays["indptr"], arrays["docs"], arrays["impacts"]
        self.tfs = arrays["tfs"]
        self.df, self.doc_len = arrays["df"], arrays["doc_len"]
        self.max_impact = arrays["max_impact"]  # of each term: bounds its postings' scores
        # plain views of the (memory-mapped) postings: a memmap's slice costs a Python call more
        self.postings = np.asarray(self.docs), np.asarray(self.impacts)
        self.scratch = threading.local()  # each thread's partial scores, kept for its next question
        self.size = len(self.doc_len)
        self.unseen_idf = self.idf_of(0)

    @classmethod
    def from_counts(cls, counts: "Counts", settings: BM25Settings = BM25Settings()) -> "BM25Index":
        """An index from (term, passage, tf) counts. The vocabulary is sorted and postings ordered
        by (term, passage), so the same counts give the same arrays however they were gathered:
        an incremental build equals a full one byte for byte."""
        return cls.gathered(Merger(counts.size, [counts]), settings)

    @classmethod
    def gathered(cls, merger: Merger, settings: BM25Settings, folder: Path | None = None) -> "BM25Index":
        """The index of what ``merger`` gathered; with ``folder``, its arrays are made in their files there."""
        vocab, arrays = merger.arrays(settings, folder)
        return cls(vocab, arrays, settings)

    def counts(self) -> "Counts":
        """The (term, passage, tf) counts this index was made of (the benchmark's references are
        made of them; an incremental build carries postings over in slices, ``counting.Carried``)."""
        term_ids = np.repeat(np.arange(len(self.df), dtype=np.int64), self.df)
        return Counts(self.vocab.words, np.asarray(self.vocab.codes), term_ids, np.asarray(self.docs),
                      np.asarray(self.tfs), self.size)

    def idf_of(self, df: int | np.ndarray) -> float | np.ndarray:
        return idf(self.size, df)

    def df_of(self, term: str) -> int:
        tid = self.vocab.get(term)
        return int(self.df[tid]) if tid is not None else 0

    def idf(self, term: str) -> float:
        tid = self.vocab.get(term)
        return float(self.idf_of(self.df[tid]) if tid is not None else self.unseen_idf)

    def terms(self, weighted_terms: dict[str, float]) -> list[pruning.Term]:
        """The question's terms found in the index, in its order, with their postings and bounds."""
        out = []
        for term, weight in weighted_terms.items():
            tid = self.vocab.get(term)
            if tid is not None:
                factor = np.float32(weight * self.idf_of(self.df[tid]))
                out.append(pruning.Term(int(self.indptr[tid]), int(self.indptr[tid + 1]), factor,
                                        float(factor * self.max_impact[tid])))
        return out

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every passage for terms with query weights."""
        terms = self.terms(weighted_terms)
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        # one bincount over all postings: a single pass in C, where a += per term gathers,
        # adds and scatters the whole score array again for every term
        return pruning.accumulate(*self.postings, self.size, terms)[0]

    def top(self, weighted_terms: dict[str, float], k: int) -> list[tuple[int, float]]:
        """The ``k`` best (passage, score) pairs with a score above zero, best first; ties by
        passage. What cannot make the top k is skipped (``retrieval.pruning``), with the result of
        ``exhaustive_top``."""
        terms = self.terms(weighted_terms)
        if k <= 0 or not terms:
            return []
        if sum(t.length for t in terms) >= PRUNE_FROM and all(t.factor > 0 for t in terms):
            found = self.pruned_top(terms, k)
            if found is not None:
                return found
        return self.exhaustive_top(weighted_terms, k)

    def pruned_top(self, terms: list[pruning.Term], k: int) -> list[tuple[int, float]] | None:
        work = getattr(self.scratch, "partial", None)
        if work is None:
            work = self.scratch.partial = np.zeros(self.size, dtype=np.float64)
        return pruning.top(*self.postings, work, terms, k)

    def exhaustive_top(self, weighted_terms: dict[str, float], k: int) -> list[tuple[int, float]]:
        """``top`` with every posting scored."""
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


def same_file(a, b) -> bool:
    """Whether two paths name one file, however spelt (``..``, symlinks): numpy keeps a normalised path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
