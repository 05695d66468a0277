"""Inline buttons under answers and what pressing them does.

Callback data is ``verb:id[:arg]`` (at most 13 bytes); the id names an answer kept
in ``AnswerStore`` for the chat it was sent to, so forged or stale data gets
nothing but "this answer has expired".
"""
from __future__ import annotations

import logging
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from .. import messages as m
from ..i18n import Messages, telegram_language
from .format import answer_html, article_html, page_count, page_hits, paragraph_html, split_html
from .state import Callback, Shown, parse_callback

log = logging.getLogger("qabot.telegram")
MAX_ARTICLE_MESSAGES = 8  # an article longer than this many messages is cut, with a note
VOTES = {"u": "up", "d": "down"}


def answer_keyboard(ident: str, shown: Shown, snippets: int, msgs: Messages) -> InlineKeyboardMarkup | None:
    """Paragraph buttons for the hits on the page, article and paging, then 👍/👎; a question the
    articles don't cover gets one button, to see more."""
    hits = page_hits(shown.answer, shown.page, snippets)
    if not hits:
        return None
    button = InlineKeyboardButton
    more = shown.page + 1 < page_count(shown.answer, snippets)
    if not shown.answer.answered and shown.page == 0:
        return InlineKeyboardMarkup([[button(msgs(m.MORE_BUTTON), callback_data=f"m:{ident}:1")]]) if more else None
    rows = [[button(msgs(m.PARAGRAPH_BUTTON, rank=h.rank), callback_data=f"p:{ident}:{h.rank}") for h in hits]]
    nav = [button(msgs(m.ARTICLE_BUTTON, rank=hits[0].rank), callback_data=f"a:{ident}:{hits[0].rank}")]
    if shown.page > 0:
        nav.insert(0, button(msgs(m.BACK_BUTTON), callback_data=f"m:{ident}:{shown.page - 1}"))
    if more:
        nav.append(button(msgs(m.MORE_BUTTON), callback_data=f"m:{ident}:{shown.page + 1}"))
    rows.append(nav)
    rows.append([button("👍" + (" ✓" if shown.vote == "up" else ""), callback_data=f"f:{ident}:u"),
                 button("👎" + (" ✓" if shown.vote == "down" else ""), callback_data=f"f:{ident}:d")])
    return InlineKeyboardMarkup(rows)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a press on one of the answer's buttons."""
    qa = context.application.bot_data["qabot"]
    query = update.callback_query
    chat_id = query.message.chat.id if query.message else None
    msgs = Messages(telegram_language(query.from_user.language_code))
    if not qa.access.allows(query.from_user.id, chat_id):
        log.info("refused button user=%s chat=%s", query.from_user.id, chat_id)
        await query.answer(msgs(m.REFUSAL, user=query.from_user.id), show_alert=True)
        return
    parsed = parse_callback(query.data)
    shown = qa.store.get(parsed.ident, chat_id) if parsed else None
    if shown is None:
        log.info("stale or unknown button data from user=%s", query.from_user.id)
        await query.answer(msgs(m.EXPIRED), show_alert=True)
        return
    msgs = Messages(telegram_language(query.from_user.language_code, shown.answer.question))
    await ACTIONS[parsed.verb](query, context, parsed, shown, msgs)


async def more(query, context, parsed: Callback, shown: Shown, msgs: Messages) -> None:
    """Show another page of results in the same message."""
    snippets = context.application.bot_data["qabot"].settings.snippets
    page = int(parsed.arg or 0) if (parsed.arg or "0").isdigit() else -1
    if not 0 <= page < page_count(shown.answer, snippets):
        await query.answer(msgs(m.NO_PAGE), show_alert=True)
        return
    await query.answer()
    if page == shown.page:  # a double tap: the message already shows it
        return
    shown.page = page
    pieces = split_html(answer_html(shown.answer, page, snippets, msgs))
    text = pieces[-1] if page == 0 else pieces[0]  # a split first page: its keyboard is under the last piece
    await edit(query.edit_message_text(text, parse_mode=ParseMode.HTML, disable_web_page_preview=True,
                                       reply_markup=answer_keyboard(parsed.ident, shown, snippets, msgs)))


