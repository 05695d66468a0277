"""Scoring alone, qabot vs rank-bm25 vs bm25s, on the same passages and tokens, interleaved per question.

The reference libraries get each passage's terms as qabot's index holds them (``Bags``, from
``BM25Index.counts()``: a bag of words, each term repeated tf times, which is all BM25 sees)
and each question's analysed terms, with qabot's k1 and b. qabot is timed on ``BM25Index.top``
with the question's weighted terms (as ``search`` passes them); rank-bm25 on ``get_scores`` plus
an argpartition top-10; bm25s on ``retrieve(k=10)`` of one question. Interleaving the three per
question keeps a noisy neighbour from favouring whichever library ran in a quiet minute.
"""
from __future__ import annotations

import numpy as np

from measure import K, RANK_BM25_FULL, RANK_BM25_MAX, RANK_BM25_SAMPLE, stats_ms, timed

BM25S_INDEX_MAX = RANK_BM25_MAX  # above this bm25s's own index() (Python loops, lists of ints) is replaced


class Bags:
    """Each passage's terms from an index: ``bags[i]`` is passage i's term list (tf repeats)."""

    def __init__(self, index):
        counts = index.counts()
        self.terms = counts.terms  # term id → term (the index's sorted vocabulary)
        self.size = counts.size
        # counts come ordered by (term, passage): reorder by passage, keep term order inside
        order = np.argsort(counts.doc_ids, kind="stable")
        self.term_ids = counts.term_ids[order].astype(np.int32)
        self.tfs = np.rint(counts.tfs[order]).astype(np.int32)
        self.starts = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(counts.doc_ids, minlength=self.size), out=self.starts[1:])
        self.counts = counts  # (term, passage) order: bm25s's column-major layout

    def __len__(self) -> int:
        return self.size

    def ids(self, i: int) -> np.ndarray:
        s, e = self.starts[i], self.starts[i + 1]
        return np.repeat(self.term_ids[s:e], self.tfs[s:e])

    def __getitem__(self, i: int) -> list[str]:
        terms = self.terms
        return [terms[t] for t in self.ids(i).tolist()]

    def tokens(self) -> int:
        return int(self.tfs.sum())


def rank_top(model, terms: list[str], k: int):
    scores = model.get_scores(terms)
    k = min(k, len(scores))
    return np.argpartition(-scores, k - 1)[:k]


def compare(index, bags: Bags, queries: list[dict[str, float]], settings) -> dict:
    import bm25s
    from rank_bm25 import BM25Okapi

    n = len(bags)
    notes: list[str] = []
    build_s: dict[str, float] = {}
    if n <= BM25S_INDEX_MAX:
        build_s["bm25s"], engine = timed(bm25s_index, bm25s, bags, settings)
    else:
        build_s["bm25s_arrays"], engine = timed(bm25s_from_counts, bm25s, bags, settings)
        notes.append(f"bm25s index made from the counts with bm25s's own lucene formulas, vectorised "
                     f"(its index() loops in Python over {n} passages); retrieve() is bm25s's own")
    rank = None
    if n <= RANK_BM25_MAX:
        build_s["rank_bm25"], rank = timed(BM25Okapi, [bags[i] for i in range(n)], k1=settings.k1, b=settings.b)
    else:
        notes.append(f"rank-bm25 skipped: {n:,} passages > {RANK_BM25_MAX:,} (seconds a question)")
    rank_n = len(queries) if n <= RANK_BM25_FULL else min(RANK_BM25_SAMPLE, len(queries))
    if rank is not None and rank_n < len(queries):
        notes.append(f"rank-bm25 timed on the first {rank_n} questions")
    t: dict[str, list[float]] = {"qabot": [], "bm25s": [], "rank_bm25": []}
    overlap = []
    k = min(K, n)
    for i, weights in enumerate(queries):
        terms = list(weights)
        dt, _ = timed(index.top, weights, k)
        t["qabot"].append(dt)
        dt, (ids, _) = timed(engine.retrieve, [terms], k=k, show_progress=False)
        t["bm25s"].append(dt)
        if rank is not None and i < rank_n:
            t["rank_bm25"].append(timed(rank_top, rank, terms, k)[0])
        # agreement check on unweighted terms (bm25s has no query weights)
        plain = {d for d, _ in index.top(dict.fromkeys(terms, 1.0), k)}
        if plain:
            overlap.append(len(plain & set(ids[0].tolist())) / len(plain))
    del rank
    out = {name: stats_ms(v) for name, v in t.items()}
    out["build_s"] = build_s
    out["top10_agreement_bm25s"] = float(np.mean(overlap)) if overlap else None
    out["ratios"] = {
        "bm25s_over_qabot": float(np.median(t["bm25s"]) / np.median(t["qabot"])),
        # over the questions rank-bm25 was given, against qabot's times on those same questions
        "rank_bm25_over_qabot": (float(np.median(t["rank_bm25"]) / np.median(t["qabot"][:len(t["rank_bm25"])]))
                                 if t["rank_bm25"] else None),
    }
    out["bm25s_batch_qps"] = _bm25s_batch(engine, queries, k)
    out["notes"] = notes
    return out


def bm25s_index(bm25s, bags: Bags, settings):
    """bm25s's own ``index()`` on the passages' term ids (its vocabulary: the index's terms)."""
    engine = bm25s.BM25(method="lucene", k1=settings.k1, b=settings.b)
    vocab = {t: i for i, t in enumerate(bags.terms)}
    engine.index(bm25s.tokenization.Tokenized(ids=[bags.ids(i).tolist() for i in range(len(bags))], vocab=vocab),
                 show_progress=False)
    return engine


def bm25s_from_counts(bm25s, bags: Bags, settings):
    """The arrays ``bm25s_index`` would make (same formulas: lucene idf and tf part, float32,
    column-major by term), computed with numpy from the counts; tests check they are equal."""
    c = bags.counts
    engine = bm25s.BM25(method="lucene", k1=settings.k1, b=settings.b)
    n = c.size
    df = np.bincount(c.term_ids, minlength=len(c.terms))
    idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(engine.dtype)
    doc_len = np.bincount(c.doc_ids, weights=c.tfs, minlength=n)
    avg = doc_len.mean()
    tf = c.tfs.astype(engine.dtype)
    tfc = tf / (settings.k1 * ((1 - settings.b) + settings.b * doc_len[c.doc_ids] / avg) + tf)
    indptr = np.zeros(len(c.terms) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    engine.scores = {"data": (idf[c.term_ids] * tfc).astype(engine.dtype),
                     "indices": c.doc_ids.astype(engine.int_dtype), "indptr": indptr, "num_docs": n}
    engine.vocab_dict = {t: i for i, t in enumerate(c.terms)}
    engine.vocab_dict[""] = len(c.terms)
    engine.unique_token_ids_set = set(engine.vocab_dict.values())
    engine.nonoccurrence_array = None  # lucene has none
    return engine


def _bm25s_batch(engine, queries, k) -> float:
    seconds, _ = timed(engine.retrieve, [list(w) for w in queries], k=k, show_progress=False)
    return len(queries) / seconds
