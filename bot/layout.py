"""What an answer shows, decided once for every frontend.

``layout(answer, msgs, shown)`` returns a ``Layout``: the problem, or the answer line,
a notice (question cut), a verdict (not covered, nothing found), the quoted passage with its marked stretches,
and the passages shown as short lines. The REPL (ANSI or plain), ``qabot ask`` and
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

from retrieval import Hit

from . import messages as m
from .i18n import Messages

if TYPE_CHECKING:
    from .answering import Answer

MATCH, ANSWER, SENTENCE = "match", "answer", "sentence"
CLAUSE_END = re.compile(r"[，。！？；：,!?;:]|\s{1,}(?=\S)")  # where a headline's or a passage's first clause may end


class Segment(NamedTuple):
    start: int
    end: int
    roles: tuple[str, ...]  # outer role first (answer or sentence), then match


@dataclass(frozen=True)
class Quote:
    hit: Hit
    marks: tuple[Segment, ...]  # marked stretches of hit.passage.text, in order


@dataclass(frozen=True)
class Layout:
    problem: str | None = None  # the question could not be searched: only this is shown
    answer: str | None = None  # the confident answer, shown first
    notice: str | None = None  # the question was cut
    verdict: str | None = None  # the articles don't cover it, or say nothing about it
    quote: Quote | None = None  # the passage quoted whole
    snippets: tuple[Hit, ...] = ()  # further passages, one short line each


def answer_span(answer: Answer):
    """The extractor's ``AnswerSpan`` for this answer, or None (none offered, or no extractor)."""
    span = getattr(answer.result, "answer", None) if answer.result else None
    return span if span is not None and answer.answered and 1 <= span.rank <= len(answer.hits) else None


def layout(answer: Answer, msgs: Messages, shown: int) -> Layout:
    """What ``answer`` shows when ``shown`` passages fit: the quote and up to ``shown - 1`` short lines."""
    if answer.problem:
        return Layout(problem=problem_text(answer, msgs))
    notice = msgs(m.CUT_NOTICE, length=len(answer.result.question)) if answer.result and answer.result.truncated else None
    if not answer.hits:
        return Layout(notice=notice, verdict=msgs(m.NO_HITS))
    verdict = None if answer.answered else msgs(m.NOT_COVERED)
    span = answer_span(answer)
    best = answer.hits[span.rank - 1] if span else answer.hits[0]
    rest = tuple(h for h in answer.hits[:shown] if h is not best)[: max(shown - 1, 0)]
    confident = bool(span and span.confident)
    return Layout(answer=span.text if confident else None, notice=notice, verdict=verdict,
                  quote=Quote(best, quote_marks(best, span)), snippets=rest)


def quote_marks(hit: Hit, span) -> tuple[Segment, ...]:
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


def bracketed(text: str, marks: Sequence[Segment], brackets: dict[str, tuple[str, str]]) -> str:
    """``text`` with marks shown by brackets alone (plain text): an outer role's brackets around
    the whole stretch, a match's inside them (none inside the answer)."""
    out, pos, outer = [], 0, None
    for s, e, roles in marks:
        role = roles[0] if roles[0] != MATCH else None
        if outer and (role != outer or s != pos):
            out.append(brackets[outer][1])
            outer = None
        out.append(text[pos:s])
        if role and role != outer:
            out.append(brackets[role][0])
            outer = role
        body = text[s:e]
        if MATCH in roles and role != ANSWER:
            body = brackets[MATCH][0] + body + brackets[MATCH][1]
        out.append(body)
        pos = e
    if outer:
        out.append(brackets[outer][1])
    out.append(text[pos:])
    return "".join(out)


def problem_text(answer: Answer, msgs: Messages) -> str:
    """Why the question could not be searched, in the user's language."""
    if not answer.question.strip():
        reason = msgs(m.EMPTY_QUESTION, example=msgs(m.EXAMPLE))
    elif answer.problem.startswith("nothing to search for"):
        reason = msgs(m.NOTHING_TO_SEARCH, question=repr(answer.question.strip()[:40]))
    else:
        reason = answer.problem
    return msgs(m.CANT_SEARCH, reason=reason)


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def opening(text: str, width: int = 30) -> str:
    """The first clause of ``text`` (up to a comma, full stop or space) when it fits ``width``
    characters, else its first ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    for found in CLAUSE_END.finditer(text):
        if found.start() > width:
            break
        if found.start() >= 4:
            return text[: found.start()]
    return shorten(text, width)
