"""What loading articles gives: an ``Article``, or a ``LoadProblem`` naming the file, line and fix.

Its own module so that the loaders of every format (``articles``, ``formats``) share these
records and the size rule without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_ARTICLE = 5_000_000  # characters; a longer article is almost surely a broken file, and would stall indexing
NUL_LINE = "NUL byte in the line (a damaged file?); line skipped"


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    source: str
    text: str
    date: str = ""  # as the article gives it (a page's publication date, JSONL "date"), "" if unknown
    url: str = ""  # where the article lives on the web (a page's canonical URL, JSONL "url")


@dataclass(frozen=True)
class LoadProblem:
    path: str
    line: int  # 0 when the problem concerns the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def too_long(path: Path, number: int, line: str) -> LoadProblem | None:
    """A problem when a line (or article) is too long or holds a NUL byte, else None."""
    if "\x00" in line:
        return LoadProblem(str(path), number, NUL_LINE)
    if len(line) <= MAX_ARTICLE:
        return None
    return LoadProblem(str(path), number, f"{len(line) / 1e6:.0f} million characters, over the "
                       f"{MAX_ARTICLE / 1e6:.0f} million an article may have; split it into several; skipped")
