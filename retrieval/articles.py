"""Load articles from files and folders: seed TSV, JSONL, plain .txt/.md, and (by ``formats``)
saved web pages, PDF and DOCX.

Loading never stops at the first bad line or file: each problem becomes a
``LoadProblem`` (file, line, message with the fix) and the rest still loads.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

from . import formats
from .records import NUL_LINE, Article, LoadProblem, too_long  # noqa: F401 (Article, LoadProblem: the loaders' API)
from .errors import CorpusError
from .safetext import SURROGATE, without_surrogates

SUFFIXES = {".tsv", ".jsonl", ".txt", ".md", ".markdown"} | formats.SUFFIXES
MAX_TITLE = 300  # a "title" longer than this before the TAB is body text, not a TSV title


@dataclass
class Corpus:
    articles: list[Article]
    problems: list[LoadProblem]
    files: list[Path]


def load_corpus(paths: Iterable[str | os.PathLike]) -> Corpus:
    """Load every article under ``paths`` (files or folders, folders recursively)."""
    articles: list[Article] = []
    problems: list[LoadProblem] = []
    files = list(corpus_files(paths, problems))
    seen: dict[str, str] = {}
    ids: dict[str, str] = {}  # article id -> source of the article that has it
    explicit: set[str] = set()  # ids given by a JSONL "id" field
    for path, name in files:
        for item in load_file(path, name, explicit):
            if isinstance(item, LoadProblem):
                problems.append(item)
                continue
            digest = hashlib.sha1(f"{item.title}\t{item.text}".encode()).hexdigest()
            if digest in seen:
                problems.append(LoadProblem(item.source, 0, f"duplicate of {seen[digest]}; skipped"))
                continue
            seen[digest] = item.source
            if item.id in ids:
                item = unique_id(item, ids, explicit, path, problems)
            ids[item.id] = item.source
            articles.append(item)
    if not articles:
        detail = "; ".join(str(p) for p in problems[:3])
        raise CorpusError(
            f"no articles could be loaded from {', '.join(map(str, paths))}"
            + (f" ({detail})" if detail else "")
            + ". Give TSV (title<TAB>body), JSONL ({\"title\", \"text\"}), .txt/.md, HTML, PDF or DOCX files."
        )
    return Corpus(articles, problems, [path for path, _ in files])


def unique_id(article: Article, ids: dict[str, str], explicit: set[str], path: Path,
              problems: list[LoadProblem]) -> Article:
    """``article`` with ``#2``, ``#3``… added to an id already in use (the index keys articles by id).

    Default ids (``name:line``) collide when two corpus folders hold files of the same
    relative name: renamed silently. A collision of an explicit JSONL ``id`` is reported."""
    number = 2
    while f"{article.id}#{number}" in ids:
        number += 1
    new = f"{article.id}#{number}"
    if article.id in explicit:
        problems.append(LoadProblem(str(path), 0, f'id "{article.id}" of {article.source} is already used by '
                                    f'{ids[article.id]}; loaded as "{new}" (give each article its own id)'))
    return replace(article, id=new)


def corpus_files(paths: Iterable[str | os.PathLike], problems: list[LoadProblem]) -> Iterator[tuple[Path, str]]:
    """(file, short name for citations) under ``paths``, sorted; folders recursively, no link loops."""
    for file, name, _ in corpus_entries(paths, problems):
        yield Path(file), name


def corpus_entries(paths: Iterable[str | os.PathLike],
                   problems: list[LoadProblem]) -> Iterator[tuple[str, str, os.stat_result]]:
    """(file, short name, its stat) of every corpus file under ``paths``: the listing
    ``corpus_files`` gives, as plain strings with the one stat each file costs, so that a corpus
    of 100k files is checked for changes in well under a second."""
    visited: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise CorpusError(f"corpus path not found: {path}. Check --corpus or corpus: in config.yaml.")
        if not path.is_dir():
            if found := regular(str(path), problems):
                yield str(path), without_surrogates(path.name), found  # a name that is not UTF-8: shown with U+FFFD
            continue

        def unreadable(exc: OSError) -> None:
            problems.append(LoadProblem(str(exc.filename), 0, f"cannot read folder ({exc.strerror}); its articles "
                                        "are not loaded: give the user running qabot read access"))

        for root, dirs, names in os.walk(path, followlinks=True, onerror=unreadable):
            real = Path(root).resolve()
            if real in visited:
                problems.append(LoadProblem(root, 0, "folder reached twice (a symlink loop?); skipped"))
                dirs[:] = []
                continue
            visited.add(real)
            dirs.sort()
            # joined by hand, once a folder where possible: os.path.join and splitext cost more
            # than the stat on a folder of many small files
            shown, base = os.path.relpath(root, path.parent) + os.sep, root + os.sep
            for name in sorted(names):
                dot = name.rfind(".")
                if name[0] == "." or dot < 0 or name[dot:].lower() not in SUFFIXES:  # hidden, or not an article
                    continue
                if found := regular(base + name, problems):
                    yield base + name, without_surrogates(shown + name), found


def regular(path: str, problems: list[LoadProblem]) -> os.stat_result | None:
    """The stat of ``path`` if it is a regular file to load; a dangling link, a FIFO or a device
    is a problem (never opened: reading a FIFO would wait forever)."""
    try:
        found = os.stat(path)
        if stat.S_ISREG(found.st_mode):
            return found
        problems.append(LoadProblem(path, 0, "not a regular file (a FIFO, socket or device); skipped"))
    except FileNotFoundError:
        problems.append(LoadProblem(path, 0, "symbolic link to a file that does not exist; skipped"))
    except OSError as exc:
        problems.append(LoadProblem(path, 0, f"cannot read: {exc.strerror}; skipped"))
    return None


def load_file(path: Path, name: str | None = None,
              explicit: set[str] | None = None) -> Iterator[Article | LoadProblem]:
    """Articles (or problems) from one file, by its format; ``name`` is what citations show.

    Ids that come from a JSONL ``"id"`` field are added to ``explicit`` when it is given."""
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield LoadProblem(str(path), 0, f"cannot read: {exc.strerror}")
        return
    kind = formats.kind_of(path, data)  # PDF, DOCX or HTML by content, whatever the name says
    if kind:
        yield from formats.load(kind, path, name, data)
        return
    text = decode(path, data)
    if isinstance(text, LoadProblem):
        yield text
        return
    if not text.strip():
        yield LoadProblem(str(path), 0, "empty file; skipped")
        return
    suffix = path.suffix.lower()
    if suffix == ".jsonl" or (suffix != ".tsv" and formats.looks_like_jsonl(text)):
        yield from jsonl_articles(path, name, text, explicit)
    elif suffix == ".tsv" or (suffix == ".txt" and looks_like_tsv(text)):
        yield from tsv_articles(path, name, text)
    else:
        if "\x00" in text:  # the lines with a NUL are skipped, each said; the rest is the article
            lines = text.splitlines(keepends=True)
            for number in (n for n, line in enumerate(lines, 1) if "\x00" in line):
                yield LoadProblem(str(path), number, NUL_LINE)
            text = "".join(line for line in lines if "\x00" not in line)
        if text.strip():  # nothing left but the damaged lines: they were said above
            yield too_long(path, 0, text) or plain_article(path, name, text)


def decode(path: Path, data: bytes) -> str | LoadProblem:
    """UTF-8 text (a BOM is dropped), or a problem naming the line and the fix."""
    if binary(data[:8192]) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return LoadProblem(str(path), 0, "binary file (NUL bytes); skipped")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return LoadProblem(str(path), 1, "UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        encoding = guess_encoding(data)
        if encoding is None:
            return LoadProblem(str(path), line, "not UTF-8 (unknown encoding); convert it to UTF-8")
        command = f"iconv -f {encoding} -t UTF-8 {shlex.quote(path.name)} > {shlex.quote('fixed' + path.suffix)}"
        named = {"GB18030": "GBK/GB18030", "BIG5": "Big5, traditional Chinese"}[encoding]
        return LoadProblem(str(path), line, f"not UTF-8 ({named}?); convert it, e.g. {command}")




def binary(sample: bytes) -> bool:
    """NUL bytes in over a third of the lines: a binary file; in fewer, damaged lines, skipped one by one."""
    if b"\x00" not in sample:
        return False
    lines = sample.split(b"\n")
    return sum(b"\x00" in line for line in lines) * 3 > len(lines)


def guess_encoding(data: bytes) -> str | None:
    """GB18030 or BIG5 (traditional Chinese), whichever the bytes read as; None for neither. Big5
    bytes also decode as GB18030, but mostly to rare characters outside the common GB2312 set."""
    sample = data[:65536]
    gb = decoded(sample, "gb18030")
    if gb is not None and common_share(gb) >= 0.9:
        return "GB18030"
    big5 = decoded(sample[: sample.rfind(b"\n") + 1] or sample, "big5")
    return "BIG5" if big5 is not None else "GB18030" if gb is not None else None


def decoded(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def common_share(text: str) -> float:
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    return sum(decoded(ch.encode("gb18030"), "gb2312") is not None for ch in han) / max(len(han), 1)


# A .txt file is TSV when at least TSV_SHARE of its non-empty lines are title<TAB>body: two in
# three, so one broken line among three seed lines is reported, not loaded as one plain article.
TSV_SHARE = (2, 3)


def looks_like_tsv(text: str) -> bool:
    """A .txt file is seed TSV when most (two in three) non-empty lines have a short title before
    a TAB, and at least two do (or every line does); tsv_articles reports the lines that don't."""
    lines = [line for line in text.splitlines() if line.strip()]
    titled = sum(0 < line.find("\t") <= MAX_TITLE for line in lines)
    part, whole = TSV_SHARE  # whole numbers: no float rounding at the boundary
    return bool(lines) and titled * whole >= part * len(lines) and (titled >= 2 or titled == len(lines))


