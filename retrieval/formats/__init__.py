"""Rich article formats: saved web pages (HTML), PDF and Word (DOCX), each read by a library.

``kind_of`` decides a file's format by its bytes where the name lies (a PDF named .txt, a
.html that is plain text); ``load`` turns one file of a rich kind into an article or a
problem naming why not. The libraries are imported only when a file of their kind is read.
"""
from __future__ import annotations

import importlib
import io
import json
import re
from pathlib import Path
from typing import Callable, Iterator

SUFFIXES = {".html", ".htm", ".xhtml", ".pdf", ".docx"}
MAX_TITLE = 80  # characters: a longer first paragraph is body text, not a title
MAX_FILE = 64 << 20  # bytes; a bigger PDF/DOCX/HTML is read as a warning, not parsed for minutes
HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)
HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|span|a|h[1-6]|br)[\s>/]",
                      re.I)


def kind_of(path: Path, data: bytes) -> str | None:
    """"pdf", "docx" or "html" when the file is one, by its content first and its name second;
    None for text (TSV, JSONL, .txt/.md), which ``articles`` reads."""
    suffix = path.suffix.lower()
    if data[:1024].lstrip().startswith(b"%PDF-") or suffix == ".pdf":
        return "pdf"  # a .pdf without the header is reported as broken by the PDF reader
    if suffix == ".docx" or (data.startswith(b"PK\x03\x04") and is_docx(data)):
        return "docx"
    head = data[:65536].lstrip(b"\xef\xbb\xbf")
    if HTML_START.match(head) or (suffix in {".html", ".htm", ".xhtml"} and HTML_TAG.search(head)):
        return "html"
    return None  # a .html with no markup at all is read as plain text


def is_docx(data: bytes) -> bool:
    import zipfile  # loaded late: most corpora hold no zip files

    try:
        return "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def looks_like_jsonl(text: str) -> bool:
    """A text whose first non-blank line is a JSON object with a "text" field: JSONL, whatever its name."""
    first = next((line for line in text.splitlines() if line.strip()), "").strip()
    if not first.startswith("{"):
        return False
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and isinstance(record.get("text"), str)


READERS = {"pdf": "pdf", "docx": "word", "html": "html"}  # kind -> module with ``read(path, name, data)``


def reader(kind: str) -> Callable:
    """The reader of ``kind``, imported now: each library costs import time only when its kind is met."""
    return importlib.import_module(f".{READERS[kind]}", __name__).read


def load(kind: str, path: Path, name: str, data: bytes) -> Iterator:
    """The article in one file of ``kind`` (``Article``), or the ``LoadProblem`` that stops it."""
    from ..records import Article, LoadProblem, too_long

    if len(data) > MAX_FILE:
        yield LoadProblem(str(path), 0, f"{size_text(len(data))}, over the {size_text(MAX_FILE)} a "
                          f"{kind.upper()} file may have; split it or save its text as .txt; skipped")
        return
    found = reader(kind)(path, name, data)
    yield (too_long(path, 0, found.text) or found) if isinstance(found, Article) else found


def article(path: Path, name: str, paragraphs: list[str], title: str = "", date: str = "", url: str = ""):
    """The ``Article`` of a file's paragraphs (at least one). Without a ``title`` the first paragraph is
    the title when it is short, not a sentence, and more follow, else the file's name; a body that repeats the title
    as its first paragraph (a page's <h1>) drops it."""
    from ..records import Article

    paragraphs = [p.strip() for p in paragraphs if p.strip()]  # each one line: the readers join lines
    first = paragraphs[0] if paragraphs else ""
    if not title and len(paragraphs) > 1 and len(first) <= MAX_TITLE and not first.endswith(tuple("。！？!?.;；")):
        title = paragraphs.pop(0)
    elif title and len(paragraphs) > 1 and paragraphs[0] == title:
        paragraphs.pop(0)
    return Article(name, title or path.stem, name, "\n".join(paragraphs), date, url)


def size_text(size: int) -> str:
    """``size`` bytes for a person: 12 KB, 3.4 MB."""
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(size // 1000, 1)} KB"
