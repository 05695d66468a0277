"""Answers as Telegram HTML: escaped, highlighted, cited, and split under 4096 characters.

Everything that comes from the corpus or the user goes through ``html.escape``;
the only tags are the ones written here (b, i, u, a, blockquote), and
``split_html`` keeps them balanced in every piece. What an answer shows is decided by
bot/layout.py; this module only writes it as HTML.
"""
from __future__ import annotations

import re
from html import escape
from typing import Sequence

from retrieval import Hit

from .. import messages as m
from ..answering import Answer
from ..i18n import Messages
from ..layout import (ANSWER, MATCH, SENTENCE, Cite, Segment, Snippet, answer_span, bracketed, cite, full_citation,
                      layout, opening, quote_marks, shorten, shown_count, snippet, snippet_end)

LIMIT = 4096  # Telegram's maximum message length, in UTF-16 code units
MORE = 4  # hits per "more results" page
# the question's words bold, the answer underlined and bold, an unsure answer's sentence in italics
TAGS = {MATCH: ("<b>", "</b>"), ANSWER: ("<u><b>", "</b></u>"), SENTENCE: ("<i>", "</i>")}


def bold(text: str) -> str:
    return f"<b>{escape(text)}</b>"


def marked(text: str, marks: Sequence[Segment]) -> str:
    """``text`` escaped, its marks as tags (an unsure answer's sentence one <i> with its matches inside)."""
    return bracketed(text, marks, TAGS, escape)


def highlighted(hit: Hit, marks: Sequence[Segment] | None = None) -> str:
    return marked(hit.passage.text, [Segment(s, e, (MATCH,)) for s, e in hit.highlights] if marks is None else marks)


def first_page(answer: Answer, snippets: int) -> int:
    """Hits on page 0: the quote and ``snippets`` short lines, or the few closest when not covered."""
    return shown_count(answer, 1 + snippets)


def page_hits(answer: Answer, page: int, snippets: int) -> list[Hit]:
    """Page 0 is what the answer shows first; later pages hold ``MORE`` each."""
    first = first_page(answer, snippets)
    if page == 0:
        return list(answer.hits[:first])
    start = first + (page - 1) * MORE
    return list(answer.hits[start:start + MORE])


