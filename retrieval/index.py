"""The BM25 index over token lists: build, save, load, score, top-k.

Postings are stored column-wise (CSR by term): for each term the passages it
occurs in and its precomputed BM25 impact there, so a question costs one
vectorised add per question term, not a pass over every passage.
Saved as .npy arrays and JSON, loaded memory-mapped; never pickled.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import IndexStoreError

ARRAYS = ("indptr", "docs", "impacts", "df", "doc_len")


@dataclass(frozen=True)
class BM25Settings:
    k1: float = 0.9
    b: float = 0.4


class BM25Index:
    """Lucene-variant BM25: idf = ln(1 + (N - df + .5)/(df + .5)), tf part tf·(k1+1)/(tf + k1·norm)."""

    def __init__(self, vocab: dict[str, int], arrays: dict[str, np.ndarray], settings: BM25Settings):
        self.vocab = vocab
        self.settings = settings
        self.indptr, self.docs, self.impacts = arrays["indptr"], arrays["docs"], arrays["impacts"]
        self.df, self.doc_len = arrays["df"], arrays["doc_len"]
        self.size = len(self.doc_len)
        self.unseen_idf = self.idf_of(0)

    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], settings: BM25Settings = BM25Settings()) -> "BM25Index":
        vocab: dict[str, int] = {}
        rows: list[list[tuple[int, int]]] = []  # per term: (doc, tf)
        lengths = []
        for doc_id, terms in enumerate(docs):
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                tid = vocab.setdefault(term, len(vocab))
                if tid == len(rows):
                    rows.append([])
                rows[tid].append((doc_id, tf))
        doc_len = np.asarray(lengths, dtype=np.float32)
        df = np.fromiter((len(r) for r in rows), dtype=np.int32, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        flat = np.fromiter((x for r in rows for pair in r for x in pair), dtype=np.int64, count=2 * int(indptr[-1]))
        doc_ids, tfs = flat[0::2].astype(np.int32), flat[1::2].astype(np.float32)
        impacts = tf_part(tfs, doc_len[doc_ids], doc_len.mean() if len(doc_len) else 1.0, settings)
        arrays = {"indptr": indptr, "docs": doc_ids, "impacts": impacts, "df": df, "doc_len": doc_len}
        return cls(vocab, arrays, settings)

    def idf_of(self, df: int | np.ndarray) -> float | np.ndarray:
        return np.log1p((self.size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        tid = self.vocab.get(term)
        return float(self.idf_of(self.df[tid]) if tid is not None else self.unseen_idf)

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every passage for terms with query weights."""
        scores = np.zeros(self.size, dtype=np.float32)
        for term, weight in weighted_terms.items():
            tid = self.vocab.get(term)
            if tid is None:
                continue
            s, e = self.indptr[tid], self.indptr[tid + 1]
            # each passage appears once per term, so a fancy-indexed += adds correctly
            scores[self.docs[s:e]] += np.float32(weight * self.idf_of(self.df[tid])) * self.impacts[s:e]
        return scores

    def top(self, weighted_terms: dict[str, float], k: int) -> list[tuple[int, float]]:
        """The ``k`` best (passage, score) pairs with a score above zero, best first."""
        scores = self.scores(weighted_terms)
        k = min(k, self.size)
        if k <= 0:
            return []
        # argpartition is linear; sorting only the winners keeps top-k cheap on big indexes.
        # Every passage tied with the k-th score is kept, so ties break by passage order.
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
        best = np.flatnonzero(scores >= kth)
        best = best[np.lexsort((best, -scores[best]))][:k]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
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
        return cls({t: i for i, t in enumerate(terms)}, arrays, BM25Settings(meta["k1"], meta["b"]))


def tf_part(tf: np.ndarray, dl: np.ndarray, avgdl: float, s: BM25Settings) -> np.ndarray:
    norm = s.k1 * (1 - s.b + s.b * dl / max(avgdl, 1e-9))
    return (tf * (s.k1 + 1) / (tf + norm)).astype(np.float32)

