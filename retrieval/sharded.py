"""Searching a sharded index (``retrieval.shards``): the shards' side and the asking side.

A shard, loaded once per process (``loaded``), scores with the layout's N, avgdl and df, so its
scores are the single index's, and answers with its best candidates: passage, score and what
the re-rank needs to know about the article. ``ShardedSearcher`` is the ``Searcher`` with
those candidates as its source: the question is analysed once, the candidates of all shards
merged by (score, passage number) as one index ranks them, and the re-rank, the abstain
decision and the hits made exactly as on one machine. Where the candidates come from (these
shards in this process, or a cluster's workers: ``bot.cluster``) is a ``fetch`` callable.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .analysis import Analyzer
from .errors import IndexStoreError
from .index import ARRAYS, BM25Index
from .passages import Passage
from .scoring import BM25Settings, idf, length_norm, tf_part
from .search import SearchResult, Searcher, SearchSettings, goes_on
from .shards import Layout
from .store import load
from .vocab import Vocabulary


class Candidate(NamedTuple):
    number: int  # the passage's number in the single index
    score: float
    passage: Passage
    source: str
    goes_on: bool  # its paragraph goes on after it (the re-rank's edge rule)
    shard: int
    article: int  # the article's number in its shard
    date: str = ""  # the article's (``Article.date``, ``Article.url``)
    url: str = ""


WIDEN = 4  # ``Searcher.best`` widens its pool 4 times when overlapping windows crowd it
Query = tuple[dict, int]  # (weighted terms, how many candidates)
Fetch = Callable[[Sequence[Query]], tuple[list[list[Candidate]], set[int]]]  # → each query's candidates, missing shards


class ShardIndex(BM25Index):
    """A shard's postings scored with the whole collection's statistics."""

    def __init__(self, vocab: Vocabulary, arrays: dict, settings: BM25Settings, total: int):
        self.total = total  # passages in all shards: idf's N
        super().__init__(vocab, arrays, settings)

    def idf_of(self, df):
        return idf(self.total, df)


class LoadedShard(NamedTuple):
    number: int
    articles: list
    table: np.ndarray
    index: ShardIndex
    ids: np.ndarray  # each passage's number in the single index

    def candidates(self, weights: dict, k: int) -> list[Candidate]:
        return [self.candidate(doc, score) for doc, score in self.index.top(weights, k)]

    def scored(self, weights: dict, k: int) -> list[tuple[int, float, int]]:
        """(passage number, score, passage in this shard) of the best ``k``: the first of two phases."""
        return [(int(self.ids[doc]), score, doc) for doc, score in self.index.top(weights, k)]

    def candidate(self, doc: int, score: float) -> Candidate:
        a, paragraph, part, start, end = self.table[doc].tolist()
        article = self.articles[a]
        passage = Passage(article.id, article.title, paragraph, part, start, end, article.text[start:end])
        return Candidate(int(self.ids[doc]), score, passage, article.source, goes_on(article.text, end), self.number, a,
                         article.date, article.url)


def load_shard(layout_folder: Path, number: int) -> LoadedShard:
    """Shard ``number`` of the layout in ``layout_folder``, memory-mapped, with the shared statistics."""
    info = json.loads((layout_folder / "layout.json").read_text(encoding="utf-8"))
    name = info["shards"][number]
    if name is None:
        raise IndexStoreError(f"shard {number} of {layout_folder} has no articles")
    stored = load(layout_folder.parent / name)
    index = stored.index
    arrays = {n: getattr(index, n) for n in ARRAYS}
    arrays["df"] = np.load(layout_folder / f"shard-{number}-df.npy", mmap_mode="r", allow_pickle=False)
    norm = length_norm(np.asarray(index.doc_len), index.settings, info["avgdl"])
    # the impacts on disk were made with the shard's own avgdl: made again with the collection's
    tfs, docs = np.asarray(index.tfs), np.asarray(index.docs)
    impacts = np.empty(len(tfs), dtype=np.float32)
    step = 1 << 22
    for s in range(0, len(tfs), step):
        impacts[s:s + step] = tf_part(tfs[s:s + step].astype(np.float32), norm[docs[s:s + step]], index.settings)
    arrays["impacts"] = impacts
    starts = np.asarray(index.indptr[:-1])
    arrays["max_impact"] = np.maximum.reduceat(impacts, starts) if len(impacts) else np.zeros(len(starts), np.float32)
    ids = np.load(layout_folder / f"shard-{number}-ids.npy", allow_pickle=False)
    return LoadedShard(number, stored.articles, stored.table,
                       ShardIndex(index.vocab, arrays, index.settings, info["size"]), ids)


_loaded: dict[tuple[str, int], LoadedShard] = {}
_loading = threading.Lock()


def loaded(layout_folder: str, number: int) -> LoadedShard:
    """Shard ``number`` of a layout, loaded once per process; shards of older layouts are let go."""
    key = (layout_folder, number)
    shard = _loaded.get(key)
    if shard is None:
        with _loading:
            shard = _loaded.get(key)
            if shard is None:
                shard = load_shard(Path(layout_folder), number)
                for old in [k for k in _loaded if not Path(k[0]).exists()]:  # superseded and removed
                    del _loaded[old]
                _loaded[key] = shard
    return shard


def shard_candidates(layout_folder: str, numbers: Sequence[int], queries: Sequence[Query]) -> dict[int, list]:
    """Each query's candidates from each of the shards ``numbers``."""
    out = {}
    for n in numbers:
        shard = loaded(layout_folder, n)
        out[n] = [shard.candidates(weights, k) for weights, k in queries]
    return out


