"""Passages → term counts for the index: in worker processes on big corpora, and reusing
the counts of articles that have not changed since the previous build.

Analysis is the cost of indexing (segmenting, bigrams, stemming); BM25 itself is a few
numpy sorts. So both cores analyse, and an unchanged article is never analysed twice.
"""
from __future__ import annotations

import contextlib
import gc
import os
from bisect import bisect_left, bisect_right
from concurrent.futures import ProcessPoolExecutor
from itertools import chain
from multiprocessing import get_context
from typing import Callable, Iterator, NamedTuple, Sequence

import numpy as np

from .analysis import AnalysisSettings, Analyzer
from .articles import Article
from .index import BM25Index
from .postings import Merger
from .passages import passage_bounds, sentence_ends
from .lifetime import die_with_parent
from .vocab import Counts, count_keys

CHUNK = 16000  # passages a task, at most: each chunk's distinct terms are merged at the end, so fewer is faster
PARALLEL_FROM = 12000  # below this, starting workers costs more than it saves
CARRY_SLICE = 1 << 24  # postings of the previous build carried over at a time
SPLIT_RUN = 2_000_000  # characters of articles a splitting task: three runs or more are split in workers

Progress = Callable[[int, int], None]
_worker: Analyzer | None = None
_job: tuple = ()  # what a worker was forked for: the arguments of count_chunk or table_rows before its range


