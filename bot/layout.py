"""What an answer shows, decided once for every frontend.

``layout(answer, msgs, shown)`` returns a ``Layout``: the problem, or the answer line,
a notice (question cut), a verdict (not covered, nothing found), the quoted passage
with its marked stretches, and the passages shown as short lines. The REPL (ANSI or plain), ``qabot ask`` and
Telegram (HTML) only render it; the words come from bot/messages.py in the user's
language.

Marks inside a quote have roles: ``match`` (a word of the question), ``answer`` (the
answer span, when the extractor is confident) and ``sentence`` (the answer sentence,
when it is not). Segments never overlap; a match inside the answer is shown as answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple, Sequence

from retrieval import AnswerSpan, Hit
from retrieval.contradiction import COVERS
from retrieval.passages import sentence_ends

from . import messages as m
from .i18n import Messages

if TYPE_CHECKING:
    from .answering import Answer, Place

MATCH, ANSWER, SENTENCE = "match", "answer", "sentence"
NOT_COVERED_SHOWN = 2  # closest passages shown when the articles don't cover a question
# where a headline's or a passage's first clause may end: punctuation, or a space after Han text
CLAUSE_END = re.compile(r"[，。！？；：,!?;:]|(?<=[\u3400-\u9fff”」』》）])\s+(?=\S)")
PAUSE = set("，、：,;:）)」』”’ ")  # a short line may stop after these, with an ellipsis
LOST = re.compile(r"(?<![\x21-\x7e])\?+[ \t]*|\?{3,}")  # `?` standing for characters lost in the source
CITATION_WIDTH = 40  # a citation fits one phone line
COVERED = re.compile(re.escape(COVERS).replace(r"\{said\}", "(?P<said>.+)").replace(r"\{asked\}", "(?P<asked>.+)"))


class Segment(NamedTuple):
    start: int
    end: int
    roles: tuple[str, ...]  # outer role first (answer or sentence), then match


class Cite(NamedTuple):
    """A citation a reader understands, on one line: the headline's first clause, then where."""
    title: str  # shortened to fit the line; the full one is on demand (REPL :source, Telegram ¶)
    where: str  # 第3段 / para. 3, and the date when known
    url: str | None = None

    @property
    def line(self) -> str:
        return f"{self.title} · {self.where}"


@dataclass(frozen=True)
class Quote:
    hit: Hit
    marks: tuple[Segment, ...]  # marked stretches of hit.passage.text, in order
    cite: Cite


@dataclass(frozen=True)
class Snippet:
    hit: Hit
    text: str  # the passage on one line, lost characters left out; frontends cut it to fit
    marks: tuple[Segment, ...]  # the question's words (none when the articles don't cover it)
    cite: Cite


@dataclass(frozen=True)
class Layout:
    problem: str | None = None  # the question could not be searched: only this is shown
    answer: str | None = None  # the confident answer, shown first
    notice: str | None = None  # the question was cut
    verdict: str | None = None  # the articles don't cover it, or say nothing about it
    quote: Quote | None = None  # the passage quoted whole
    snippets: tuple[Snippet, ...] = ()  # further passages, one short line each


def answer_span(answer: Answer) -> AnswerSpan | None:
    """The extractor's answer span for this answer, or None (none offered)."""
    span = answer.result.answer if answer.result else None
    return span if span is not None and answer.answered and 1 <= span.rank <= len(answer.hits) else None


def layout(answer: Answer, msgs: Messages, shown: int) -> Layout:
    """What ``answer`` shows when ``shown`` passages fit: the quote and up to ``shown - 1`` short lines."""
    if answer.problem:
        return Layout(problem=problem_text(answer, msgs))
    notice = notices(answer, msgs)
    if not answer.hits:
        return Layout(notice=notice, verdict=msgs(m.NO_HITS))
    if not answer.answered:  # lightly: one sentence and the two closest passages, nothing in bold
        return Layout(notice=notice, verdict=msgs(m.NOT_COVERED),
                      snippets=tuple(snippet(answer, h, msgs, marked=False) for h in answer.hits[:NOT_COVERED_SHOWN]))
    span = answer_span(answer)
    best = answer.hits[span.rank - 1] if span else answer.hits[0]
    rest = tuple(h for h in answer.hits[:shown] if h is not best)[: max(shown - 1, 0)]
    confident = bool(span and span.confident)
    return Layout(answer=span.text if confident else None, notice=notice,
                  quote=Quote(best, quote_marks(best, span), cite(answer, best, msgs)),
                  snippets=tuple(snippet(answer, h, msgs) for h in rest))