async def cited_text(query, parsed: Callback, shown: Shown, msgs: Messages, read):
    """The hit a paragraph/article button points at and ``read(hit)``, the press answered; None (and
    an alert) if there is no such hit, or its article is gone since a reload."""
    rank = int(parsed.arg) if (parsed.arg or "").isdigit() else 0
    if not 1 <= rank <= len(shown.answer.hits):
        await query.answer(msgs(m.NO_PASSAGE), show_alert=True)
        return None
    hit = shown.answer.hits[rank - 1]
    try:
        text = read(hit)
    except KeyError:
        log.info("article %r is gone since a reload; told user=%s", hit.passage.article_id, query.from_user.id)
        await query.answer(msgs(m.ARTICLE_GONE), show_alert=True)
        return None
    await query.answer()
    return hit, text


async def paragraph(query, context, parsed: Callback, shown: Shown, msgs: Messages) -> None:
    """Send the whole paragraph a cited passage comes from, under its full citation (title, file and line)."""
    cited = await cited_text(query, parsed, shown, msgs, context.application.bot_data["qabot"].answerer.paragraph)
    if cited is None:
        return
    hit, text = cited[0], paragraph_html(shown.answer, *cited, msgs)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(msgs(m.WHOLE_ARTICLE_BUTTON),
                                                           callback_data=f"a:{parsed.ident}:{hit.rank}")]])
    await send_pieces(query, context, split_html(text), keyboard)


async def article(query, context, parsed: Callback, shown: Shown, msgs: Messages) -> None:
    """Send the whole article a cited passage comes from, in as many messages as it takes."""
    cited = await cited_text(query, parsed, shown, msgs, context.application.bot_data["qabot"].answerer.article_text)
    if cited is None:
        return
    hit, pieces = cited[0], split_html(article_html(*cited))
    if len(pieces) > MAX_ARTICLE_MESSAGES:
        left = len(pieces) - MAX_ARTICLE_MESSAGES
        pieces = pieces[:MAX_ARTICLE_MESSAGES] + [escape(msgs(m.ARTICLE_CUT, left=left, source=hit.source))]
    await send_pieces(query, context, pieces, None)


async def send_pieces(query, context, pieces: list[str], keyboard) -> None:
    chat_id = query.message.chat.id
    thread = getattr(query.message, "message_thread_id", None)
    for i, piece in enumerate(pieces):
        await context.bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, message_thread_id=thread,
                                       disable_web_page_preview=True,
                                       reply_markup=keyboard if i == len(pieces) - 1 else None)


async def feedback(query, context, parsed: Callback, shown: Shown, msgs: Messages) -> None:
    """Record 👍/👎 with the question and the passages the message shows."""
    qa = context.application.bot_data["qabot"]
    vote = VOTES.get(parsed.arg or "")
    if vote is None:
        await query.answer(msgs(m.UNKNOWN_VOTE), show_alert=True)
        return
    if vote == shown.vote:
        await query.answer(msgs(m.ALREADY_NOTED))
        return
    shown.vote = vote
    qa.feedback.record(shown, vote, page_hits(shown.answer, shown.page, qa.settings.snippets))
    log.info("feedback vote=%s chat=%s", vote, shown.chat_id)
    await query.answer(msgs(m.THANKS))
    await edit(query.edit_message_reply_markup(answer_keyboard(parsed.ident, shown, qa.settings.snippets, msgs)))


async def edit(call) -> None:
    """Await an edit; a message that is already as asked is fine."""
    try:
        await call
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


ACTIONS = {"m": more, "p": paragraph, "a": article, "f": feedback}
