"""Admins add articles from the chat: a document (PDF, HTML, DOCX, TXT…) or a link sent in a
private chat is added to the corpus and the index reloaded; ``/remove NAME`` takes one out.

Only users in ``telegram.admins`` may; others are told so. A link is never fetched from a
loopback, private or link-local address (checked after DNS resolution and on every redirect)
unless ``telegram.allow_private_urls`` is true. The work (download, parsing, re-indexing)
runs in a worker thread, so questions go on being answered meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes

from retrieval import formats
from retrieval.articles import SUFFIXES

from ..adding import Adder
from ..fetching import refuse_private

log = logging.getLogger("qabot.telegram")
LINK = re.compile(r"^\s*(https?://\S+)\s*$", re.I)  # a message that is only a link
MAX_DOWNLOAD = 20 << 20  # the Bot API's getFile limit
NOT_ADMIN = ("Only this bot's admins may add or remove articles. Ask its owner to add your user id ({user}) "
             "to telegram.admins.")
MAX_REPLY = 3500  # characters of the report sent back (Telegram's limit is 4096)


def adder_of(context: ContextTypes.DEFAULT_TYPE) -> Adder | None:
    return context.application.bot_data.get("adder")


async def admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for a user in telegram.admins when adding is available; otherwise say why not."""
    user, msg = update.effective_user, update.effective_message
    qa = context.application.bot_data["qabot"]
    if user is None or user.id not in qa.settings.admins:
        log.info("refused adding user=%s", user.id if user else None)
        await msg.reply_text(NOT_ADMIN.format(user=user.id if user else "?"))
        return False
    if adder_of(context) is None:
        await msg.reply_text("Adding articles is not available in this bot.")
        return False
    return True


async def reply(update: Update, text: str) -> None:
    await update.effective_message.reply_text(text if len(text) <= MAX_REPLY else text[:MAX_REPLY] + "\n…")


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add the document an admin sent, by its file name's format."""
    if not await admin(update, context):
        return
    doc = update.effective_message.document
    name = re.sub(r"[^\w.\-]+", "_", Path(doc.file_name or "document").name).lstrip(".") or "document"
    if Path(name).suffix.lower() not in SUFFIXES:
        await reply(update, f"{name}: not an article format; send PDF, HTML, DOCX, TXT, MD, TSV or JSONL.")
        return
    limit = min(MAX_DOWNLOAD, formats.MAX_FILE)
    if doc.file_size and doc.file_size > limit:
        await reply(update, f"{name}: {formats.size_text(doc.file_size)}, over the {formats.size_text(limit)} "
                            "a file may have here; not added.")
        return
    data = await (await context.bot.get_file(doc.file_id)).download_as_bytearray()
    with tempfile.TemporaryDirectory(prefix="qabot-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(bytes(data))
        text = await asyncio.to_thread(adder_of(context).add, [str(path)])
        text = text.replace(f"{tmp}/", "")  # the upload's temporary folder means nothing to the sender
    log.info("added document user=%s name=%s", update.effective_user.id, name)
    await reply(update, text)


async def link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch and add the page an admin sent a link to."""
    if not await admin(update, context):
        return
    url = LINK.fullmatch(update.effective_message.text or "")[1]
    guard = None if context.application.bot_data["qabot"].settings.allow_private_urls else refuse_private
    text = await asyncio.to_thread(adder_of(context).add, [url], guard)
    log.info("added link user=%s", update.effective_user.id)
    await reply(update, text)


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take the article file after /remove out of the corpus."""
    if not await admin(update, context):
        return
    name = " ".join(context.args or [])
    if not name:
        await reply(update, "Put the article's file name (as its citation shows it) or its URL after /remove.")
        return
    await reply(update, await asyncio.to_thread(adder_of(context).remove, name))
