"""Server-side state behind the buttons, per-chat follow-up history, and the feedback log.

Callback data carries only a short random id and a verb (Telegram allows 64 bytes);
the answer it refers to stays here, so forged data can name nothing it was not shown.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

from ..answering import Answer

log = logging.getLogger("qabot.telegram")

# verb:answer-id[:number]: m more (page), p paragraph, a article, f feedback (u/d)
CALLBACK = re.compile(r"(?P<verb>[mpaf]):(?P<id>[A-Za-z0-9_-]{8})(?::(?P<arg>[0-9]{1,2}|u|d))?")


class Callback(NamedTuple):
    verb: str
    ident: str
    arg: str | None


def parse_callback(data: str | None) -> Callback | None:
    """The parts of callback data this bot wrote, or None for anything else."""
    match = CALLBACK.fullmatch(data or "")
    return Callback(match["verb"], match["id"], match["arg"]) if match else None


@dataclass
class Shown:
    """An answer the bot sent, as the buttons under it need it."""
    chat_id: int
    answer: Answer
    context: tuple[str, ...]
    page: int = 0
    vote: str | None = None
    thread: bool = False  # it answered a reply to an earlier answer: ``context`` is that chain


class AnswerStore:
    """The last ``size`` answers by short random id, and by the messages that show them; older ones expire."""

    def __init__(self, size: int = 2000):
        self.size = size
        self.items: OrderedDict[str, Shown] = OrderedDict()
        self.messages: OrderedDict[tuple[int, int], str] = OrderedDict()  # (chat, message id) → answer id

    def link(self, chat_id: int, message_ids: Sequence[int], ident: str) -> None:
        """Remember which answer the messages ``message_ids`` show, for replies to them."""
        for message_id in message_ids:
            self.messages[(chat_id, message_id)] = ident
        while len(self.messages) > 4 * self.size:
            self.messages.popitem(last=False)

    def by_message(self, chat_id: int, message_id: int) -> Shown | None:
        """The answer a message of the bot shows; None if it showed none or it expired."""
        ident = self.messages.get((chat_id, message_id))
        return self.get(ident, chat_id) if ident else None

    def add(self, shown: Shown) -> str:
        ident = secrets.token_urlsafe(6)  # 8 characters of [A-Za-z0-9_-]
        self.items[ident] = shown
        while len(self.items) > self.size:
            self.items.popitem(last=False)
        return ident

    def get(self, ident: str, chat_id: int | None) -> Shown | None:
        """The answer shown in ``chat_id`` under ``ident``; None if unknown, expired or elsewhere."""
        shown = self.items.get(ident)
        return shown if shown is not None and shown.chat_id == chat_id else None


class History:
    """The last few questions per chat, oldest first, for follow-ups; the ``chats`` most recent chats."""

    def __init__(self, size: int, chats: int = 10_000):
        self.size, self.limit = size, chats
        self.chats: OrderedDict[int, deque[str]] = OrderedDict()

    def context(self, chat_id: int) -> tuple[str, ...]:
        return tuple(self.chats.get(chat_id, ())) if self.size else ()

    def add(self, chat_id: int, question: str) -> None:
        if self.size:
            self.chats.setdefault(chat_id, deque(maxlen=self.size)).append(question)
            self.chats.move_to_end(chat_id)
            while len(self.chats) > self.limit:
                self.chats.popitem(last=False)

    def reset(self, chat_id: int) -> None:
        self.chats.pop(chat_id, None)

    def snapshot(self) -> dict[str, list[str]]:
        """The history as JSON: chat id (a string) → questions, oldest chat first."""
        return {str(chat): list(questions) for chat, questions in self.chats.items()}

    def restore(self, saved: dict) -> None:
        """Load a ``snapshot``; entries that are not chat id → list of strings are skipped."""
        for chat, questions in saved.items():
            if str(chat).lstrip("-").isdigit() and isinstance(questions, list):
                for question in questions:
                    if isinstance(question, str):
                        self.add(int(chat), question)


class FeedbackLog:
    """Appends one JSON line per 👍/👎: the question and the cited passages' ids."""

    def __init__(self, path: Path):
        self.path = path

    def record(self, shown: Shown, vote: str, cited: Sequence) -> None:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "vote": vote,
                 "question": shown.answer.question, "context": list(shown.context),
                 "answered": shown.answer.answered,
                 "passages": [{"article_id": h.passage.article_id, "paragraph": h.passage.paragraph,
                               "part": h.passage.part, "rank": h.rank} for h in cited]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError as exc:
            log.warning("cannot write feedback to %s: %s; set telegram.feedback_log to a writable file",
                        self.path, exc)