def shown_count(answer: Answer, room: int) -> int:
    """How many passages an answer shows when ``room`` fit: fewer when the articles don't cover it."""
    return room if answer.answered else min(room, NOT_COVERED_SHOWN)


def snippet(answer: Answer, hit: Hit, msgs: Messages, marked: bool = True) -> Snippet:
    text, spans = without_lost(hit.passage.text, hit.highlights if marked else ())
    return Snippet(hit, text, tuple(Segment(s, e, (MATCH,)) for s, e in spans), cite(answer, hit, msgs))


def cite(answer: Answer, hit: Hit, msgs: Messages) -> Cite:
    """The hit's one-line citation: as much of the headline's first clause as fits beside where it is."""
    place = answer.place(hit)
    where = " · ".join(x for x in (position(place, msgs), place.date) if x)
    title = without_lost(hit.passage.title)[0].strip()
    return Cite(opening(title, max(CITATION_WIDTH - len(where) - 3, 8)), where, place.url)


def full_citation(answer: Answer, hit: Hit, msgs: Messages) -> str:
    """Everything about where a hit comes from: full title, where, date, URL, file and line."""
    place = answer.place(hit)
    return " · ".join(x for x in (hit.passage.title, position(place, msgs), place.date, place.url, hit.source) if x)


def position(place: Place, msgs: Messages) -> str:
    """Where in its article a passage is: its paragraph, or in a one-paragraph article its sentence."""
    return msgs(m.PARAGRAPH, n=place.paragraph) if place.paragraph else msgs(m.SENTENCE, n=place.sentence)


def without_lost(text: str, spans: Sequence[tuple[int, int]] = ()) -> tuple[str, list[tuple[int, int]]]:
    """``text`` on one line without runs of ``?`` standing for lost characters, ``spans`` moved to match."""
    pieces, pos, done = [], 0, 0  # kept stretches: (start, end) in text, start in the result
    for lost in LOST.finditer(text):
        pieces.append((pos, lost.start(), done))
        done += lost.start() - pos
        pos = lost.end()
    pieces.append((pos, len(text), done))
    out = "".join(" " if ch.isspace() else ch for a, b, _ in pieces for ch in text[a:b])

    def moved(i: int) -> int:
        return next(o + max(i - a, 0) for a, b, o in pieces if i <= b)

    return out, [(moved(s), moved(e)) for s, e in spans if moved(s) < moved(e)]


