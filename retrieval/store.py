"""The on-disk cache of a corpus: articles, passages and BM25 index in one folder.

``open_searcher`` reuses the folder while the corpus files and the settings are
unchanged and rebuilds it otherwise. A folder is written aside and renamed into
place, so a reader never sees half an index.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Sequence as SequenceABC
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .analysis import AnalysisSettings, Analyzer, rules_fingerprint
from .cachefiles import build_lock, check_fully, file_digest, unwritable, verify, write_manifest
from .articles import Article, LoadProblem, corpus_entries, load_corpus
from .errors import IndexStoreError
from .counting import count, passage_table, reusable
from .index import ARRAYS, BM25Index, BM25Settings
from .passages import Passage
from .safetext import without_surrogates
from .search import Searcher, SearchSettings

FORMAT = 8  # 6: articles.json rows carry date and url; 7: Chinese numerals give Arabic number terms;
           # 8: max_impact.npy, the bounds pruning skips by
MAPPED = frozenset(f"{name}.npy" for name in (*ARRAYS, "grams"))  # memory-mapped, so checked by samples at load


@dataclass(frozen=True)
class RetrievalSettings:
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    bm25: BM25Settings = field(default_factory=BM25Settings)
    search: SearchSettings = field(default_factory=SearchSettings)
    passage_target: int = 200
    passage_max: int = 400
    passage_overlap: bool = True
    title_weight: int = 3  # the title's terms are counted this many times in each of its passages

    def index_key(self) -> dict:
        """What the saved index depends on (search settings are applied at query time)."""
        return {"format": FORMAT, "analysis": self.analysis.key(), "rules": rules_fingerprint(self.analysis),
                "bm25": asdict(self.bm25),
                "passages": [self.passage_target, self.passage_max, self.passage_overlap],
                "title_weight": self.title_weight}


@dataclass
class Opened:
    searcher: Searcher
    problems: list[LoadProblem]
    folder: Path
    built: bool  # False when the cached index was reused


def corpus_key(paths: Sequence[str | os.PathLike], settings: RetrievalSettings, index_dir: Path) -> str:
    """A digest of every corpus file's name and bytes plus the index settings. A file's digest
    is remembered with its size and modification time, so an unchanged corpus is not re-read."""
    known = Fingerprints(Path(index_dir) / "fingerprints.json")
    digest = hashlib.sha256(json.dumps(settings.index_key(), sort_keys=True).encode())
    folders: dict[str, str] = {}  # folder as listed → absolute and normalised: once a folder, not a file
    for path, name, found in corpus_entries(paths, []):
        head, _, tail = path.rpartition(os.sep)
        if head not in folders:  # docs, ./docs and docs/ are one folder, one key
            folders[head] = os.path.abspath(head or (os.sep if path.startswith(os.sep) else os.curdir))
        where = os.path.join(folders[head], tail)
        digest.update(f"{where}\0{name}\0{readable_digest(known, where, found)}\0".encode("utf-8", "surrogateescape"))
    known.save()
    return digest.hexdigest()


def readable_digest(known: "Fingerprints", path: str, found: os.stat_result | None = None) -> str:
    try:
        return known.digest(path, found)
    except OSError as exc:  # gone or unreadable since it was listed: the build reports it
        return f"unreadable:{exc.errno}"


class Fingerprints:
    """sha256 of files by (path, size, mtime, inode, device): JSON beside the indexes, rewritten
    when it changes."""

    def __init__(self, file: Path):
        self.file, self.changed = file, False
        try:
            self.table = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.table = {}

    def digest(self, path: str, found: os.stat_result | None = None) -> str:
        stat = found or os.stat(path)
        key, stamp = path, [stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_dev]
        entry = self.table.get(key)
        if isinstance(entry, list) and entry[:4] == stamp:
            return entry[4]
        digest = file_digest(Path(path))
        # a file changed within the last seconds may change again within the clock's resolution
        # with its size kept: remember only settled files (git's "racily clean" rule)
        if time.time_ns() - stat.st_mtime_ns > 2_000_000_000:
            self.table[key], self.changed = stamp + [digest], True
        return digest

    def save(self) -> None:
        if self.changed:
            with contextlib.suppress(OSError):  # a read-only index folder: just hash again next time
                self.file.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}")
                tmp.write_text(json.dumps(self.table), encoding="utf-8")
                os.replace(tmp, self.file)


def lineage(paths: Sequence[str | os.PathLike], settings: RetrievalSettings) -> str:
    """Names builds of the same corpus paths with the same settings, whatever their content:
    the previous one of a lineage lends its counts to the next and is removed after it."""
    where = sorted(str(Path(p).resolve()) for p in paths)
    return hashlib.sha256(json.dumps([where, settings.index_key()], sort_keys=True).encode()).hexdigest()[:20]


def default_index_dir() -> Path:
    """Where indexes are cached unless told otherwise: ``QABOT_INDEX_DIR``, else ~/.cache/qabot."""
    return Path(os.environ.get("QABOT_INDEX_DIR") or "~/.cache/qabot").expanduser()


def open_searcher(paths: Sequence[str | os.PathLike], settings: RetrievalSettings | None = None,
                  index_dir: Path | None = None, rebuild: bool = False, progress: Callable[[str], None] | None = None,
                  steps: Callable[[int, int], None] | None = None, thorough: bool = False) -> Opened:
    """A ``Searcher`` over ``paths``, from the cache in ``index_dir`` when it is current.

    ``progress`` hears what is being done; ``steps(done, total)`` follows passage analysis. A
    cached index's big mapped arrays are checked fully in the background (``thorough``: before
    it is used), and a damaged one is rebuilt. Without ``settings`` the product's defaults apply;
    without ``index_dir``, ``default_index_dir()``."""
    settings = settings or RetrievalSettings()
    index_dir = Path(index_dir) if index_dir is not None else default_index_dir()
    key = corpus_key(paths, settings, index_dir)
    folder = Path(index_dir) / key[:20]
    analyzer = Analyzer(settings.analysis)
    if not rebuild:
        with contextlib.suppress(IndexStoreError):  # missing, corrupt or partial: built below
            cached = opened(load(folder, fully=thorough), analyzer, settings, built=False)
            if not thorough:
                check_fully(folder, progress or (lambda message: None))
            return cached
    with build_lock(Path(index_dir), progress):
        clean_stale(Path(index_dir))
        if not rebuild:  # another process may have built it while this one waited for the lock
            with contextlib.suppress(IndexStoreError):
                return opened(load(folder, fully=thorough), analyzer, settings, built=False)
        return build(paths, key, folder, analyzer, settings, progress, steps, reuse=not rebuild)


def build(paths: Sequence[str | os.PathLike], key: str, folder: Path, analyzer: Analyzer,
          settings: RetrievalSettings, progress, steps, reuse: bool) -> Opened:
    return build_articles(load_corpus(paths), key, folder, lineage(paths, settings), analyzer, settings, progress,
                          steps, reuse)


def build_articles(corpus, key: str, folder: Path, family: str, analyzer: Analyzer, settings: RetrievalSettings,
                   progress, steps, reuse: bool) -> Opened:
    """``build`` of loaded articles (a ``Corpus``; ``retrieval.shards`` builds each shard so)."""
    table = passage_table(corpus.articles, settings.passage_target, settings.passage_max, settings.passage_overlap)
    carried, todo = reusable(previous(folder.parent, family) if reuse else None, corpus.articles, table[:, 0])
    numbers = np.flatnonzero(todo)
    if progress:
        unchanged = f", {len(table) - len(numbers)} unchanged" if carried else ""
        progress(f"indexing {len(corpus.articles)} articles, {len(table)} passages{unchanged}")
    tmp = building(folder)  # before the long part: an unwritable index folder is said at once
    try:
        # the corpus is written beside while the workers analyse (the main process mostly waits)
        with ThreadPoolExecutor(1) as writer:
            written = writer.submit(write_corpus, tmp, corpus.articles, corpus.problems, table)
            gathered = count(corpus.articles, table, numbers, analyzer, settings.title_weight, progress=steps,
                             carried=carried)
            index = BM25Index.gathered(gathered, settings.bm25, tmp)  # the posting arrays are written in place
            written.result()
        finish(tmp, folder, {"key": key, "format": FORMAT, "lineage": family}, index)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk (ENOSPC), a quota, a folder removed under it
            raise unwritable(folder.parent, exc) from exc
        raise
    drop_superseded(folder, family)
    return opened(Stored(corpus.articles, table, index, corpus.problems, folder), analyzer, settings, built=True)


def previous(index_dir: Path, family: str) -> Stored | None:
    """The newest intact build of this lineage, if any."""
    candidates = []
    for manifest in index_dir.glob("*/manifest.json"):
        with contextlib.suppress(OSError, ValueError):
            if json.loads(manifest.read_text(encoding="utf-8")).get("lineage") == family:
                candidates.append((manifest.stat().st_mtime, manifest.parent))
    for _, folder in sorted(candidates, reverse=True):
        with contextlib.suppress(IndexStoreError):
            return load(folder, fully=True)  # its counts are carried into the new build: every byte checked
    return None


def drop_superseded(folder: Path, family: str) -> None:
    """Remove older builds of the same lineage (readers that mapped them keep their pages)."""
    for manifest in folder.parent.glob("*/manifest.json"):
        other = manifest.parent
        with contextlib.suppress(OSError, ValueError):
            if other != folder and json.loads(manifest.read_text(encoding="utf-8")).get("lineage") == family:
                shutil.rmtree(other, ignore_errors=True)


def building(folder: Path) -> Path:
    """A new folder beside ``folder`` to build in, renamed into place by ``finish``."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
        os.chmod(tmp, shared_mode())  # mkdtemp's 0700 would hide the index from other users of a shared folder
        return tmp
    except OSError as exc:
        raise unwritable(folder.parent, exc) from exc


