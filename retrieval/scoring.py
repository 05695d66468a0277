"""The BM25 formula, Lucene's variant, in one place: the index stores each posting's tf part,
a question multiplies it by its term's idf and weight.

    idf = ln(1 + (N − df + 0.5) / (df + 0.5))      tf part = tf·(k1 + 1) / (tf + k1·(1 − b + b·dl/avgdl))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BM25Settings:
    k1: float = 0.9
    b: float = 0.4


def idf(size: int, df: int | np.ndarray) -> float | np.ndarray:
    """Of a term in ``df`` of ``size`` passages; never negative, so no posting lowers a score."""
    return np.log1p((size - df + 0.5) / (df + 0.5))


def average_length(doc_len: np.ndarray) -> float:
    """avgdl, summed in float64: lengths are whole numbers, so the sum is exact and the same in
    whatever order or parts it is taken (a sharded index sums its shards' totals)."""
    return float(doc_len.sum(dtype=np.float64)) / len(doc_len) if len(doc_len) else 1.0


def length_norm(doc_len: np.ndarray, s: BM25Settings, avgdl: float | None = None) -> np.ndarray:
    """k1·(1 − b + b·dl/avgdl) of each passage (``avgdl``: of the whole collection, when these are a part)."""
    avgdl = average_length(doc_len) if avgdl is None else avgdl
    return (s.k1 * (1 - s.b + s.b * doc_len / max(avgdl, 1e-9))).astype(np.float32)


def tf_part(tf: np.ndarray, norm: np.ndarray, s: BM25Settings) -> np.ndarray:
    return (tf * (s.k1 + 1) / (tf + norm)).astype(np.float32)