def shard_scores(layout_folder: str, numbers: Sequence[int], queries: Sequence[Query]) -> dict[int, list]:
    """``shard_candidates`` without the passages: (number, score, passage in its shard) each."""
    return {n: [loaded(layout_folder, n).scored(weights, k) for weights, k in queries] for n in numbers}


def shard_passages(layout_folder: str, wanted: dict[int, list[tuple[int, float]]]) -> dict[int, dict]:
    """The candidates of (passage in its shard, score) pairs, by shard and passage: the second phase."""
    return {n: {doc: loaded(layout_folder, n).candidate(doc, score) for doc, score in pairs}
            for n, pairs in wanted.items()}


def merged(parts: Sequence[list], k: int) -> list:
    """The ``k`` best of the shards' candidates (or ``scored`` triples: number and score first too),
    ranked as one index ranks: score, then passage number."""
    return sorted((c for part in parts for c in part), key=lambda c: (-c[1], c[0]))[:k]


def local_fetch(layout: Layout) -> Fetch:
    """Candidates from every shard in this process (tests, and a machine that holds them all)."""
    present = [i for i, s in enumerate(layout.shards) if s is not None]

    def fetch(queries: Sequence[Query]) -> tuple[list[list[Candidate]], set[int]]:
        found = shard_candidates(str(layout.folder), present, queries)
        return [merged([found[n][q] for n in present], queries[q][1]) for q in range(len(queries))], set()
    return fetch


