"""``qabot add PATH|URL …`` and the REPL's ``:add``: put articles into a corpus folder.

A file is checked by loading it (one that gives no article is a warning and is not copied),
then copied in. A URL is fetched (``fetching``), read the way a corpus file of its kind is,
and saved as one JSONL line with its title, text, date and URL, which the loader reads back.
The index is refreshed afterwards: only the new articles are analysed.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

from retrieval import formats
from retrieval.articles import SUFFIXES, Article, LoadProblem, corpus_files, load_file
from retrieval.passages import passage_bounds
from retrieval.safetext import printable
from retrieval.search import Searcher
from retrieval.store import RetrievalSettings

from .fetching import FetchError, fetch

URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.I)  # http(s) is fetched; another scheme is said to be refused
SHOWN = 5  # articles of one file listed by title; more are counted
SUFFIX_OF = {"html": ".html", "pdf": ".pdf", "docx": ".docx", "text": ".txt"}


class AddError(Exception):
    """One source could not be added: the message names it and why."""


@dataclass
class Added:
    source: str  # the path or URL as given
    saved: Path
    articles: list[Article]


@dataclass
class Report:
    added: list[Added] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def add_sources(sources: Sequence[str], folder: Path, guard: Callable[[str], None] | None = None) -> Report:
    """Add each file, folder or http(s) URL to ``folder``; what fails is a warning and the rest goes on.
    ``guard`` checks each URL (and redirect) before it is fetched (``fetching.refuse_private``)."""
    report = Report()
    for source in sources:
        try:
            if URL.match(source):
                report.added.append(add_url(source, folder, report.warnings, guard))
            else:
                report.added += add_path(Path(source).expanduser(), folder, report.warnings)
        except (AddError, FetchError) as exc:
            report.warnings.append(str(exc))
    return report


def add_path(path: Path, folder: Path, warnings: list[str]) -> list[Added]:
    """A file copied into ``folder``, or each article file of a folder (warnings for those that fail)."""
    if not path.exists():
        raise AddError(f"{path}: not found")
    if path.is_file():
        return [add_file(path, folder, warnings)]
    added, problems = [], []
    for file, _ in corpus_files([path], problems):
        try:
            added.append(add_file(file, folder, warnings))
        except AddError as exc:
            warnings.append(str(exc))
    warnings += [str(p) for p in problems]
    if not added and not problems:
        warnings.append(f"{path}: no article files in it (TSV, JSONL, .txt/.md, HTML, PDF, DOCX)")
    return added


def add_file(path: Path, folder: Path, warnings: list[str]) -> Added:
    if path.suffix.lower() not in SUFFIXES:  # the corpus loader would pass it by
        raise AddError(f"{path}: {path.suffix or 'a name without an extension'} is not an article format "
                       f"({', '.join(sorted(SUFFIXES))}); not added")
    size = path.stat().st_size
    if size > formats.MAX_FILE:
        raise AddError(f"{path}: {formats.size_text(size)}, over the {formats.size_text(formats.MAX_FILE)} "
                       "a file may have; not added")
    articles = readable(path, path, warnings)
    target = folder / path.name
    if target.exists() and target.resolve() == path.resolve():
        raise AddError(f"{path}: already in {folder}")
    if target.exists() and target.read_bytes() == path.read_bytes():
        raise AddError(f"{path}: already in {folder} as {target.name}; not copied again")
    target = free_name(target)
    copy(path, target)
    return Added(str(path), target, articles)


def readable(path: Path, shown: str | Path, warnings: list[str]) -> list[Article]:
    """The articles of the file at ``path``; its problems are warnings about ``shown``, and a file
    with no article at all is an ``AddError``."""
    items = list(load_file(path))
    articles = [a for a in items if isinstance(a, Article)]
    reasons = [p.message.removesuffix("; skipped") if p.line == 0 else f"line {p.line}: {p.message}"
               for p in items if isinstance(p, LoadProblem)]
    if not articles:
        raise AddError(f"{shown}: {'; '.join(reasons) or 'no article in it'}; not added")
    warnings += [f"{shown}: {reason}" for reason in reasons]
    return articles


def free_name(target: Path) -> Path:
    """``target``, or ``name-2.ext``, ``name-3.ext``… when a different file already has that name."""
    candidate, number = target, 2
    while candidate.exists():
        candidate, number = target.with_name(f"{target.stem}-{number}{target.suffix}"), number + 1
    return candidate


def copy(path: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    except OSError as exc:
        raise AddError(f"{path}: cannot copy into {target.parent} ({exc.strerror}); check it is writable") from None


def add_url(url: str, folder: Path, warnings: list[str], guard: Callable[[str], None] | None = None) -> Added:
    """Fetch ``url``, read its article and save it as ``web-HOST-DIGEST.jsonl`` in ``folder``
    (adding the same URL again replaces it)."""
    fetched = fetch(url, guard)
    kind = formats.kind_of(Path("download"), fetched.data) if fetched.kind == "sniff" else fetched.kind
    if kind not in SUFFIX_OF:
        raise AddError(f"{url}: binary content that is not a PDF or Word file; not added")
    with tempfile.TemporaryDirectory(prefix="qabot-add-") as tmp:
        page = Path(tmp) / (file_stem(fetched.url) + SUFFIX_OF[kind])
        page.write_bytes(fetched.data)
        article = readable(page, url, warnings)[0]  # a page is one article
    article = replace(article, url=article.url or fetched.url)
    record = {"title": article.title, "text": article.text, "url": article.url, "date": article.date,
              "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    target = folder / f"web-{urlsplit(fetched.url).hostname or 'page'}-{hashlib.sha1(url.encode()).hexdigest()[:10]}.jsonl"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise AddError(f"{url}: cannot save into {folder} ({exc.strerror}); check it is writable") from None
    return Added(url, target, [article])


def file_stem(url: str) -> str:
    """A file name for a fetched page, from its URL's last path part (the title falls back on it)."""
    last = Path(urlsplit(url).path).stem
    return re.sub(r"[^\w.-]+", "_", last)[:80] or urlsplit(url).hostname or "page"


