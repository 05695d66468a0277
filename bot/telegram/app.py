"""``qabot telegram``: the Telegram frontend over the shared ``Answerer``.

``run_telegram(answerer, settings)`` reads the token from ``TELEGRAM_BOT_TOKEN``,
the ``telegram:`` config section through ``bot.telegram.config``, and runs the bot by
long polling, or as a webhook when ``telegram.webhook_url`` is set.
"""
from __future__ import annotations

import asyncio
import contextlib
import signal
import logging
import os
from urllib.parse import urlsplit

from .. import messages as m
from ..answering import Answerer
from ..config import ConfigError, Settings
from ..i18n import ENGLISH, SIMPLIFIED, Messages
from .config import TelegramSettings, telegram_settings

log = logging.getLogger("qabot.telegram")
COMMANDS = [("ask", m.COMMAND_ASK), ("help", m.COMMAND_HELP), ("reset", m.COMMAND_RESET), ("start", m.COMMAND_HELP)]
# setMyCommands takes two-letter codes only, so one Chinese menu; users of other languages get the default
MENUS = {None: SIMPLIFIED, "zh": SIMPLIFIED, "en": ENGLISH}
NO_TOKEN = ("no Telegram bot token: set TELEGRAM_BOT_TOKEN. To get one, talk to @BotFather in Telegram, "
            "send /newbot and follow the steps; it answers with a token like 123456789:AA…. "
            "Then: export TELEGRAM_BOT_TOKEN='…' and run qabot telegram again (see docs/telegram.md).")


class RedactToken(logging.Filter):
    """Replaces the bot token in log messages and tracebacks with ``<token>``."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


def setup_logging(token: str) -> RedactToken:
    """Log to stderr at INFO, never the token: httpx logs each request URL (which holds it) at INFO."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("qabot").setLevel(logging.INFO)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # it logs every 429 as an error with a traceback; RetryingLimiter retries them and says so
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    redact = RedactToken(token)
    for handler in root.handlers:
        handler.addFilter(redact)
    return redact


def build_application(token: str, answerer: Answerer, tg: TelegramSettings, corpus: str, adder=None):
    """The PTB Application: our handlers; updates concurrent across chats, in order within one
    (``ChatOrderProcessor``); API calls flood-limited and retried (``RetryingLimiter``); the
    follow-up history and the answered updates kept in ``tg.state_file``."""
    from telegram import Update
    from telegram.ext import (ApplicationBuilder, CallbackQueryHandler, CommandHandler, InlineQueryHandler,
                              MessageHandler, filters)

    from . import adding, buttons
    from . import handlers as h

    qa = h.Services(answerer, tg, corpus)
    bot, processor, limiter = durable_parts(token, tg, qa)
    app = ApplicationBuilder().bot(bot).concurrent_updates(processor).post_init(post_init).build()
    limiter.is_running = lambda: app.running  # retry only while serving: fail fast at startup and shutdown
    app.bot_data["qabot"], app.bot_data["adder"] = qa, adder  # adder: bot.adding.Adder, for telegram.admins
    new = filters.UpdateType.MESSAGE  # edits of old messages are not new questions
    for name, callback in (("start", h.start), ("help", h.start), ("ask", h.ask), ("reset", h.reset)):
        app.add_handler(CommandHandler(name, callback, filters=new))
    app.add_handler(CommandHandler("remove", adding.remove, filters=new))
    private = filters.ChatType.PRIVATE & new  # documents and links sent to the bot itself, not to a group
    # an admin's document is an article to add; anyone else's with a caption is a question (below),
    # without one they are told who may add articles
    to_add = filters.Document.ALL & private & (~filters.CAPTION | filters.User(user_id=tg.admins))
    app.add_handler(MessageHandler(to_add, adding.document))
    app.add_handler(MessageHandler(filters.Regex(adding.LINK) & private, adding.link))  # before questions
    app.add_handler(MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND & new, h.message))
    # a sticker, voice message, bare photo, location … in a private chat: a hint to type the question
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~(filters.TEXT | filters.CAPTION) & new, h.media))
    app.add_handler(MessageHandler(filters.ALL, h.ignored))  # the rest (group stickers, edits …): logged only
    app.add_handler(CallbackQueryHandler(buttons.button))
    app.add_handler(InlineQueryHandler(h.inline_query))
    app.add_error_handler(h.error)
    app.bot_data["allowed_updates"] = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
    return app