class GlobalStats:
    """What the asking side knows of the collection: N and every term's df (``Searcher.index``'s
    statistics), with candidates from ``fetch`` as its ``top``."""

    def __init__(self, layout: Layout, fetch: Fetch, seen: "Seen"):
        folder = layout.folder
        self.vocab = Vocabulary(json.loads((folder / "vocab.json").read_text(encoding="utf-8")),
                                np.load(folder / "grams.npy", mmap_mode="r", allow_pickle=False))
        self.df = np.load(folder / "df.npy", mmap_mode="r", allow_pickle=False)
        self.size = layout.size
        self.fetch, self.seen = fetch, seen
        self.unseen_idf = float(idf(self.size, 0))
        self.asked = threading.local()  # this thread's question: shards missing, candidates fetched

    def df_of(self, term: str) -> int:
        tid = self.vocab.get(term)
        return int(self.df[tid]) if tid is not None else 0

    def idf(self, term: str) -> float:
        tid = self.vocab.get(term)
        return float(idf(self.size, self.df[tid])) if tid is not None else self.unseen_idf

    def top(self, weights: dict, k: int) -> list[tuple[int, float]]:
        """The ``k`` best (passage, score) pairs over all shards. ``WIDEN`` times as many are fetched:
        when overlapping windows crowd the first ones out the searcher asks again for that many
        (a round trip saved; a shard's best k are the first k of its best 4k)."""
        held = getattr(self.asked, "held", None)
        if held is None or held[0] is not weights or held[1] < k:
            (found,), missing = self.fetch([(weights, k * WIDEN)])
            self.asked.missing = getattr(self.asked, "missing", set()) | missing
            self.seen.add(found)
            held = self.asked.held = (weights, k * WIDEN, found)
        return [(c.number, c.score) for c in held[2][:k]]


class Seen:
    """The candidates of recent questions: the searcher's ``passages`` (by number) and what it reads
    of their articles. Two generations of ``keep``: a question's candidates outlive it."""

    def __init__(self, size: int, keep: int = 50_000):
        self.size, self.keep = size, keep
        self.current: dict = {}
        self.previous: dict = {}
        self.lock = threading.Lock()

    def add(self, found: list[Candidate]) -> None:
        with self.lock:
            if len(self.current) > self.keep:
                self.previous, self.current = self.current, {}
            for c in found:
                self.current[c.number] = self.current[(c.passage.article_id, c.passage.start)] = c
                self.current[c.passage.article_id] = c

    def get(self, key) -> Candidate:
        found = self.current.get(key) or self.previous.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __getitem__(self, number: int) -> Passage:
        return self.get(number).passage

    def __len__(self) -> int:
        return self.size


class ShardedSearcher(Searcher):
    """``Searcher`` over a sharded index; ``articles`` is a directory that fetches an article's text
    only when a frontend opens it (``read(shard, article)``)."""

    def __init__(self, layout: Layout, fetch: Fetch, analyzer: Analyzer, settings: SearchSettings,
                 articles: "ArticleDirectory"):
        seen = Seen(layout.size)
        super().__init__([], seen, GlobalStats(layout, fetch, seen), analyzer, settings)
        self.layout, self.seen = layout, seen
        self.articles = articles
        articles.seen = seen

    def search(self, question: str, k: int = 5, context: Sequence[str] = ()) -> SearchResult:
        asked = self.index.asked
        asked.missing, asked.held = set(), None
        try:
            result = super().search(question, k, context)
        finally:
            asked.held = None
        return result._replace(missing_shards=tuple(sorted(asked.missing)))

    def continues(self, passage: Passage) -> bool:
        return self.seen.get((passage.article_id, passage.start)).goes_on


class ArticleView(NamedTuple):
    """An ``Article`` whose text is fetched when it is read."""
    id: str
    title: str
    source: str
    read: Callable[[], str]
    date: str = ""
    url: str = ""

    @property
    def text(self) -> str:
        return self.read()


class ArticleDirectory:
    """The articles as the frontends see them: ``len``, by id the source and (fetched) text of those
    seen in answers, and one per corpus file for ``values`` (the /help label)."""

    def __init__(self, layout: Layout, read: Callable[[int, int], str]):
        self.layout, self.read = layout, read
        self.seen: Seen | None = None

    def __len__(self) -> int:
        return self.layout.articles

    def __getitem__(self, article_id: str) -> ArticleView:
        c = self.seen.get(article_id)
        return ArticleView(article_id, c.passage.title, c.source, lambda: self.read(c.shard, c.article), c.date, c.url)

    def values(self):
        return [ArticleView("", "", label, lambda: "") for label in self.layout.labels]