def shared_mode() -> int:
    """The mode a plain ``mkdir`` gives under the current umask (0755 under 022, 0775 under 002)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o777 & ~mask


def clean_stale(index_dir: Path) -> None:
    """Remove what killed builds left (called under the build lock, so no build is running here):
    ``.building-*`` folders, ``*.old`` folders, fingerprint files of processes that are gone."""
    for leftover in [*index_dir.glob(".building-*"), *index_dir.glob("*.old")]:
        shutil.rmtree(leftover, ignore_errors=True)
    for tmp in index_dir.glob(".fingerprints.json.*"):
        pid = tmp.suffix[1:]
        if pid.isdigit() and not alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def write_corpus(tmp: Path, articles: list[Article], problems: list[LoadProblem], table: np.ndarray) -> None:
    np.save(tmp / "passages.npy", table, allow_pickle=False)
    (tmp / "articles.json").write_text(json.dumps(
        {"articles": [[a.id, a.title, a.source, a.text, a.date, a.url] for a in articles],
         "problems": [[without_surrogates(p.path), p.line, without_surrogates(p.message)] for p in problems]},
        ensure_ascii=False),
        encoding="utf-8")


def finish(tmp: Path, folder: Path, info: dict, index: BM25Index) -> None:
    """Write the rest of a build into ``tmp`` and put it in place of ``folder``."""
    index.save(tmp)
    write_manifest(tmp, info, MAPPED)
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


class Stored(NamedTuple):
    articles: list[Article]
    table: np.ndarray  # a row a passage: article number, paragraph, part, start, end
    index: BM25Index
    problems: list[LoadProblem]
    folder: Path


def load(folder: Path, fully: bool = False) -> Stored:
    verify(folder, fully)
    try:
        data = json.loads((folder / "articles.json").read_text(encoding="utf-8"))
        table = np.load(folder / "passages.npy", allow_pickle=False)
        articles = [Article(*row) for row in data["articles"]]
        problems = [LoadProblem(*row) for row in data["problems"]]
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError) as exc:
        raise IndexStoreError(f"cached corpus in {folder} is unreadable: {exc}") from exc
    return Stored(articles, table, BM25Index.load(folder), problems, folder)


def opened(stored: Stored, analyzer: Analyzer, settings: RetrievalSettings, built: bool) -> Opened:
    table = stored.table
    if len(table) and (table[:, 0].max() >= len(stored.articles) or table[:, 0].min() < 0):
        raise IndexStoreError("cached passages do not match their articles; run `qabot index --rebuild`")
    searcher = Searcher(stored.articles, PassageTable(stored.articles, table), stored.index, analyzer,
                        settings.search)
    return Opened(searcher, stored.problems, stored.folder, built)


class PassageTable(SequenceABC):
    """Passages made on demand from the saved table: a search touches a few dozen of a million,
    so loading an index builds none of them."""

    def __init__(self, articles: Sequence[Article], table: np.ndarray):
        self.articles, self.table = articles, table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        a, paragraph, part, start, end = self.table[i].tolist()
        article = self.articles[a]
        return Passage(article.id, article.title, paragraph, part, start, end, article.text[start:end],
                       article.date, article.url)