def count_items(analyzer: Analyzer, items: Sequence[tuple[str, list[str]]], numbers: Sequence[int],
                title_weight: int) -> Counts:
    """Counts of passages numbered ``numbers``, given as (title, the passage's sentences), each
    with its title's terms counted in ``title_weight`` times: the title names what the article is
    about, which the passage itself often leaves unsaid. Each distinct sentence is analysed once,
    all of them in one call: overlapping windows share their sentences, so a window costs array
    indexing only."""
    texts: dict[str, int] = {}
    rows = [[texts.setdefault(title, len(texts))] * title_weight
            + [texts.setdefault(s, len(texts)) for s in sentences] for title, sentences in items]
    found = analyzer.analyse(list(texts))
    width = max(len(found.words) + len(found.grams), 1)
    # each text's terms, texts in order (a sort of values: text * width + term)
    of_text = np.sort(found.text * width + found.term) % width
    per_text = np.bincount(found.text, minlength=len(texts))
    first = np.concatenate([[0], np.cumsum(per_text)[:-1]]).astype(np.int64)
    # a passage's terms: the runs of its texts, one after another
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64)
    run = per_text[flat]
    doc_of = np.repeat(np.repeat(np.asarray(numbers, dtype=np.int64), [len(r) for r in rows]), run)
    at = np.arange(int(run.sum()), dtype=np.int64) + np.repeat(first[flat] - (np.cumsum(run) - run), run)
    keys, tfs = count_keys(doc_of, of_text[at], width)
    tf_type = np.uint8 if len(tfs) == 0 or tfs.max() < 256 else np.uint32  # the smaller for the hand-over
    return Counts(found.words, found.grams, (keys % width).astype(np.int32), (keys // width).astype(np.int32),
                  tfs.astype(tf_type), len(items))


def count(articles: Sequence[Article], table: np.ndarray, numbers: np.ndarray, analyzer: Analyzer,
          title_weight: int, workers: int | None = None, progress: Progress | None = None,
          carried: Carried | None = None) -> Merger:
    """Counts of the passages numbered ``numbers`` (rows of ``table``, see ``passage_table``), with
    ``carried`` ones joined in, gathered to make an index of (``BM25Index.gathered``). Chunks are packed
    as they arrive, while the workers go on with the next ones."""
    workers = workers or min(2, os.cpu_count() or 1)
    merger = Merger(len(table))
    for part in carried.parts() if carried is not None else ():
        merger.add(part)
    done = 0
    size = max(1, min(CHUNK, -(-len(numbers) // 8)))  # 8 chunks at least: a smooth progress bar
    chunks = [(i, min(i + size, len(numbers))) for i in range(0, len(numbers), size)]
    with contextlib.ExitStack() as stack:
        if workers > 1 and len(numbers) >= PARALLEL_FROM:
            # objects made before the fork are left to reference counting: a collection in a
            # worker would walk (and so copy) every passage object it inherited
            gc.freeze()
            stack.callback(gc.unfreeze)
            # forked workers inherit the passages: a task is two numbers, nothing to pickle
            pool = stack.enter_context(ProcessPoolExecutor(
                workers, mp_context=get_context("fork"), initializer=_start,
                initargs=(analyzer.settings, articles, table, numbers, title_weight)))
            parts = pool.map(_count_task, chunks)
        else:
            parts = (count_chunk(analyzer, articles, table, numbers, title_weight, *chunk) for chunk in chunks)
        for part in parts:
            merger.add(part)
            done += part.size
            if progress:
                progress(done, len(numbers))
    return merger


def passage_table(articles: Sequence[Article], target: int, hard_max: int, overlap: bool,
                  workers: int | None = None) -> np.ndarray:
    """A row a passage: article number, paragraph, part, start, end (``passages.passage_bounds``). On big
    corpora both cores split, a run of articles a task; no Passage object is made."""
    workers = workers or min(2, os.cpu_count() or 1)
    job = (articles, target, hard_max, overlap)
    runs, first, chars = [], 0, 0
    for i, article in enumerate(articles):
        chars += len(article.text)
        if chars >= SPLIT_RUN or i == len(articles) - 1:
            runs.append((first, i + 1))
            first, chars = i + 1, 0
    if workers > 1 and len(runs) > 2:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_start_split,
                                 initargs=job) as pool:
            tables = list(pool.map(_split_task, runs))
    else:
        tables = [table_rows(*job, *run) for run in runs]
    return np.concatenate(tables) if tables else np.zeros((0, 5), dtype=np.int64)


def table_rows(articles: Sequence[Article], target: int, hard_max: int, overlap: bool, first: int,
               last: int) -> np.ndarray:
    rows = [(i, *span) for i in range(first, last) for span in passage_bounds(articles[i].text, target, hard_max, overlap)]
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def _start_split(*job) -> None:
    global _job
    die_with_parent()
    _job = job


def _split_task(run: tuple[int, int]) -> np.ndarray:
    return table_rows(*_job, *run)


def count_chunk(analyzer: Analyzer, articles: Sequence[Article], table: np.ndarray, numbers: np.ndarray,
                title_weight: int, start: int, end: int) -> Counts:
    chosen = numbers[start:end]
    cuts: dict[int, list[int]] = {}  # sentence ends of each article, found once for all its windows
    items = []
    for a, _, _, s, e in table[chosen].tolist():
        text = articles[a].text
        ends = cuts.get(a)
        if ends is None:
            ends = cuts[a] = sentence_ends(text)
        items.append((articles[a].title, pieces(text, s, e, ends)))
    return count_items(analyzer, items, chosen, title_weight)


def pieces(text: str, start: int, end: int, ends: list[int]) -> list[str]:
    """``text[start:end]`` cut after each sentence end (no term crosses one: they are punctuation),
    from the sentence ends of the whole text: a passage
    starts where a sentence (or a comma piece of one) starts, so the ends inside it are its own."""
    inner = ends[bisect_right(ends, start):bisect_left(ends, end)]
    return [text[s:e] for s, e in zip([start] + inner, inner + [end]) if s < e]


def _start(settings: AnalysisSettings, *job) -> None:
    global _worker, _job
    die_with_parent()
    _worker, _job = Analyzer(settings), job
    gc.disable()  # a worker's objects die by reference counting; collections would only cost


def _count_task(chunk: tuple[int, int]) -> Counts:
    return count_chunk(_worker, *_job, *chunk)


class Carried(NamedTuple):
    """Counts of the previous build (``index``) kept for unchanged articles: passage ``i`` of it is
    passage ``old_to_new[i]`` now, or gone (-1)."""
    index: BM25Index
    old_to_new: np.ndarray
    passages: int  # how many are kept

    def parts(self, step: int | None = None) -> Iterator[Counts]:
        """The kept postings as Counts of ``step`` postings at a time (all sharing the previous
        vocabulary): a million-passage index is carried over without whole-index temporaries."""
        index, step = self.index, step or CARRY_SLICE
        words, codes, indptr = index.vocab.words, np.asarray(index.vocab.codes), np.asarray(index.indptr)
        for start in range(0, len(index.docs), step):
            end = min(start + step, len(index.docs))
            first = int(np.searchsorted(indptr, start, side="right")) - 1
            last = int(np.searchsorted(indptr, end, side="left"))
            runs = np.minimum(indptr[first + 1:last + 1], end) - np.maximum(indptr[first:last], start)
            docs = self.old_to_new[index.docs[start:end]]
            keep = docs >= 0
            yield Counts(words, codes, np.repeat(np.arange(first, last), runs)[keep], docs[keep],
                         np.asarray(index.tfs[start:end])[keep], self.passages if start == 0 else 0)


def reusable(previous, articles: Sequence[Article], article_of: np.ndarray) -> tuple[Carried | None, np.ndarray]:
    """What the previous build (a ``store.Stored``) lends for unchanged articles, and a mask of
    the passages (of articles ``article_of``) that still need analysis. Articles may move,
    come and go."""
    todo = np.ones(len(article_of), dtype=bool)
    if previous is None:
        return None, todo
    old_articles, old_table, old_index = previous.articles, previous.table, previous.index
    old_ranges = ranges(old_table[:, 0], len(old_articles))
    old_of = {(a.title, a.text): old_ranges[i] for i, a in enumerate(old_articles)}  # ids may shift with lines
    new_ranges = ranges(article_of, len(articles))
    old_to_new = np.full(old_index.size, -1, dtype=np.int64)
    for i, article in enumerate(articles):
        (new_start, new_end), old = new_ranges[i], old_of.get((article.title, article.text))
        if old and old[1] - old[0] == new_end - new_start:
            old_to_new[old[0]:old[1]] = np.arange(new_start, new_end)
            todo[new_start:new_end] = False
    return Carried(old_index, old_to_new, int((~todo).sum())), todo


def ranges(article_of_passage: np.ndarray, n_articles: int) -> list[tuple[int, int]]:
    """(first, end) passage numbers of each article, given each passage's article number (in order)."""
    numbers = np.arange(n_articles)
    return list(zip(np.searchsorted(article_of_passage, numbers).tolist(),
                    np.searchsorted(article_of_passage, numbers, side="right").tolist()))
