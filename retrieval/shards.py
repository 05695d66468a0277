"""A corpus split by article into shard indexes that share corpus-wide statistics.

Each shard is an ordinary index folder of the store (articles, passages, BM25 arrays) over
its articles, kept in corpus order. The layout folder beside them holds what makes every shard
score as the single index would: the passage count N, the average length (total length / N,
both summed over the shards), the document frequency of every term over all shards, and for
each shard the global df of its own terms and the number each of its passages has in the
single index (ties break by it). A shard's postings keep their tf and length; their BM25
impacts are made with the layout's avgdl when the shard is loaded (``retrieval.sharded``).

An article's shard is fixed by its title, so adding or changing articles rebuilds only their
shards (an unchanged shard has the same key and is reused as it is) and the layout.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .analysis import Analyzer
from .articles import Article, Corpus, LoadProblem, load_corpus
from .cachefiles import build_lock, verify, write_manifest
from .errors import IndexStoreError
from .index import BM25Index
from .store import (FORMAT, RetrievalSettings, Stored, build_articles, building, corpus_key, drop_superseded,
                    lineage, load)
from .vocab import Vocabulary

LAYOUT = "layout.json"
MAX_SHARDS = 4096


class Layout(NamedTuple):
    """A sharded index as saved: where its shards are and the statistics they share."""
    folder: Path
    shards: list[Path | None]  # None: a shard with no articles
    size: int  # passages in all shards
    avgdl: float
    articles: int
    problems: list[LoadProblem]
    labels: list[str]  # the source of the first article of each corpus file

    @property
    def count(self) -> int:
        return len(self.shards)


def shard_of(article: Article, shards: int) -> int:
    """The shard an article belongs to: by its title, which edits to the text and lines added
    before it in its file leave alone."""
    return int.from_bytes(hashlib.blake2b(article.title.encode(), digest_size=8).digest(), "big") % shards


def layout_name(key: str, shards: int) -> str:
    return f"{key[:20]}-{shards}shards"


def find_layout(paths: Sequence, settings: RetrievalSettings, index_dir: Path, shards: int | None = None,
                rebuild: bool = False, progress: Callable[[str], None] | None = None) -> tuple[Layout, bool]:
    """The current sharded index of ``paths`` (built or brought up to date when needed) and
    whether it was built. Without ``shards``, the count of the newest sharded index of these
    paths; with none, IndexStoreError saying how to make one."""
    index_dir = Path(index_dir)
    key = corpus_key(paths, settings, index_dir)
    family = lineage(paths, settings) + "-shards"
    if shards is None:
        shards = previous_count(index_dir, family)
    if not 1 <= shards <= MAX_SHARDS:
        raise IndexStoreError(f"--shards {shards}: give a number of shards from 1 to {MAX_SHARDS}")
    folder = index_dir / layout_name(key, shards)
    if not rebuild:
        with contextlib.suppress(IndexStoreError):
            return load_layout(folder), False
    with build_lock(index_dir):
        if not rebuild:
            with contextlib.suppress(IndexStoreError):
                return load_layout(folder), False
        corpus = load_corpus(paths)
        layout = build_layout(corpus, key, folder, family, settings, shards, progress, reuse=not rebuild)
    drop_superseded(folder, family)
    return layout, True


def previous_count(index_dir: Path, family: str) -> int:
    """The shard count of the newest sharded index of a lineage."""
    newest = None
    for manifest in index_dir.glob("*shards/manifest.json"):
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(manifest.read_text(encoding="utf-8"))
            if info.get("lineage") == family and (newest is None or manifest.stat().st_mtime > newest[0]):
                newest = (manifest.stat().st_mtime, int(info["shards"]))
    if newest is None:
        raise IndexStoreError("there is no sharded index of this corpus; make one with `qabot index --shards N`")
    return newest[1]


def build_layout(corpus: Corpus, key: str, folder: Path, family: str, settings: RetrievalSettings, shards: int,
                 progress, reuse: bool) -> Layout:
    groups: list[list[Article]] = [[] for _ in range(shards)]
    for article in corpus.articles:
        groups[shard_of(article, shards)].append(article)
    analyzer = Analyzer(settings.analysis)
    built = []
    for i, articles in enumerate(groups):
        if progress:
            progress(f"shard {i + 1} of {shards}: {len(articles)} articles")
        built.append(shard(articles, i, shards, folder.parent, family, analyzer, settings, reuse) if articles else None)
    tmp = building(folder)
    try:
        info = write_stats(tmp, built, corpus, groups)
        write_manifest(tmp, {"key": key, "format": FORMAT, "lineage": family, "shards": shards})
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return layout_of(folder, info)


def shard(articles: list[Article], i: int, shards: int, index_dir: Path, family: str, analyzer: Analyzer,
          settings: RetrievalSettings, reuse: bool) -> Stored:
    """Shard ``i``'s index: reused when its articles are unchanged, else built (carrying the
    counts of the unchanged articles of its previous build)."""
    digest = hashlib.sha256(json.dumps(settings.index_key(), sort_keys=True).encode())
    for a in articles:
        digest.update(json.dumps([a.id, a.title, a.source, a.text], ensure_ascii=False).encode())
    folder = index_dir / f"{digest.hexdigest()[:20]}-shard"
    if reuse:
        with contextlib.suppress(IndexStoreError):
            return load(folder)
    shard_family = hashlib.sha256(f"{family}/{i}/{shards}".encode()).hexdigest()[:20]
    build_articles(Corpus(articles, [], []), digest.hexdigest(), folder, shard_family, analyzer, settings,
                   None, None, reuse)
    return load(folder)


def write_stats(tmp: Path, built: list[Stored | None], corpus: Corpus, groups: list[list[Article]]) -> dict:
    """The shared statistics of the shards, into ``tmp``; returns layout.json's content."""
    present = [s for s in built if s is not None]
    vocab, df, maps = merged_vocabulary([s.index for s in present])
    np.save(tmp / "grams.npy", np.asarray(vocab.codes, dtype=np.int64), allow_pickle=False)
    (tmp / "vocab.json").write_text(json.dumps(vocab.words, ensure_ascii=False), encoding="utf-8")
    np.save(tmp / "df.npy", df, allow_pickle=False)
    numbers = global_numbers(built, corpus, groups)
    at = 0
    for i, stored in enumerate(built):
        if stored is not None:
            np.save(tmp / f"shard-{i}-df.npy", df[maps[at]].astype(np.int32), allow_pickle=False)
            np.save(tmp / f"shard-{i}-ids.npy", numbers[i], allow_pickle=False)
            at += 1
    total = sum(float(s.index.doc_len.sum(dtype=np.float64)) for s in present)
    size = sum(s.index.size for s in present)
    first = {}
    for a in corpus.articles:
        first.setdefault(a.source.rpartition(":")[0] or a.source, a.source)
    info = {"shards": [s.folder.name if s is not None else None for s in built], "size": size,
            "avgdl": total / size if size else 1.0, "articles": len(corpus.articles),
            "problems": [[p.path, p.line, p.message] for p in corpus.problems], "labels": list(first.values())}
    (tmp / LAYOUT).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def merged_vocabulary(indexes: Sequence[BM25Index]) -> tuple[Vocabulary, np.ndarray, list[np.ndarray]]:
    """(every term of the indexes, sorted as an index sorts them; its df over all of them; for
    each index, the global id of each of its terms)."""
    words = sorted(set().union(*(ix.vocab.words for ix in indexes)))
    codes = np.unique(np.concatenate([np.asarray(ix.vocab.codes, dtype=np.int64) for ix in indexes]
                                     + [np.zeros(0, dtype=np.int64)]))
    place = {w: i for i, w in enumerate(words)}
    df = np.zeros(len(words) + len(codes), dtype=np.int64)
    maps = []
    for ix in indexes:
        ids = np.concatenate([np.fromiter((place[w] for w in ix.vocab.words), dtype=np.int64, count=len(ix.vocab.words)),
                              len(words) + np.searchsorted(codes, np.asarray(ix.vocab.codes, dtype=np.int64))])
        df[ids] += np.asarray(ix.df)
        maps.append(ids)
    return Vocabulary(words, codes), df, maps


