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
from retrieval.safetext import printable

from ..answering import Answer
from ..i18n import Messages
from ..layout import (ANSWER, MATCH, SENTENCE, Quote, Segment, Snippet, bracketed, full_citation, layout, render,
                      snippet, snippet_end)

# Kinsoku: these never start a line, these never end one.
NO_START = set("，。、；：！？）」』”’》〉】…,.;:!?)]}%·")
NO_END = set("（「『“‘《〈【([{")
SHORT_UNWRAPPED = 120  # columns of a short line when there is no terminal width to fit
INDENT = "    "
SGR = re.compile(r"\x1b\[[0-9;]*m")
Spans = Sequence[tuple[int, int]]
Marks = Sequence[Segment]


@dataclass(frozen=True)
class Style:
    """SGR codes per role; an empty mapping means plain text, marks shown by brackets."""
    codes: dict

    def paint(self, role: str, text: str) -> str:
        return self.marked(text, (role,))

    def marked(self, text: str, roles: tuple[str, ...]) -> str:
        """``text`` in the colours of ``roles`` (outer first, each its own code so they nest)."""
        if not text:
            return text
        if not self.codes:  # plain: only marks show, by their brackets
            marks = tuple(r for r in roles if r in BRACKETS)
            return bracketed(text, [Segment(0, len(text), marks)], BRACKETS) if marks else text
        codes = "".join(f"\x1b[{self.codes[r]}m" for r in roles if self.codes.get(r))
        return f"{codes}{text}\x1b[0m" if codes else text

    @property
    def mark_width(self) -> int:
        """Columns that marking a match adds: the two brackets of plain text, nothing for colour."""
        return 0 if self.codes else 2


# Without colour: a match in [brackets], the confident answer in 【】, an unsure answer's sentence in 〔〕.
BRACKETS = {MATCH: ("[", "]"), ANSWER: ("【", "】"), SENTENCE: ("〔", "〕")}
COLOUR = Style({MATCH: "1;31", ANSWER: "1;32", SENTENCE: "4", "lead": "1;32", "cite": "36", "rank": "1", "note": "33",
                "problem": "33", "dim": "2"})
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


def clip(marks: Marks, start: int, end: int) -> list[Segment]:
    """``marks`` that overlap text[start:end], shifted to start at 0."""
    return [Segment(max(s, start) - start, min(e, end) - start, roles) for s, e, roles in marks
            if s < end and e > start]


def block(prefix: str, text: str, fmt: Format, role: str = "", marks: Marks = ()) -> list[str]:
    """``text`` wrapped after ``prefix``, continuation lines indented to line up with the first."""
    width = fmt.width()
    room = max(width - text_width(prefix), 10) if width else None
    pad = " " * text_width(prefix)
    text = printable(text)
    if marks and not fmt.style.codes:  # plain: the brackets take columns, so wrap the marked text
        text, marks = bracketed(text, marks, BRACKETS), ()
    out = []
    for n, (s, e) in enumerate(wrap_offsets(text, room)):
        body = render(text[s:e], clip(marks, s, e), fmt.style.marked, lambda t: fmt.style.paint(role, t))
        out.append((prefix if n == 0 else pad) + body)
    return out


def fit_columns(text: str, columns: int, spans: Spans = (), extra: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """``text`` on one line, cut to ``columns`` (at a sentence end when one is near, else with an
    ellipsis), and its spans clipped to match. ``extra``: the columns a marked span adds (plain brackets)."""
    text = "".join(" " if ch.isspace() else ch for ch in printable(text))  # one line; offsets unchanged
    starts = {s for s, _ in spans}
    widths = [char_width(ch) + (extra if i in starts else 0) for i, ch in enumerate(text)]
    end, ellipsis = snippet_end(text, widths, columns)
    return text[:end] + ("…" if ellipsis else ""), [(s, min(e, end)) for s, e in spans if s < end]


def rank(hit: Hit, fmt: Format) -> str:
    return fmt.style.paint("rank", f"[{hit.rank}]") + " "


def matches(spans: Spans, offset: int = 0) -> list[Segment]:
    return [Segment(s + offset, e + offset, (MATCH,)) for s, e in spans]


def quote_lines(quote: Quote, fmt: Format) -> list[str]:
    """The quoted passage: its citation, then the whole passage with its marks."""
    return (block(rank(quote.hit, fmt), quote.cite.line, fmt, "cite")
            + block(INDENT, quote.hit.passage.text, fmt, marks=quote.marks))


def short_lines(item: Snippet, fmt: Format) -> list[str]:
    """A further passage: its citation, then one line of its text."""
    width = fmt.width()
    columns = width - len(INDENT) if width else SHORT_UNWRAPPED
    spans = [(s, e) for s, e, _ in item.marks]
    text, spans = fit_columns(item.text, max(columns, 10), spans, fmt.style.mark_width)
    body = render(text, matches(spans), fmt.style.marked)
    return block(rank(item.hit, fmt), item.cite.line, fmt, "cite") + [INDENT + body]


def render_answer(answer: Answer, k: int, fmt: Format, msgs: Messages = Messages()) -> str:
    """What a question gets: the answer line, notes, the quoted passage, then up to ``k - 1`` short cited lines."""
    shown = layout(answer, msgs, k)
    if shown.problem:
        return "\n".join(block("", shown.problem, fmt, "problem"))
    lines = block("", f"→ {shown.answer}", fmt, "lead") if shown.answer else []
    for note in (shown.notice, shown.verdict):
        lines += block("", note, fmt, "note") if note else []
    if shown.quote:
        lines += quote_lines(shown.quote, fmt)
    for item in shown.snippets:
        lines += short_lines(item, fmt)
    return "\n".join(lines)


def plain_text(answer: Answer, snippets: int = 3, msgs: Messages = Messages()) -> str:
    """The answer for ``qabot ask``: no colour, no wrapping, the quote and ``snippets`` short lines."""
    return render_answer(answer, 1 + snippets, Format(PLAIN), msgs)


def render_more(answer: Answer, hits: Sequence[Hit], fmt: Format, msgs: Messages = Messages()) -> str:
    return "\n".join(line for hit in hits for line in short_lines(snippet(answer, hit, msgs, answer.answered), fmt))


def render_opened(answer: Answer, hit: Hit, text: str, offset: int, fmt: Format, msgs: Messages = Messages()) -> str:
    """``text`` (a paragraph or article holding the hit's passage at ``offset``) under the full
    citation, the passage's matches marked."""
    marks = matches(hit.highlights, offset) if offset >= 0 else []
    lines = block(rank(hit, fmt), full_citation(answer, hit, msgs), fmt, "cite")
    for s, e in paragraph_offsets(text):
        lines += block(INDENT, text[s:e], fmt, marks=clip(marks, s, e))
    return "\n".join(lines)


def render_source(answer: Answer, hit: Hit, fmt: Format, msgs: Messages = Messages()) -> str:
    """Where result N comes from, in full: title, place, date, URL, file and line."""
    return "\n".join(block(rank(hit, fmt), full_citation(answer, hit, msgs), fmt, "cite"))


def paragraph_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line of ``text``."""
    out, start = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((start, start + len(line)))
        start += len(line) + 1
    return out
