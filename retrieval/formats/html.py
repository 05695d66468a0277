"""Saved web pages: the article's main text, title, date and canonical URL, by trafilatura.

trafilatura drops menus, ads, comments and footers and reads the date (htmldate) and the
canonical URL from the page's metadata; it detects the page's encoding (GBK pages too).
"""
from __future__ import annotations

import logging
from pathlib import Path

from . import article

NO_MAIN_TEXT = "no main text found (a page of links, or one its scripts fill in?); save the article's own page; skipped"


def read(path: Path, name: str, data: bytes, url: str = ""):
    """The ``Article`` of one HTML page, or a ``LoadProblem``; ``url`` is where it was fetched from."""
    from ..records import LoadProblem

    found = extract(data, url)
    if found is None or not (found.text or "").strip():
        return LoadProblem(str(path), 0, NO_MAIN_TEXT)
    paragraphs = found.text.splitlines()
    return article(path, name, paragraphs, (found.title or "").strip(), found.date or "", found.url or url)


def extract(data: bytes, url: str = ""):
    """trafilatura's document (``.text``, ``.title``, ``.date``, ``.url``), or None."""
    import trafilatura  # loaded late: about 0.3 s, and only pages need it

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # its notes are not the user's warnings
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    # no deduplicate: its cache lives across calls, so a page read again (a reload) would lose its text.
    # favor_precision: a page of links gives nothing rather than its menu (the recall mode's fallback
    # takes every line of the page when it finds no article in it)
    return trafilatura.bare_extraction(data, url=url or None, with_metadata=True, include_comments=False,
                                       include_tables=True, favor_precision=True)
