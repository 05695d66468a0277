"""Who may ask, how often, and whether a group message is addressed to the bot.

All checks run before any retrieval, so a refused user learns nothing from the corpus.
"""
from __future__ import annotations

import time
import unicodedata
from collections import defaultdict, deque
from typing import Callable

from .config import TelegramSettings



class Access:
    """Allow-lists from config: a user passes if listed, or if the chat is listed."""

    def __init__(self, settings: TelegramSettings):
        self.users = frozenset(settings.allowed_users)
        self.chats = frozenset(settings.allowed_chats)

    @property
    def restricted(self) -> bool:
        return bool(self.users or self.chats)

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        if not self.restricted:
            return True
        return user_id in self.users or (chat_id is not None and chat_id in self.chats)


class RateLimit:
    """At most ``per_minute`` questions per user in any 60 seconds (0: no limit), and one notice
    per window for what is over it: a flood costs one reply, not one per message."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.recent: dict[int, deque[float]] = defaultdict(deque)
        self.noticed: dict[int, float] = {}  # user → until when they were told to wait

    def notice(self, user_id: int, wait: float) -> bool:
        """True if a user over the limit is to be told so: the first time in this window."""
        now = self.clock()
        if self.noticed.get(user_id, 0.0) > now:
            return False
        self.noticed[user_id] = now + wait
        return True

    def wait(self, user_id: int) -> float:
        """0 and count the question if the user may ask now, else the seconds until they may."""
        if not self.per_minute:
            return 0.0
        now = self.clock()
        times = self.recent[user_id]
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= self.per_minute:
            return 60 - (now - times[0])
        times.append(now)
        self.noticed.pop(user_id, None)
        return 0.0


def strip_mention(text: str, username: str) -> tuple[str, bool]:
    """``text`` without ``@username`` (any case), and whether it was there."""
    mention = f"@{username}".lower()
    lowered = text.lower()
    at = lowered.find(mention)
    found = False
    while username and at >= 0:
        end = at + len(mention)
        if end == len(text) or not (text[end].isalnum() or text[end] == "_"):
            text, lowered, found = text[:at] + text[end:], lowered[:at] + lowered[end:], True
            at = lowered.find(mention, at)
        else:
            at = lowered.find(mention, end)
    return plain(text), found


def plain(text: str) -> str:
    """``text`` without invisible format characters (zero-width spaces, joiners, BOMs) and with its
    whitespace collapsed: a question of only those is empty."""
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) != "Cf").split())
