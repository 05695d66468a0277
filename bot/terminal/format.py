"""Terminal rendering for the REPL: display widths, wrapping, colour, answer blocks.

Widths count East Asian wide characters (汉字, full-width punctuation) as two
columns, so Chinese and English wrap and indent alike. A ``Format`` pairs a
``Style`` (ANSI colour, or ``PLAIN``: no control codes, matches in [brackets])
with the width to wrap to (``None``: don't wrap, for stable scripted output).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from retrieval import Hit

from ..answering import CANT_SEARCH, NO_HITS, NOT_COVERED, Answer, citation, cut_notice, mark, partial_notice
from retrieval.safetext import printable

# Kinsoku: these never start a line, these never end one.
NO_START = set("，。、；：！？）」』”’》〉】…,.;:!?)]}%·")
NO_END = set("（「『“‘《〈【([{")
SHORT_UNWRAPPED = 120  # columns of a short line when there is no terminal width to fit
INDENT = "    "
SGR = re.compile(r"\x1b\[[0-9;]*m")
Spans = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class Style:
    """SGR codes per role; an empty mapping means plain text."""
    codes: dict

    def paint(self, role: str, text: str) -> str:
        if not text:
            return text
        if not self.codes:  # plain: brackets show the matches, as `qabot ask` does
            return f"[{text}]" if role == "match" else text
        code = self.codes.get(role)
        return f"\x1b[{code}m{text}\x1b[0m" if code else text

    @property
    def mark_width(self) -> int:
        """Columns that marking a match adds: the two brackets of plain text, nothing for colour."""
        return 0 if self.codes else 2


COLOUR = Style({"match": "1;31", "cite": "36", "rank": "1", "note": "33", "problem": "33", "dim": "2"})
PLAIN = Style({})


@dataclass(frozen=True)
class Format:
    style: Style
    width: Callable[[], int | None] = lambda: None  # asked at each answer: the terminal may be resized


@lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    """Columns a character takes: 2 for East Asian wide/full-width, 0 for combining and control marks."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Cc", "Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Columns ``text`` takes on a terminal; colour codes take none."""
    return sum(char_width(ch) for ch in SGR.sub("", text))


def wrap_offsets(text: str, width: int | None) -> list[tuple[int, int]]:
    """Lines of ``text`` as (start, end) offsets: a break at each newline, then at most ``width`` columns."""
    lines, start = [], 0
    for end in [i for i, ch in enumerate(text) if ch == "\n"] + [len(text)]:
        lines += wrap_line(text, start, end, width) if width else [(start, end)]
        start = end + 1
    return lines


def breakable(text: str, i: int) -> bool:
    """A line may break before ``text[i]``: at spaces and beside wide characters, but never
    before closing punctuation or after opening punctuation (kinsoku: the character moves along)."""
    before, ch = text[i - 1], text[i]
    if ch in NO_START or before in NO_END or (ch.isspace() and text[i + 1: i + 2] in NO_START):
        return False
    return ch.isspace() or before.isspace() or char_width(ch) == 2 or char_width(before) == 2