def page_count(answer: Answer, snippets: int) -> int:
    rest = max(0, len(answer.hits) - first_page(answer, snippets))
    return (1 if answer.hits else 0) + -(-rest // MORE)


def cite_html(item: Cite) -> str:
    """A one-line citation; the title links to the article when its URL is known."""
    title = escape(item.title)
    if item.url and item.url.startswith(("http://", "https://")):
        title = f'<a href="{escape(item.url, quote=True)}">{title}</a>'
    return f"{title} · {escape(item.where)}"


def answer_html(answer: Answer, page: int = 0, snippets: int = 3, msgs: Messages = Messages()) -> str:
    """One page of an answer; page 0 leads with the answer and quotes its passage, later pages list more."""
    if page > 0 and answer.hits:
        lines = [msgs(m.MORE_PASSAGES, question=f"<i>{escape(shorten(answer.question, 80))}</i>")]
        lines += [cited_line(snippet(answer, hit, msgs, marked=answer.answered), 200)
                  for hit in page_hits(answer, page, snippets)]
        return "\n\n".join(lines)
    shown = layout(answer, msgs, 1 + snippets)
    if shown.problem:
        return escape(shown.problem)
    lines = [bold(shown.answer)] if shown.answer else []
    lines += [f"<i>{escape(shown.notice)}</i>"] if shown.notice else []
    if not answer.hits:
        return "\n\n".join(lines + [escape(msgs(m.TRY_OTHER_WORDS, verdict=shown.verdict))])
    lines += [escape(shown.verdict)] if shown.verdict else []
    if shown.quote:
        best = shown.quote.hit
        lines.append(f"<b>[{best.rank}]</b> {cite_html(shown.quote.cite)}\n"
                     f"<blockquote>{highlighted(best, shown.quote.marks)}</blockquote>")
    lines += [cited_line(item, 80) for item in shown.snippets]
    return "\n\n".join(lines)


def cited_line(item: Snippet, width: int) -> str:
    """A short cited line: rank and citation, then the passage's start (to a sentence end when near)."""
    end, ellipsis = snippet_end(item.text, [1] * len(item.text), width)
    marks = [x for x in item.marks if x.start < end]
    body = marked(item.text[:end], [Segment(s, min(e, end), r) for s, e, r in marks])
    return f"<b>[{item.hit.rank}]</b> <i>{cite_html(item.cite)}</i>\n{body}{'…' if ellipsis else ''}"


def paragraph_html(answer: Answer, hit: Hit, paragraph: str, msgs: Messages = Messages()) -> str:
    """The whole paragraph of a hit under its full citation (title, place, file and line), matches in bold."""
    offset = paragraph.find(hit.passage.text)
    spans = [(s + offset, e + offset) for s, e in hit.highlights] if offset >= 0 else []
    quote = marked(paragraph, [Segment(s, e, (MATCH,)) for s, e in spans])
    return f"<b>{escape(full_citation(answer, hit, msgs))}</b>\n<blockquote>{quote}</blockquote>"


def article_html(hit: Hit, text: str) -> str:
    return f"<b>{escape(hit.passage.title)}</b> · <i>{escape(hit.source)}</i>\n\n{escape(text)}"


def inline_html(hit: Hit, item: Cite, span=None) -> str:
    """The message an inline result sends: the answer (when confident), the citation and the passage."""
    lead = f"{bold(span.text)}\n" if span is not None and span.confident else ""
    return f"{lead}{cite_html(item)}\n<blockquote>{highlighted(hit, quote_marks(hit, span))}</blockquote>"


def inline_items(answer: Answer, msgs: Messages = Messages(), count: int = 10) -> list[tuple[str, str, str]]:
    """(title, description, message HTML) of each inline result: the confident answer as its
    passage's title, else the passage's opening words; titles that would repeat get their rank."""
    span, items, titles = answer_span(answer), [], set()
    for hit in answer.hits[:count]:
        mine = span if span is not None and span.rank == hit.rank else None
        title = mine.text if mine is not None and mine.confident else opening(hit.passage.text)
        if not answer.answered:
            title = msgs(m.CLOSEST, title=title)
        if title in titles:
            title = f"{title} [{hit.rank}]"
        titles.add(title)
        item = cite(answer, hit, msgs)
        items.append((shorten(title, 100), item.line, split_html(inline_html(hit, item, mine))[0]))
    return items


def help_html(bot_name: str, articles: int, passages: int, corpus: str, msgs: Messages = Messages()) -> str:
    mention = escape(f"@{bot_name}") if bot_name else escape(msgs(m.THE_BOT))
    return msgs(m.TELEGRAM_HELP, articles=articles, passages=passages, corpus=f"<i>{escape(corpus)}</i>",
                example=f"<i>{escape(msgs(m.EXAMPLE))}</i>", mention=mention)


# --- splitting -----------------------------------------------------------------------------

TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]|[<&]")
TAG = re.compile(r"<(/?)([a-zA-Z-]+)")
SPLIT_AFTER = set("。！？!?；;")  # a long message is best split after these
EMPTY = re.compile(r"<([a-zA-Z-]+)[^>]*></\1>")


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_html(html: str, limit: int = LIMIT) -> list[str]:
    """``html`` in pieces of at most ``limit`` units, cut at a line or sentence end when possible,
    each with its open tags closed and reopened in the next."""
    while EMPTY.search(html):  # empty elements show nothing, yet would count against the limit uncut
        html = EMPTY.sub("", html)
    pieces, chunk, stack, size, breaks = [], [], [], 0, []
    for token in TOKEN.findall(html):
        tag = TAG.match(token)
        closes = bool(tag and tag.group(1))
        after = stack[:-1] if closes else stack + [token] if tag else stack
        # cut until the token fits: text carried over from a cut at an earlier break may
        # itself still be too long with the reopened tags around it
        while not closes and visible("".join(chunk)) and size + units(token) + units(closing(after)) > limit:
            cut, cut_stack = best_break(breaks, len(chunk), stack)
            pieces.append("".join(chunk[:cut]) + closing(cut_stack))
            rest = lstrip_tokens(chunk[cut:])
            shift = len(cut_stack) - cut - (len(chunk) - cut - len(rest))
            chunk = list(cut_stack) + rest
            size = sum(map(units, chunk))
            breaks = [(i + shift, at) for i, at in breaks if len(cut_stack) < i + shift <= len(chunk)]
        chunk.append(token)
        size += units(token)
        stack = after
        if not tag and (token == "\n" or token in SPLIT_AFTER):
            breaks.append((len(chunk), list(stack)))
    pieces.append("".join(chunk))
    return [p.strip() for p in pieces if visible(p).strip()]


def best_break(breaks: list, length: int, stack: list) -> tuple[int, list]:
    """The last line or sentence end in the second half of the chunk, else a hard cut here."""
    for index, at in reversed(breaks):
        if index > length // 2:
            return index, at
    return length, stack


def closing(stack: Sequence[str]) -> str:
    return "".join(f"</{TAG.match(t).group(2)}>" for t in reversed(stack))


def lstrip_tokens(tokens: list[str]) -> list[str]:
    while tokens and tokens[0].isspace():
        tokens = tokens[1:]
    return tokens


def visible(html: str) -> str:
    return re.sub(r"<[^>]*>", "", html)