def global_numbers(built: list[Stored | None], corpus: Corpus, groups: list[list[Article]]) -> list[np.ndarray | None]:
    """For each shard, the number each of its passages has in the single index of the corpus:
    articles in corpus order, an article's passages in order."""
    order = {id(a): n for n, a in enumerate(corpus.articles)}
    counts = np.zeros(len(corpus.articles), dtype=np.int64)
    for stored, articles in zip(built, groups):
        if stored is not None:
            counts[[order[id(a)] for a in articles]] = np.bincount(stored.table[:, 0], minlength=len(articles))
    first = np.cumsum(counts) - counts
    out = []
    for stored, articles in zip(built, groups):
        if stored is None:
            out.append(None)
            continue
        local_of = stored.table[:, 0]
        local_first = np.cumsum(np.bincount(local_of, minlength=len(articles)))
        local_first -= np.bincount(local_of, minlength=len(articles))
        place = np.asarray([order[id(a)] for a in articles], dtype=np.int64)
        out.append(first[place[local_of]] + np.arange(len(local_of)) - local_first[local_of])
    return out


def load_layout(folder: Path) -> Layout:
    manifest = verify(folder)
    if manifest.get("format") != FORMAT:
        raise IndexStoreError(f"sharded index in {folder} is of an older format; run `qabot index --shards N`")
    try:
        info = json.loads((folder / LAYOUT).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexStoreError(f"sharded index in {folder} is unreadable ({exc}); run `qabot index --shards N`") from exc
    return layout_of(folder, info)


def layout_of(folder: Path, info: dict) -> Layout:
    shards = [folder.parent / name if name else None for name in info["shards"]]
    return Layout(folder, shards, info["size"], info["avgdl"], info["articles"],
                  [LoadProblem(*p) for p in info["problems"]], info["labels"])