def durable_parts(token: str, tg: TelegramSettings, qa):
    """The bot, update processor and limiter that keep order, retry and persist, with the saved state loaded."""
    from telegram.request import HTTPXRequest

    from .journal import Journal
    from .persistence import ChatOrderProcessor, Durable, LedgerBot
    from .retry import RetryingLimiter

    durable = Durable(Journal(tg.state_file), qa.history)
    if durable.ledger.answered:
        log.info("resuming with %d answered updates and %d chats' history from %s", len(durable.ledger.answered),
                 len(qa.history.chats), tg.state_file)
    limiter = RetryingLimiter(tg.max_sends_per_second, tg.send_retry_seconds)
    bot = LedgerBot(token, base_url=tg.api_base_url, base_file_url=tg.base_file_url, rate_limiter=limiter,
                    request=HTTPXRequest(connection_pool_size=256), get_updates_request=HTTPXRequest())
    bot.attach(durable.ledger)
    return bot, ChatOrderProcessor(durable), limiter


async def post_init(app) -> None:
    """Register the command menu, reload the articles on SIGHUP, and say who we are."""
    for code, language in MENUS.items():
        msgs = Messages(language)
        await app.bot.set_my_commands([(name, msgs(text)) for name, text in COMMANDS], language_code=code)
    qa = app.bot_data["qabot"]
    with contextlib.suppress(NotImplementedError, AttributeError):  # no SIGHUP on some platforms
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: app.create_task(reload(qa)))
    log.info("serving @%s: %d articles, %d passages from %s", app.bot.username, qa.answerer.article_count,
             qa.answerer.passage_count, qa.corpus)


async def reload(qa) -> None:
    """Re-read the articles in a thread and swap the new index in; questions go on meanwhile."""
    log.info("SIGHUP: reloading the articles")
    log.info("%s", await asyncio.to_thread(qa.answerer.reload))


def preflight(settings: Settings) -> tuple[str, TelegramSettings]:
    """The token and the telegram settings, checked before the corpus is loaded."""
    tg = telegram_settings(settings.extra.get("telegram"))
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError(NO_TOKEN)
    return token, tg


def run_telegram(answerer: Answerer, settings: Settings, adder=None) -> int:
    """Run the bot until interrupted (Ctrl-C or SIGTERM); 0 on a clean stop."""
    token, tg = preflight(settings)
    redact = setup_logging(token)
    try:
        serve(build_application(token, answerer, tg, corpus_label(answerer), adder), tg)
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redact)
    return 0


def corpus_label(answerer: Answerer) -> str:
    """Where the articles come from, for /help: up to three file names (sources are ``name:line``)."""
    names = sorted({head if tail.isdigit() else source for source in
                    (a.source for a in answerer.searcher.articles.values())
                    for head, _, tail in [source.rpartition(":")]})
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])} and {len(names) - 2} more"


def serve(app, tg: TelegramSettings) -> None:
    """Long polling, or a webhook server when ``webhook_url`` is set; errors that stop it become ConfigError."""
    from telegram.error import InvalidToken, NetworkError

    updates = app.bot_data["allowed_updates"]
    try:
        if tg.webhook_url:
            log.info("webhook mode: listening on %s:%d for %s", tg.webhook_listen, tg.webhook_port, tg.webhook_url)
            app.run_webhook(listen=tg.webhook_listen, port=tg.webhook_port, url_path=urlsplit(tg.webhook_url).path,
                            webhook_url=tg.webhook_url, secret_token=tg.webhook_secret, allowed_updates=updates)
        else:
            log.info("long polling %s", tg.api_base_url)
            app.run_polling(allowed_updates=updates)
    except InvalidToken:
        raise ConfigError("Telegram rejected the token in TELEGRAM_BOT_TOKEN; copy it again from @BotFather "
                          "(/mybots → API Token)") from None
    except NetworkError as exc:
        detail = str(exc).replace(app.bot.token, "<token>")
        raise ConfigError(f"cannot reach the Telegram Bot API at {tg.api_base_url}: {detail}; check the network "
                          "or telegram.api_base_url / TELEGRAM_API_BASE_URL") from None