def wrap_line(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """Greedy wrap of one paragraph; words of Latin script stay whole unless longer than a line."""
    lines, line_start, used, last_break = [], start, 0, None
    i = start
    while i < end:
        ch = text[i]
        if i > line_start and breakable(text, i):
            last_break = i
        w = char_width(ch)
        if used + w > width and i > line_start and not ch.isspace():
            cut = last_break if last_break and last_break > line_start else i
            lines.append((line_start, rstrip(text, line_start, cut)))
            line_start = i = lstrip(text, cut, end)
            used, last_break = 0, None
            continue
        used += w
        i += 1
    if line_start < end or not lines:
        lines.append((line_start, rstrip(text, line_start, end)))
    return lines


def rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def lstrip(text: str, start: int, end: int) -> int:
    while start < end and text[start] in " \t\u3000":
        start += 1
    return start


def clip(spans: Spans, start: int, end: int) -> list[tuple[int, int]]:
    """``spans`` that overlap text[start:end], shifted to start at 0."""
    return [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]


def block(prefix: str, text: str, fmt: Format, role: str = "", spans: Spans = ()) -> list[str]:
    """``text`` wrapped after ``prefix``, continuation lines indented to line up with the first."""
    width = fmt.width()
    room = max(width - text_width(prefix), 10) if width else None
    pad = " " * text_width(prefix)
    text = printable(text)
    if spans and fmt.style.mark_width:  # plain: the brackets take columns, so wrap the marked text
        text, spans = mark(text, spans, lambda t: fmt.style.paint("match", t)), ()
    out = []
    for n, (s, e) in enumerate(wrap_offsets(text, room)):
        body = mark(text[s:e], clip(spans, s, e), lambda t: fmt.style.paint("match", t),
                    lambda t: fmt.style.paint(role, t))
        out.append((prefix if n == 0 else pad) + body)
    return out


def shorten(text: str, columns: int, spans: Spans = (), extra: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """``text`` on one line, cut to ``columns`` with an ellipsis, and its spans clipped to match.

    ``extra`` is the columns a marked span adds (the brackets of plain text)."""
    text = "".join(" " if ch.isspace() else ch for ch in printable(text))  # one line; offsets unchanged
    if text_width(text) + extra * len(spans) <= columns:
        return text, list(spans)
    starts = {s for s, _ in spans}
    used, end = 0, 0
    while end < len(text):
        w = char_width(text[end]) + (extra if end in starts else 0)
        if used + w > columns - 1:  # leave a column for the ellipsis
            break
        used += w
        end += 1
    return text[:end] + "…", clip(spans, 0, end)


def rank(hit: Hit, fmt: Format) -> str:
    return fmt.style.paint("rank", f"[{hit.rank}]") + " "


def quote_lines(hit: Hit, fmt: Format) -> list[str]:
    """The best passage: its citation, then the whole passage with the matched words marked."""
    return (block(rank(hit, fmt), citation(hit), fmt, "cite")
            + block(INDENT, hit.passage.text, fmt, spans=hit.highlights))


def short_lines(hit: Hit, fmt: Format) -> list[str]:
    """A further passage: its citation, then one line of its text."""
    width = fmt.width()
    columns = width - len(INDENT) if width else SHORT_UNWRAPPED
    text, spans = shorten(hit.passage.text, max(columns, 10), hit.highlights, fmt.style.mark_width)
    body = mark(text, spans, lambda t: fmt.style.paint("match", t))
    return block(rank(hit, fmt), citation(hit), fmt, "cite") + [INDENT + body]


def render_answer(answer: Answer, k: int, fmt: Format) -> str:
    """What a question gets: the best passage quoted, then up to ``k - 1`` short cited lines."""
    paint = fmt.style.paint
    if answer.problem:
        return "\n".join(block("", f"{CANT_SEARCH} {answer.problem}", fmt, "problem"))
    lines = []
    if answer.result and answer.result.truncated:
        lines += block("", cut_notice(len(answer.result.question)), fmt, "note")
    if answer.result and answer.result.missing_shards:
        lines += block("", partial_notice(answer.result.missing_shards), fmt, "note")
    if not answer.hits:
        return "\n".join(lines + [paint("note", NO_HITS)])
    if not answer.answered:
        lines.append(paint("note", NOT_COVERED))
    lines += quote_lines(answer.hits[0], fmt)
    for hit in answer.hits[1:k]:
        lines += short_lines(hit, fmt)
    return "\n".join(lines)


def render_more(hits: Sequence[Hit], fmt: Format) -> str:
    return "\n".join(line for hit in hits for line in short_lines(hit, fmt))


def render_opened(hit: Hit, text: str, offset: int, fmt: Format) -> str:
    """``text`` (a paragraph or article holding the hit's passage at ``offset``), matches marked."""
    spans = [(s + offset, e + offset) for s, e in hit.highlights] if offset >= 0 else []
    lines = block(rank(hit, fmt), citation(hit), fmt, "cite")
    for s, e in paragraph_offsets(text):
        lines += block(INDENT, text[s:e], fmt, spans=clip(spans, s, e))
    return "\n".join(lines)


def paragraph_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line of ``text``."""
    out, start = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((start, start + len(line)))
        start += len(line) + 1
    return out
