"""Split articles into paragraphs and paragraphs into passages of whole sentences.

Every passage keeps its article, paragraph and part numbers and its character
offsets in the article text, so a citation can point at the exact words.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, NamedTuple

from .articles import Article

# A sentence ends at 。！？；!?; (or a '.' before a space) plus any closing quotes and brackets.
SENTENCE_END = re.compile(r"(?:[。！？；!?;…]+|\.(?=\s))[”’」』）)\]】》\"'〉]*\s*")
# Where an over-long sentence may be cut: after a comma-like mark.
SOFT_BREAK = re.compile(r"[，、,：:]\s*")
PARAGRAPH = re.compile(r"[^\n]+")


class Passage(NamedTuple):  # a tuple: a million of them are made in a build, and a frozen dataclass is slow to make
    article_id: str
    title: str
    paragraph: int  # 1-based paragraph number in the article
    part: int  # 1-based part number within the paragraph
    start: int  # character offsets in the article text
    end: int
    text: str
    date: str = ""  # the article's date and URL, "" when unknown (see ``Article``)
    url: str = ""


def sentence_ends(text: str) -> list[int]:
    """Where each sentence of ``text`` ends (after its closing marks and spaces)."""
    return [m.end() for m in SENTENCE_END.finditer(text)]


def split_articles(articles: Iterable[Article], target: int = 200, hard_max: int = 400,
                   overlap: bool = True) -> list[Passage]:
    """All passages of ``articles`` in order."""
    return [p for article in articles for p in split_article(article, target, hard_max, overlap)]


def split_article(article: Article, target: int = 200, hard_max: int = 400,
                  overlap: bool = True) -> Iterator[Passage]:
    """Passages of one article: paragraphs at line breaks, long ones packed from sentences.

    With ``overlap`` a passage starts at every sentence (a sliding window of whole
    sentences), so an answer's sentence always shares a passage with the sentences
    after it; search then keeps only the best of overlapping passages.
    """
    for paragraph, part, start, end in passage_bounds(article.text, target, hard_max, overlap):
        yield Passage(article.id, article.title, paragraph, part, start, end, article.text[start:end],
                      article.date, article.url)


def passage_bounds(text: str, target: int, hard_max: int, overlap: bool) -> list[tuple[int, int, int, int]]:
    """(paragraph, part, start, end) of each passage of ``text``, as ``split_article`` cuts it."""
    if target < 1 or hard_max < 1:  # a cut of 0 characters would never advance
        raise ValueError(f"passage target and max must be at least 1 character, not {target} and {hard_max}")
    out = []
    number = 0
    for match in PARAGRAPH.finditer(text):
        if not match.group().strip():
            continue
        number += 1
        found = sentences(text, match.start(), match.end(), hard_max)
        found = windows(found, target) if overlap else pack(found, target)
        out += [(number, part, start, end) for part, (start, end) in enumerate(found, 1)]
    return out


def sentences(text: str, start: int, end: int, hard_max: int) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end], whitespace trimmed; over-long ones cut at commas."""
    cuts = [m.end() for m in SENTENCE_END.finditer(text, start, end)]
    if not cuts or cuts[-1] < end:
        cuts.append(end)
    out = []
    for s, e in zip([start] + cuts, cuts):
        if text[s].isspace() or text[e - 1].isspace():
            s, e = trim(text, s, e)
            if e <= s:
                continue
        if e - s > hard_max:
            out.extend(cut_long(text, s, e, hard_max))
        else:
            out.append((s, e))
    return out


def cut_long(text: str, start: int, end: int, hard_max: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at commas, and where there are none, every ``hard_max`` characters."""
    pieces, pos = [], start
    for match in SOFT_BREAK.finditer(text, start, end):
        pieces.append((pos, match.end()))
        pos = match.end()
    pieces.append((pos, end))
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        while e - s > hard_max:
            out.append((s, s + hard_max))
            s += hard_max
        if out and e - out[-1][0] <= hard_max and out[-1][1] == s:
            out[-1] = (out[-1][0], e)  # join short comma pieces back up to hard_max
        else:
            out.append((s, e))
    return [trim(text, s, e) for s, e in out if text[s:e].strip()]


def pack(spans: list[tuple[int, int]], target: int) -> list[tuple[int, int]]:
    """Greedily join consecutive sentences while the passage stays within ``target`` characters."""
    packed: list[tuple[int, int]] = []
    for s, e in spans:
        if packed and e - packed[-1][0] <= target:
            packed[-1] = (packed[-1][0], e)
        else:
            packed.append((s, e))
    return packed


def windows(spans: list[tuple[int, int]], target: int) -> list[tuple[int, int]]:
    """One window per sentence: it and the sentences after it, within ``target`` characters."""
    out = []
    for i, (start, end) in enumerate(spans):
        for _, later_end in spans[i + 1:]:
            if later_end - start > target:
                break
            end = later_end
        out.append((start, end))
    return out


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
