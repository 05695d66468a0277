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
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ContextTypes

from .. import messages as m
from ..answering import Answer, Answerer
from ..i18n import Messages, telegram_language
from .access import Access, RateLimit, plain, strip_mention
from .buttons import answer_keyboard
from .config import TelegramSettings
from .format import MORE, answer_html, help_html, inline_items, split_html
from .retry import CURRENT
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


async def send_html(message: Message, html: str, keyboard=None) -> list[Message]:
    """Reply with ``html`` split under Telegram's limit; the keyboard goes under the last piece."""
    quote = message.chat.type != ChatType.PRIVATE
    pieces = split_html(html)
    sent = [await message.reply_html(piece, do_quote=quote, disable_web_page_preview=True) for piece in pieces[:-1]]
    sent.append(await message.reply_html(pieces[-1], do_quote=quote, reply_markup=keyboard,
                                         disable_web_page_preview=True))
    return sent


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
    question = plain(" ".join(context.args or []))
    if not question:
        await ask_for_a_question(update, context, m.ASK_USAGE, "/ask ")
        return
    await answer_question(update, context, question)


async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a plain message: always in private chats, in groups only when addressed."""
    question = addressed_question(update.effective_message, context.bot.id, context.bot.username or "")
    if question is None:
        log.debug("update %s: not addressed to the bot", update.update_id)
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


async def media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, voice message, photo or file without a caption in a private chat: say what to send."""
    if await admitted(update, context) and not await over_limit(update, context, "media", ""):
        await send_html(update.effective_message, escape(speaking(update)(m.MEDIA_HINT)))


async def ignored(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message that asks nothing of the bot (a sticker in a group, an edit): note it, say nothing."""
    log.debug("update %s: nothing to answer", update.update_id)


def addressed_question(msg: Message, bot_id: int, username: str) -> str | None:
    """The question in ``msg`` (its text, or a photo's or file's caption) if it is meant for the bot
    (None: stay quiet)."""
    text = msg.text or msg.caption or ""
    if msg.chat.type == ChatType.PRIVATE:
        return strip_mention(text, username)[0]
    stripped, mentioned = strip_mention(text, username)
    reply = msg.reply_to_message
    if mentioned or (reply and reply.from_user and reply.from_user.id == bot_id):
        return stripped
    return None


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Access, rate limit, search with the chat's history, reply with the answer and its buttons."""
    if not await admitted(update, context) or await over_limit(update, context, "message", question):
        return
    qa, msg, user, chat = services(context), update.effective_message, update.effective_user, update.effective_chat
    started = time.perf_counter()
    earlier, thread = follow_up_context(qa, msg)
    answer = await qa.ask(question, earlier)
    if not answer.problem:
        qa.history.add(chat.id, question)
    shown = Shown(chat.id, answer, earlier, thread=thread)
    ident = qa.store.add(shown)
    msgs = speaking(update, question)
    sent = await send_html(msg, answer_html(answer, 0, qa.settings.snippets, msgs),
                           answer_keyboard(ident, shown, qa.settings.snippets, msgs))
    qa.store.link(chat.id, [m.message_id for m in sent], ident)
    log_question(qa, "message", user.id, chat.id, question, outcome(answer), answer, time.perf_counter() - started)


async def over_limit(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str, question: str) -> bool:
    """True if the user is over the rate limit; they are told once per window, then nothing is sent."""
    qa, user, chat = services(context), update.effective_user, update.effective_chat
    wait = qa.rate.wait(user.id)
    if not wait:
        return False
    notice = qa.rate.notice(user.id, wait)
    log_question(qa, kind, user.id, chat.id, question, "rate_limited" if notice else "rate_limited_unanswered",
                 None, 0.0)
    if notice:
        msgs = speaking(update, question)
        await send_html(update.effective_message,
                        escape(msgs(m.TOO_FAST, limit=qa.settings.rate_limit_per_minute, seconds=int(wait) + 1)))
    return True


def follow_up_context(qa: Services, msg: Message) -> tuple[tuple[str, ...], bool]:
    """The earlier questions a question leans on, and whether it replies to an answer: the chat's last
    questions, or for a reply to one of the bot's answers that answer's question (after the chain of
    replies that led to it)."""
    reply = msg.reply_to_message
    shown = qa.store.by_message(msg.chat.id, reply.message_id) if reply else None
    if shown is None:
        return qa.history.context(msg.chat.id), False
    earlier = (shown.context if shown.thread else ()) + (shown.answer.question,)
    return (earlier[-qa.settings.history:] if qa.settings.history else ()), True


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
    question = plain(query.query)
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
    uid = getattr(update, "update_id", "-")
    if isinstance(context.error, Forbidden):  # blocked by the user, or removed from the group: nobody to tell
        log.warning("update %s not answered: %s", uid, context.error)
        return
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        # the Bot API stayed unreachable through every retry: a reply would not get through either
        run = CURRENT.get()
        again = "; stopping: Telegram sends it again after the restart" if run and run.abandoned else ""
        log.warning("update %s not answered: %s (%s)%s", uid, run.failure if run and run.failure else "Bot API call "
                    "failed", context.error, again)
        return
    log.error("error while handling update %s", uid, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(speaking(update)(m.BUTTON_ERROR), show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_text(speaking(update)(m.ANSWER_ERROR))
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)
