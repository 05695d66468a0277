"""Telegram handlers: commands, questions, inline queries, and the one error handler.

Every handler checks access first, then the rate limit, then asks the shared
``Answerer``; nothing from the corpus reaches a refused user.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from html import escape

from telegram import (InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Message,
                      Update)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ContextTypes

from .. import messages as m
from ..answering import Answer, Answerer
from ..i18n import Messages, telegram_language
from .access import Access, RateLimit, strip_mention
from .buttons import answer_keyboard
from .config import TelegramSettings
from .format import MORE, answer_html, help_html, inline_items, split_html
from .state import AnswerStore, FeedbackLog, History, Shown

log = logging.getLogger("qabot.telegram")


def speaking(update: Update, text: str = "") -> Messages:
    """Messages in the user's language: their Telegram language_code, else the script of ``text``."""
    user = update.effective_user
    return Messages(telegram_language(user.language_code if user else None, text))


@dataclass
class Services:
    """What every handler shares; stored in ``application.bot_data['qabot']``."""
    answerer: Answerer
    settings: TelegramSettings
    corpus: str
    access: Access = field(init=False)
    rate: RateLimit = field(init=False)
    store: AnswerStore = field(default_factory=AnswerStore)
    history: History = field(init=False)
    feedback: FeedbackLog = field(init=False)
    searches: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.access = Access(self.settings)
        self.rate = RateLimit(self.settings.rate_limit_per_minute)
        self.history = History(self.settings.history)
        self.feedback = FeedbackLog(self.settings.feedback_log)
        self.searches = asyncio.Semaphore(self.settings.max_concurrent_searches)

    async def ask(self, question: str, context: tuple[str, ...]) -> Answer:
        """Search in a worker thread, at most ``max_concurrent_searches`` at once, so the event loop
        keeps serving updates and a burst of questions cannot take every thread."""
        k = max(self.answerer.k, 1 + self.settings.snippets) + 2 * MORE
        async with self.searches:
            return await asyncio.to_thread(self.answerer.ask, question, context, k)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["qabot"]


async def send_html(message: Message, html: str, keyboard=None) -> Message:
    """Reply with ``html`` split under Telegram's limit; the keyboard goes under the last piece."""
    quote = message.chat.type != ChatType.PRIVATE
    pieces = split_html(html)
    for piece in pieces[:-1]:
        await message.reply_html(piece, do_quote=quote, disable_web_page_preview=True)
    return await message.reply_html(pieces[-1], do_quote=quote, reply_markup=keyboard,
                                    disable_web_page_preview=True)


async def admitted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the user or chat may use the bot; otherwise say so politely."""
    user, chat = update.effective_user, update.effective_chat
    if services(context).access.allows(user.id if user else None, chat.id if chat else None):
        return True
    log.info("refused user=%s chat=%s", user.id if user else None, chat.id if chat else None)
    if update.effective_message:
        await send_html(update.effective_message, escape(speaking(update)(m.REFUSAL, user=user.id if user else "?")))
    return False


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot knows and how to ask."""
    if not await admitted(update, context):
        return
    qa = services(context)
    await send_html(update.effective_message, help_html(context.bot.username or "", qa.answerer.article_count,
                                                        qa.answerer.passage_count, qa.corpus, speaking(update)))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget this chat's earlier questions."""
    if not await admitted(update, context):
        return
    services(context).history.reset(update.effective_chat.id)
    await send_html(update.effective_message, escape(speaking(update)(m.RESET_DONE)))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the question after /ask."""
    question = " ".join(context.args or [])
    if not question:
        await ask_for_a_question(update, context, m.ASK_USAGE, "/ask ")
        return
    await answer_question(update, context, question)


async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a plain message: always in private chats, in groups only when addressed."""
    question = addressed_question(update.effective_message, context.bot.id, context.bot.username or "")
    if question is None:
        return
    if not question:
        await ask_for_a_question(update, context, m.ASK_ME)
        return
    await answer_question(update, context, question)


async def ask_for_a_question(update: Update, context: ContextTypes.DEFAULT_TYPE, msgid: str, command: str = "") -> None:
    """Say how to ask, with an example question, in the user's language."""
    if await admitted(update, context):
        msgs = speaking(update)
        await send_html(update.effective_message, msgs(msgid, example=f"<i>{command}{escape(msgs(m.EXAMPLE))}</i>"))


