"""Answers as Telegram HTML: escaped, highlighted, cited, and split under 4096 characters.

Everything that comes from the corpus or the user goes through ``html.escape``;
the only tags are the ones written here (b, i, blockquote), and
``split_html`` keeps them balanced in every piece.
"""
from __future__ import annotations

import re
from html import escape
from typing import Sequence

from retrieval import Hit

from ..answering import NOT_COVERED, Answer, citation, mark, partial_notice, shorten

LIMIT = 4096  # Telegram's maximum message length, in UTF-16 code units
MORE = 4  # hits per "more results" page


def bold(text: str) -> str:
    return f"<b>{escape(text)}</b>"


def highlighted(hit: Hit) -> str:
    return mark(hit.passage.text, hit.highlights, bold, escape)


def page_hits(hits: Sequence[Hit], page: int, snippets: int) -> list[Hit]:
    """Page 0 is the best hit and ``snippets`` more; later pages hold ``MORE`` each."""
    first = 1 + snippets
    if page == 0:
        return list(hits[:first])
    start = first + (page - 1) * MORE
    return list(hits[start:start + MORE])


def page_count(hits: Sequence[Hit], snippets: int) -> int:
    rest = max(0, len(hits) - 1 - snippets)
    return (1 if hits else 0) + -(-rest // MORE)


def answer_html(answer: Answer, page: int = 0, snippets: int = 3) -> str:
    """One page of an answer; page 0 quotes the best passage, later pages list more."""
    if answer.problem:
        return f"Can't search that: {escape(answer.problem)}"
    partial = [f"<i>{escape(partial_notice(answer.result.missing_shards))}</i>"] if answer.result and answer.result.missing_shards else []
    if not answer.hits:
        return "\n\n".join(partial + ["The articles don't say anything about this. Try other words, or /help."])
    if page > 0:
        lines = [f"More passages for <i>{escape(shorten(answer.question, 80))}</i>:"]
        lines += [cited_line(hit, 200) for hit in page_hits(answer.hits, page, snippets)]
        return "\n\n".join(lines)
    lines = []
    if answer.result and answer.result.truncated:
        lines.append(f"<i>(question cut to its first {len(answer.result.question)} characters)</i>")
    lines += partial
    if not answer.answered:
        lines.append(escape(NOT_COVERED))
    best, *rest = page_hits(answer.hits, 0, snippets)
    lines.append(f"<b>[{best.rank}] {escape(citation(best))}</b>\n<blockquote>{highlighted(best)}</blockquote>")
    lines += [cited_line(hit, 80) for hit in rest]
    return "\n\n".join(lines)


def cited_line(hit: Hit, width: int) -> str:
    return f"[{hit.rank}] <i>{escape(citation(hit))}</i>\n{escape(shorten(hit.passage.text, width))}"


def paragraph_html(hit: Hit, paragraph: str) -> str:
    """The whole paragraph of a hit, its passage's matched words in bold."""
    offset = paragraph.find(hit.passage.text)
    spans = [(s + offset, e + offset) for s, e in hit.highlights] if offset >= 0 else []
    return f"<b>{escape(citation(hit))}</b>\n<blockquote>{mark(paragraph, spans, bold, escape)}</blockquote>"


def article_html(hit: Hit, text: str) -> str:
    return f"<b>{escape(hit.passage.title)}</b> · <i>{escape(hit.source)}</i>\n\n{escape(text)}"


def inline_html(hit: Hit) -> str:
    """The message an inline result sends: citation and the passage, highlighted."""
    return f"<b>{escape(citation(hit))}</b>\n<blockquote>{highlighted(hit)}</blockquote>"


def help_html(bot_name: str, articles: int, passages: int, corpus: str) -> str:
    mention = escape(f"@{bot_name}") if bot_name else "the bot"
    return "\n".join([
        "<b>I answer questions from a collection of articles</b>, quoting the passages that say so.",
        f"I know {articles} articles ({passages} passages) from <i>{escape(corpus)}</i>.",
        "",
        "Just send a question, e.g. <i>商汤在哪里成立了智慧医疗实验室？</i> — or /ask followed by it.",
        "A follow-up may lean on your earlier questions; /reset forgets them.",
        f"In groups, use /ask, mention {mention}, or reply to one of my messages.",
        f"In any chat, type {mention} and a question to share a passage.",
        "Under each answer: more results, the full paragraph or article, and 👍/👎 feedback.",
    ])


# --- splitting -----------------------------------------------------------------------------

TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]|[<&]")
TAG = re.compile(r"<(/?)([a-zA-Z-]+)")
SENTENCE_END = set("。！？!?；;")
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
        if not tag and (token == "\n" or token in SENTENCE_END):
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