def numbered_lines(path: Path, text: str) -> Iterator[tuple[int, str] | LoadProblem]:
    """(line number, line) of each non-blank line of an article-a-line file, or the problem of
    one that is too long to be an article."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield too_long(path, number, line) or (number, line)


def tsv_articles(path: Path, name: str, text: str) -> Iterator[Article | LoadProblem]:
    for item in numbered_lines(path, text):
        if isinstance(item, LoadProblem):
            yield item
            continue
        number, line = item
        title, tab, body = line.partition("\t")
        if not tab or not title.strip() or not body.strip():
            yield LoadProblem(str(path), number, "expected title<TAB>body; line skipped")
            continue
        body = body.replace("\\n", "\n")  # an escaped break in TSV is a paragraph break
        yield Article(f"{name}:{number}", title.strip(), f"{name}:{number}", body.strip())


def jsonl_articles(path: Path, name: str, text: str,
                   explicit: set[str] | None = None) -> Iterator[Article | LoadProblem]:
    for item in numbered_lines(path, text):
        if isinstance(item, LoadProblem):
            yield item
            continue
        number, line = item
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield LoadProblem(str(path), number, f"not JSON ({exc.msg}); line skipped")
            continue
        except RecursionError:
            yield LoadProblem(str(path), number, "JSON nested too deeply; line skipped")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            yield LoadProblem(str(path), number, 'expected {"title", "text"} with non-empty text; line skipped')
            continue
        if SURROGATE.search(line_strings(record)):
            yield LoadProblem(str(path), number, "lone surrogate escapes (\\ud800…) shown as \ufffd; fix the text")
            record = {k: without_surrogates(v) if isinstance(v, str) else v for k, v in record.items()}
        title = str(record.get("title") or "").strip() or f"{path.stem} #{number}"
        source = str(record.get("url") or f"{name}:{number}")
        ident = str(record.get("id") or f"{name}:{number}")
        if record.get("id") and explicit is not None:
            explicit.add(ident)
        yield Article(ident, title, source, record["text"].strip(), str(record.get("date") or ""),
                      str(record.get("url") or ""))


def line_strings(record: dict) -> str:
    return "".join(v for k in ("title", "text", "url", "id") if isinstance(v := record.get(k), str))


def plain_article(path: Path, name: str, text: str) -> Article:
    """A .txt/.md article: the title is the first heading (or first short line), else the file name."""
    lines = text.strip().splitlines()
    first = lines[0].strip()
    if first.startswith("#"):
        return Article(name, first.lstrip("#").strip() or path.stem, name, "\n".join(lines[1:]).strip() or first)
    if len(lines) > 1 and len(first) <= 80:
        return Article(name, first, name, "\n".join(lines[1:]).strip())
    return Article(name, path.stem, name, text.strip())