def addressed_question(msg: Message, bot_id: int, username: str) -> str | None:
    """The question in ``msg`` if it is meant for the bot (None: stay quiet)."""
    text = msg.text or ""
    if msg.chat.type == ChatType.PRIVATE:
        return strip_mention(text, username)[0]
    stripped, mentioned = strip_mention(text, username)
    reply = msg.reply_to_message
    if mentioned or (reply and reply.from_user and reply.from_user.id == bot_id):
        return stripped
    return None


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Access, rate limit, search with the chat's history, reply with the answer and its buttons."""
    if not await admitted(update, context):
        return
    qa, msg, user, chat = services(context), update.effective_message, update.effective_user, update.effective_chat
    msgs = speaking(update, question)
    wait = qa.rate.wait(user.id)
    if wait:
        log_question(qa, "message", user.id, chat.id, question, "rate_limited", None, 0.0)
        await send_html(msg, escape(msgs(m.TOO_FAST, limit=qa.settings.rate_limit_per_minute, seconds=int(wait) + 1)))
        return
    started = time.perf_counter()
    earlier = qa.history.context(chat.id)
    answer = await qa.ask(question, earlier)
    if not answer.problem:
        qa.history.add(chat.id, question)
    shown = Shown(chat.id, answer, earlier)
    ident = qa.store.add(shown)
    await send_html(msg, answer_html(answer, 0, qa.settings.snippets, msgs),
                    answer_keyboard(ident, shown, qa.settings.snippets, msgs))
    log_question(qa, "message", user.id, chat.id, question, outcome(answer), answer, time.perf_counter() - started)


def outcome(answer: Answer) -> str:
    if answer.problem:
        return "problem"
    return "answered" if answer.answered else ("not_covered" if answer.hits else "no_hits")


def log_question(qa: Services, kind: str, user_id, chat_id, question: str, result: str,
                 answer: Answer | None, seconds: float) -> None:
    text = f" question={question!r}" if qa.settings.log_text else f" chars={len(question)}"
    hits = len(answer.hits) if answer else 0
    log.info("%s user=%s chat=%s outcome=%s hits=%d latency_ms=%.0f%s",
             kind, user_id, chat_id, result, hits, seconds * 1000, text)


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the top passages for ``@bot question`` as articles to send."""
    qa, query = services(context), update.inline_query
    question = query.query.strip()
    msgs = speaking(update, question)
    personal = dict(cache_time=0 if qa.access.restricted else 30, is_personal=qa.access.restricted)
    if not question:
        await query.answer([], button=InlineQueryResultsButton(msgs(m.INLINE_EMPTY), start_parameter="help"))
        return
    if not qa.access.allows(query.from_user.id, None):
        log.info("refused inline user=%s", query.from_user.id)
        await query.answer([], button=InlineQueryResultsButton(msgs(m.INLINE_PRIVATE), start_parameter="private"),
                           cache_time=0, is_personal=True)
        return
    if qa.rate.wait(query.from_user.id):
        log_question(qa, "inline", query.from_user.id, None, question, "rate_limited", None, 0.0)
        await query.answer([], button=InlineQueryResultsButton(msgs(m.INLINE_TOO_FAST), start_parameter="help"),
                           cache_time=0, is_personal=True)
        return
    started = time.perf_counter()
    answer = await qa.ask(question, ())
    await query.answer(inline_results(answer, msgs), **personal)
    log_question(qa, "inline", query.from_user.id, None, question, outcome(answer), answer, time.perf_counter() - started)


def inline_results(answer: Answer, msgs: Messages) -> list[InlineQueryResultArticle]:
    return [InlineQueryResultArticle(
        id=str(n), title=title, description=description,
        input_message_content=InputTextMessageContent(html, parse_mode=ParseMode.HTML))
        for n, (title, description, html) in enumerate(inline_items(answer, msgs), 1)]


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error and tell the user something went wrong; never raise."""
    if update is None and isinstance(context.error, NetworkError):  # polling failed; PTB's loop retries
        log.warning("cannot fetch updates (%s); retrying", context.error)
        return
    log.error("error while handling update %s", getattr(update, "update_id", "-"), exc_info=context.error)
    if not isinstance(update, Update):
        return
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        return  # the Bot API stayed unreachable through every retry: a reply would not get through either
    try:
        if update.callback_query:
            await update.callback_query.answer(speaking(update)(m.BUTTON_ERROR), show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_text(speaking(update)(m.ANSWER_ERROR))
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)
