"""qabot against the reference engines on the same passages and questions, interleaved per question.

On qabot's own terms (``Bags``, from ``BM25Index.counts()``: each passage's terms as the index
holds them, each repeated tf times, which is all BM25 sees; a question's weighted terms as
``search`` passes them): bm25s (``retrieve``) and tantivy-py. On jieba words (what a user would
build, ``engines.JiebaWords``): bm25s and rank-bm25 (``get_scores`` plus an argpartition). All
with qabot's k1 and b except tantivy (its own BM25), top ``K`` (the re-rank's 30 candidates).
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


class References:
    """The reference engines over one corpus's passages: bm25s on qabot's terms and tantivy on
    them (``bags``), bm25s and rank-bm25 on jieba words (``engines.JiebaWords``)."""

    def __init__(self, searcher, bags: Bags, settings):
        import bm25s
        from rank_bm25 import BM25Okapi

        from engines import JiebaWords, Tantivy

        n, self.notes, self.build_s = len(bags), [], {}
        self.bags = bags
        self.build_s["jieba_words"], self.jieba = timed(JiebaWords, searcher)
        made = bm25s_index if n <= BM25S_INDEX_MAX else bm25s_from_counts
        if n > BM25S_INDEX_MAX:
            self.notes.append(f"bm25s's arrays made from the counts with bm25s's own lucene formulas, vectorised "
                              f"(its index() loops in Python over {n:,} passages); retrieve() is bm25s's own")
        self.build_s["bm25s_terms"], self.bm25s_terms = timed(made, bm25s, bags, settings)
        self.build_s["bm25s_jieba"], self.bm25s_jieba = timed(made, bm25s, self.jieba, settings)
        self.build_s["tantivy"], self.tantivy = timed(Tantivy, bags)
        self.rank = None
        if n <= RANK_BM25_MAX:
            self.build_s["rank_bm25_jieba"], self.rank = timed(
                BM25Okapi, [self.jieba[i] for i in range(n)], k1=settings.k1, b=settings.b)
        else:
            self.notes.append(f"rank-bm25 skipped: {n:,} passages > {RANK_BM25_MAX:,} (seconds a question)")

    def jieba_query(self, question: str) -> list[str]:
        words = [w for w in self.jieba.words(question) if w in self.bm25s_jieba.vocab_dict]
        return words or [""]


ENGINES = ("qabot_search", "qabot_top", "tantivy", "bm25s_terms", "bm25s_jieba", "rank_bm25_jieba")


def compare(searcher, refs: References, questions: list[str]) -> dict:
    """Every engine on every question, interleaved per question (a noisy neighbour then slows all
    alike): qabot's ``search`` end to end and its ``index.top`` alone; tantivy and bm25s on qabot's
    weighted terms (scoring only); bm25s and rank-bm25 on jieba words, the question's cutting
    included. Ratios: a reference's time over qabot's ``search``, at the median and at p99."""
    from retrieval.errors import QuestionError

    n = len(refs.bags)
    rank_n = len(questions) if n <= RANK_BM25_FULL else RANK_BM25_SAMPLE
    t: dict[str, list[float]] = {name: [] for name in ENGINES}
    k = min(K, n)
    for i, q in enumerate(questions):
        try:
            dt, _ = timed(searcher.search, q)
        except QuestionError:
            continue
        t["qabot_search"].append(dt)
        weights = searcher.query(q)[1]
        t["qabot_top"].append(timed(searcher.index.top, weights, k)[0])
        t["tantivy"].append(timed(refs.tantivy.top, weights, k)[0])
        t["bm25s_terms"].append(timed(refs.bm25s_terms.retrieve, [list(weights)], k=k, show_progress=False)[0])
        t["bm25s_jieba"].append(timed(lambda: refs.bm25s_jieba.retrieve(
            [refs.jieba_query(q)], k=k, show_progress=False))[0])
        if refs.rank is not None and len(t["rank_bm25_jieba"]) < rank_n:
            t["rank_bm25_jieba"].append(timed(lambda: rank_top(refs.rank, refs.jieba.words(q), k))[0])
    out = {name: stats_ms(v) for name, v in t.items()}
    notes = list(refs.notes)
    if refs.rank is not None and rank_n < len(t["qabot_search"]):
        notes.append(f"rank-bm25 timed on the first {rank_n} questions")
    out["ratios"] = ratios(t)
    out["build_s"], out["notes"], out["k"] = refs.build_s, notes, k
    return out


def ratios(t: dict[str, list[float]]) -> dict:
    """How many times slower each reference is than qabot's search (p50, p99), and than its top
    alone (p50); rank-bm25 against qabot on the same (first) questions."""
    out = {}
    for name in ENGINES[2:]:
        ref = t[name]
        if not ref:
            out[name] = None
            continue
        own, top = t["qabot_search"][:len(ref)], t["qabot_top"][:len(ref)]
        out[name] = {"p50": float(np.median(ref) / np.median(own)),
                     "p99": float(np.percentile(ref, 99) / np.percentile(own, 99)),
                     "p50_vs_top": float(np.median(ref) / np.median(top))}
    return out


def bm25s_index(bm25s, bags, settings):
    """bm25s's own ``index()`` on the passages' term ids (its vocabulary: the passages' terms)."""
    engine = bm25s.BM25(method="lucene", k1=settings.k1, b=settings.b)
    vocab = {t: i for i, t in enumerate(bags.terms)}
    engine.index(bm25s.tokenization.Tokenized(ids=[bags.ids(i).tolist() for i in range(len(bags))], vocab=vocab),
                 show_progress=False)
    return engine


def bm25s_from_counts(bm25s, bags, settings):
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