def target_folder(to: str | None, corpus: Sequence[Path]) -> Path:
    """``--to``, else the corpus's first folder."""
    if to:
        return Path(to).expanduser()
    for path in corpus:
        if path.is_dir():
            return path
    raise AddError("the corpus has no folder to add to; give one with --to FOLDER")


def in_corpus(folder: Path, corpus: Sequence[Path]) -> bool:
    folder = folder.resolve()
    return any(folder == c.resolve() or c.resolve() in folder.parents for c in corpus if c.is_dir())


def describe(report: Report, settings: RetrievalSettings) -> list[str]:
    """One line an added article: its title, date, passage count and the file it went to."""
    lines = []
    for added in report.added:
        counts = [passages(a, settings) for a in added.articles]
        if len(counts) > SHOWN:  # a TSV or JSONL file of many articles: one line for all
            lines.append(f"Added: {len(counts)} articles, {plural(sum(counts), 'passage')} → {added.saved}")
            continue
        for article, count in zip(added.articles, counts):
            date = f" ({article.date})" if article.date else ""
            lines.append(f"Added: {article.title}{date}, {plural(count, 'passage')} → {added.saved}")
    return [printable(line) for line in lines]


def passages(article: Article, settings: RetrievalSettings) -> int:
    """How many passages the index cuts ``article`` into."""
    return len(passage_bounds(article.text, settings.passage_target, settings.passage_max, settings.passage_overlap))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def run_add(sources: Sequence[str], to: str | None, corpus: Sequence[Path], settings: RetrievalSettings,
            refresh: Callable[[], Searcher]) -> int:
    """``qabot add``: add, print what was added and the warnings, refresh the index (``refresh``
    opens it). Exit status 1 when nothing could be added."""
    try:
        folder = target_folder(to, corpus)
    except AddError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    report = add_sources(sources, folder)
    for warning in report.warnings:
        print(printable(f"Warning: {warning}"), file=sys.stderr)
    print("\n".join(describe(report, settings)) or "Nothing was added.")
    if report.added and in_corpus(folder, corpus):
        searcher = refresh()
        print(f"Index refreshed: {plural(len(searcher.articles), 'article')}, "
              f"{plural(len(searcher.passages), 'passage')}.")
    elif report.added:
        print(f"Note: {folder} is not in the corpus; ask with --corpus {folder}, or add it to corpus: in config.yaml")
    return 0 if report.added else 1


class Adder:
    """Adds sources to the corpus's first folder and removes files from it, one change at a time,
    reloading the index after each: the REPL's ``:add`` and the Telegram admins' documents, links
    and ``/remove``. Each call returns the text to show."""

    def __init__(self, corpus: Sequence[Path], settings: RetrievalSettings, reload: Callable[[], str]):
        self.corpus, self.settings, self.reload = list(corpus), settings, reload
        self.lock = threading.Lock()  # two admins adding at once: one reload each, in turn

    def add(self, sources: Sequence[str], guard: Callable[[str], None] | None = None) -> str:
        with self.lock:
            try:
                report = add_sources(sources, target_folder(None, self.corpus), guard)
            except AddError as exc:
                return str(exc)
            lines = describe(report, self.settings) + [printable(f"Warning: {w}") for w in report.warnings]
            if report.added:
                lines.append(self.reload())
            return "\n".join(lines) or "Nothing was added."

    def remove(self, name: str) -> str:
        """Delete the file ``name`` (as its citation shows it, or the URL of an added page) from the folder."""
        with self.lock:
            try:
                folder = target_folder(None, self.corpus)
            except AddError as exc:
                return str(exc)
            found = added_file(folder, name.strip())
            if found is None:
                return printable(f"No article file {name} in {folder}: give its file name as its citation shows "
                                 "it, or the URL of a page added from the web.")
            found.unlink()
            return f"Removed {found.name}.\n{self.reload()}"


def added_file(folder: Path, name: str) -> Path | None:
    """The file in ``folder`` that ``name`` means: a URL saved there (its ``url``), or a file by its path
    in the folder, its path with the folder's name (as cited, ``:line`` allowed), or a unique file name."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    if URL.match(name):
        return next((p for p in files if p.suffix == ".jsonl" and saved_url(p) == name), None)
    base = re.sub(r":\d+$", "", name)
    exact = [p for p in files if base in (p.relative_to(folder).as_posix(), f"{folder.name}/{p.relative_to(folder).as_posix()}")]
    named = [p for p in files if p.name == base]
    return exact[0] if exact else named[0] if len(named) == 1 else None


def saved_url(path: Path) -> str | None:
    """The ``url`` of the first record of a JSONL file, if it has one."""
    try:
        with path.open(encoding="utf-8") as f:
            record = json.loads(f.readline() or "{}")
    except (OSError, ValueError):
        return None
    return record.get("url") if isinstance(record, dict) else None