def snippet_end(text: str, widths: Sequence[int], room: int) -> tuple[int, bool]:
    """Where a one-line snippet of ``text`` stops to fit ``room`` (``widths``: each character's),
    and whether it needs an ellipsis: at a sentence end in the second half of the room without one,
    else after a pause (comma, space) or between Han characters, never inside a Latin word."""
    if sum(widths) <= room:
        return len(text), False
    used, fit = 0, 0
    while fit < len(text) and used + widths[fit] <= room - 1:
        used += widths[fit]
        fit += 1
    ends = [e for e in sentence_ends(text) if fit // 2 <= len(text[:e].rstrip()) <= fit + 1]
    if ends:
        return len(text[: ends[-1]].rstrip()), False
    for i in range(fit, max(fit * 2 // 3, 1), -1):
        if text[i - 1] in PAUSE:
            return (i - 1 if text[i - 1] == " " else i), True  # no space before the ellipsis
    cut = fit
    while 0 < cut < len(text) and text[cut - 1].isascii() and text[cut - 1].isalnum() and text[cut].isascii() \
            and text[cut].isalnum():
        cut -= 1
    return (cut if cut > fit // 2 else fit), True


def notices(answer: Answer, msgs: Messages) -> str | None:
    """The question was cut; shards of a sharded index were out of reach; it names a year the articles
    contradict (what they cover instead)."""
    result, out = answer.result, []
    if result and result.truncated:
        out.append(msgs(m.CUT_NOTICE, length=len(result.question)))
    if result and result.missing_shards:
        out.append(msgs(m.PARTIAL, shards=", ".join(map(str, result.missing_shards))))
    if result and result.notice:
        found = COVERED.fullmatch(result.notice)
        out.append(msgs(m.CONTRADICTED, **found.groupdict()) if found else f"({result.notice})")
    return ("" if msgs.chinese else " ").join(out) or None


def quote_marks(hit: Hit, span: AnswerSpan | None) -> tuple[Segment, ...]:
    if span is None:
        return segments(hit.highlights)
    if span.confident:
        return segments(hit.highlights, (span.start, span.end), ANSWER)
    return segments(hit.highlights, tuple(span.sentence), SENTENCE)


def segments(matches: Sequence[tuple[int, int]], outer: tuple[int, int] | None = None,
             role: str = ANSWER) -> tuple[Segment, ...]:
    """The matches cut at the edges of ``outer``, and ``outer`` with ``role`` around them."""
    if outer is None:
        return tuple(Segment(s, e, (MATCH,)) for s, e in matches)
    o_start, o_end = outer
    out = []
    for s, e in matches:
        for a, b in ((s, min(e, o_start)), (max(s, o_start), min(e, o_end)), (max(s, o_end), e)):
            if a < b:
                out.append(Segment(a, b, (role, MATCH) if o_start <= a and b <= o_end else (MATCH,)))
    inside = [x for x in out if x.roles[0] == role]
    if role == ANSWER:  # the answer is one stretch in its own colour; the question's words in it give way
        out = [x for x in out if x.roles[0] != role] + [Segment(o_start, o_end, (ANSWER,))]
    else:  # the sentence: the gaps between the matches inside it
        cuts = [o_start] + [p for x in inside for p in (x.start, x.end)] + [o_end]
        out += [Segment(a, b, (role,)) for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
    return tuple(sorted(out))


def render(text: str, marks: Sequence[Segment], paint: Callable[[str, tuple[str, ...]], str],
           plain: Callable[[str], str] = lambda s: s) -> str:
    """``text`` with each segment passed through ``paint(text, roles)`` and the rest through ``plain``."""
    out, pos = [], 0
    for s, e, roles in marks:
        out += [plain(text[pos:s]), paint(text[s:e], roles)]
        pos = e
    out.append(plain(text[pos:]))
    return "".join(out)


def bracketed(text: str, marks: Sequence[Segment], brackets: dict[str, tuple[str, str]],
              plain: Callable[[str], str] = lambda s: s) -> str:
    """``text`` with marks shown by opening and closing strings (brackets in plain text, tags in
    HTML; ``plain`` escapes the text): an outer role's around the whole stretch, a match's inside."""
    out, pos, outer = [], 0, None
    for s, e, roles in marks:
        role = roles[0] if roles[0] != MATCH else None
        if outer and (role != outer or s != pos):
            out.append(brackets[outer][1])
            outer = None
        out.append(plain(text[pos:s]))
        if role and role != outer:
            out.append(brackets[role][0])
            outer = role
        body = plain(text[s:e])
        if MATCH in roles and role != ANSWER:
            body = brackets[MATCH][0] + body + brackets[MATCH][1]
        out.append(body)
        pos = e
    if outer:
        out.append(brackets[outer][1])
    out.append(plain(text[pos:]))
    return "".join(out)


def problem_text(answer: Answer, msgs: Messages) -> str:
    """Why the question could not be searched, in the user's language."""
    if not answer.question.strip():
        reason = msgs(m.EMPTY_QUESTION, example=msgs(m.EXAMPLE))
    elif "unknown to the articles" in answer.problem:
        reason = msgs(m.UNKNOWN_WORDS, question=repr(answer.question.strip()[:40]))
    elif answer.problem.startswith("nothing to search for"):
        reason = msgs(m.NOTHING_TO_SEARCH, question=repr(answer.question.strip()[:40]))
    else:
        reason = answer.problem
    return msgs(m.CANT_SEARCH, reason=reason)


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def opening(text: str, width: int = 30) -> str:
    """The first clause of ``text`` (up to a comma, full stop, or a space in Chinese) when it fits
    ``width`` characters, else as much as fits, cut between words, with an ellipsis."""
    text = " ".join(text.split())
    for found in CLAUSE_END.finditer(text):
        if found.start() > width:
            break
        if found.start() >= 4:
            return text[: found.start()]
    end, ellipsis = snippet_end(text, [1] * len(text), width)
    return text[:end].rstrip() + ("…" if ellipsis else "")
