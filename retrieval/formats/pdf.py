"""PDF files: text boxes by pdfminer.six's layout analysis, rebuilt into paragraphs.

A text layer holds lines, not paragraphs: lines are joined back (Chinese with no space,
other text with one, a word hyphenated at a line's end mended), a paragraph cut by a page
break is joined again, and what repeats in the top or bottom margin of most pages (running
headers, footers, page numbers) is dropped. pdfminer.six (MIT) rather than PyMuPDF (AGPL).
"""
from __future__ import annotations

import io
import logging
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from . import article

MARGIN = 0.12  # share of the page height at the top and the bottom where running headers live
PAGE_NUMBER = re.compile(r"^[\W_]*(?:第\s*\d+\s*页|page\s+\d+(?:\s+of\s+\d+)?|\d+(?:\s*/\s*\d+)?)[\W_]*$", re.I)
PLACEHOLDER = re.compile(r"^untitled|\.(?:docx?|pdf|tex|dvi|indd)$", re.I)
ENDS = "。！？!?.…:：;；”’」』)）】"
NO_TEXT = ("no text layer (a scanned PDF: its pages are pictures); run OCR on it first, "
           "e.g. ocrmypdf --language chi_sim in.pdf out.pdf; skipped")


class Box(NamedTuple):
    lines: list[tuple[float, str]]  # (left edge, text) of each line, top to bottom
    left: float
    margin: bool  # in the top or bottom margin of its page


def read(path: Path, name: str, data: bytes):
    """The ``Article`` of one PDF (title from its metadata, else its first short paragraph), or a
    ``LoadProblem``: encrypted, broken, or without a text layer."""
    from ..records import LoadProblem

    try:
        pages, title = layout(data)
    except Exception as exc:  # pdfminer raises many kinds on a damaged file; each is this file's problem
        return LoadProblem(str(path), 0, unreadable(exc))
    kept = drop_running(pages)
    paragraphs = join_pages([[p for box in page for p in box_paragraphs(box)] for page in kept])
    if not paragraphs:
        return LoadProblem(str(path), 0, NO_TEXT)
    return article(path, name, paragraphs, title)


def unreadable(exc: Exception) -> str:
    kind = type(exc).__name__
    if "Password" in kind or "Encryption" in kind or "NotAllowed" in kind:
        return "encrypted PDF (it needs a password, or forbids copying its text); save an unlocked copy; skipped"
    return f"broken PDF ({kind}{': ' + str(exc)[:120] if str(exc) else ''}); re-save or re-export it; skipped"


def layout(data: bytes) -> tuple[list[list[Box]], str]:
    """The text boxes of every page, in reading order, and the title in the PDF's metadata."""
    from pdfminer.high_level import extract_pages  # loaded late: only PDFs need it
    from pdfminer.layout import LTTextBox

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # its notes on odd files are not the user's warnings
    pages = []
    for page in extract_pages(io.BytesIO(data)):
        low, high = page.y0 + page.height * MARGIN, page.y1 - page.height * MARGIN
        pages.append([Box([(line.x0, line.get_text().strip()) for line in box], box.x0,
                          box.y1 <= low or box.y0 >= high)
                      for box in page if isinstance(box, LTTextBox) and box.get_text().strip()])
    return pages, metadata_title(data)


def metadata_title(data: bytes) -> str:
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.utils import decode_text

    info = PDFDocument(PDFParser(io.BytesIO(data))).info
    raw = info[0].get("Title") if info else None
    if hasattr(raw, "resolve"):
        raw = raw.resolve()
    title = " ".join((decode_text(raw) if isinstance(raw, bytes) else raw if isinstance(raw, str) else "").split())
    return "" if PLACEHOLDER.search(title) else title  # the tool's name for no title, not the article's


def key(box: Box) -> str:
    """What a running header has in common from page to page: its text with numbers blanked."""
    return re.sub(r"\d+", "#", " ".join(text for _, text in box.lines))


def drop_running(pages: list[list[Box]]) -> list[list[Box]]:
    """``pages`` without the margin boxes that repeat on at least half of the pages (two or more),
    nor lone page numbers in the margins."""
    seen = Counter(k for page in pages for k in {key(b) for b in page if b.margin})
    repeated = {k for k, n in seen.items() if n >= 2 and n * 2 >= len(pages)}
    return [[b for b in page if not (b.margin and (key(b) in repeated or PAGE_NUMBER.match(key(b).replace("#", "1"))))]
            for page in pages]


def box_paragraphs(box: Box) -> list[str]:
    """A box's lines joined into paragraphs; a new one starts at an indented line after a finished
    sentence, or at a line indented with ideographic spaces."""
    out: list[list[str]] = []
    for left, text in box.lines:
        indented = text.startswith("\u3000") or left - box.left > 12
        if not out or (indented and out[-1][-1].rstrip().endswith(tuple(ENDS))):
            out.append([])
        out[-1].append(text.strip("\u3000 "))
    return [joined(lines) for lines in out if any(lines)]


def joined(lines: list[str]) -> str:
    """Lines of one paragraph as one: no space where either side is Chinese (or Japanese), one
    elsewhere; a word split by a hyphen at the line's end whole again (state-of-the-art keeps its)."""
    out = ""
    for line in filter(None, lines):
        if not out:
            out = line
        elif re.search(r"(?<![-\w])[^\W\d_]+-$", out) and line[:1].islower():
            out = out[:-1] + line
        elif wide(out[-1]) or wide(line[0]):
            out += line
        else:
            out += " " + line
    return out.replace("\u00ad", "")  # soft hyphens, where the layout did not break at them


def wide(char: str) -> bool:
    """A CJK character or full-width mark, which Chinese text writes with no spaces around."""
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
            or 0xFE30 <= code <= 0xFE4F or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x3FFFF)


def join_pages(pages: list[list[str]]) -> list[str]:
    """The paragraphs of all pages; one that a page break cut mid-sentence joined with its rest."""
    out: list[str] = []
    for page in pages:
        for number, paragraph in enumerate(page):
            if number == 0 and out and not out[-1].endswith(tuple(ENDS)):
                out[-1] = joined([out[-1], paragraph])
            else:
                out.append(paragraph)
    return out
