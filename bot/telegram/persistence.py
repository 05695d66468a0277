"""Each update handled once, in order per chat, and what survives a restart.

``ChatOrderProcessor`` runs the updates of one chat one after another, in the order
Telegram sent them, and different chats concurrently. ``Ledger`` knows which update ids
are done; ``LedgerBot`` confirms to Telegram (the ``offset`` of ``getUpdates``) only
updates that are done, so a bot killed while answering gets the question again after a
restart. ``StateFile`` keeps the ledger and the follow-up history in a small JSON file,
written after every update; a restarted bot skips what it already answered.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

from .retry import CURRENT, Run

log = logging.getLogger("qabot.telegram")
VERSION = 1
REPOLL = 0.5  # seconds to wait for progress when everything Telegram re-sends is already in hand


class Ledger:
    """Update ids: all up to ``last`` are done; ``done`` holds finished ones above it, ``taken`` those in hand."""

    def __init__(self, last: int = 0, done=()):
        self.last = self.seen = last
        self.done = {i for i in done if i > last}
        self.taken: set[int] = set()
        self.version = 0
        self.event = asyncio.Event()

    @classmethod
    def from_saved(cls, saved: dict) -> "Ledger":
        last = saved.get("last_update_id")
        done = saved.get("done")
        last = last if isinstance(last, int) and not isinstance(last, bool) else 0
        done = [i for i in done if isinstance(i, int)] if isinstance(done, list) else []
        return cls(last, done)

    @property
    def offset(self) -> int:
        """What to confirm to Telegram: the first id not known to be done."""
        return self.last + 1

    def begin(self, update_id: int) -> bool:
        """Take ``update_id`` in hand; False if it was already answered."""
        if update_id <= self.last or update_id in self.done:
            return False
        self.taken.add(update_id)
        self.seen = max(self.seen, update_id)
        return True

    def admit(self, update_id: int) -> bool:
        """Like ``begin``, but False also for an update already in hand (Telegram re-sends those)."""
        return update_id not in self.taken and self.begin(update_id)

    def finish(self, update_id: int, ok: bool = True) -> None:
        """Mark it done; one not ``ok`` (abandoned at shutdown) stays in hand and holds the offset back."""
        if ok:
            self.taken.discard(update_id)
            self.done.add(update_id)
        # Telegram returns pending updates in id order, so every id up to the lowest one in
        # hand that was ever sent to us is done: ids in between do not exist
        floor = min(self.taken) - 1 if self.taken else self.seen
        if floor > self.last:
            self.last = floor
            self.done = {i for i in self.done if i > floor}
        self.version += 1
        self.event.set()
        self.event = asyncio.Event()

    async def wait_change(self, version: int, timeout: float) -> None:
        if self.version == version:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.event.wait(), timeout)

    def snapshot(self) -> dict:
        return {"last_update_id": self.last, "done": sorted(self.done)}


class StateFile:
    """The JSON state file, replaced atomically (a temporary file, then ``os.replace``)."""

    def __init__(self, path: Path):
        self.path = path
        self.warned = False

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("cannot read the state file %s (%s); starting without it", self.path, exc)
            return {}
        return data if isinstance(data, dict) and data.get("version") == VERSION else {}

    def save(self, data: dict) -> None:
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")  # mode 600
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": VERSION, **data}, f, ensure_ascii=False)
            os.replace(tmp, self.path)
        except OSError as exc:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            if not self.warned:  # once: a full disk would otherwise log on every update
                log.warning("cannot write the state file %s (%s); set telegram.state_file to a writable file",
                            self.path, exc)
                self.warned = True


class LedgerBot(ExtBot):
    """An ExtBot whose ``getUpdates`` confirms only updates that are done, and hides those in hand."""

    __slots__ = ("_ledger",)

    def attach(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        ledger = self._ledger
        version = ledger.version
        updates = await super().get_updates(ledger.offset, *args, **kwargs)
        fresh = tuple(u for u in updates if ledger.admit(u.update_id))
        if updates and not fresh:  # all re-sent, still being answered: ask again once some are done
            await ledger.wait_change(version, REPOLL)
        return fresh


def chat_key(update: object) -> object:
    """What orders updates: the chat, else the user (inline queries), else nothing."""
    if isinstance(update, Update):
        if update.effective_chat:
            return update.effective_chat.id
        if update.effective_user:
            return ("user", update.effective_user.id)
    return None


class ChatOrderProcessor(BaseUpdateProcessor):
    """One chat's updates one at a time in arrival order (a FIFO asyncio.Lock per chat), chats concurrently.

    Telegram hands out at most 100 updates at a time and ``LedgerBot`` confirms only done
    ones, so ``max_updates`` is never reached while polling, and each lock is requested in
    the order the updates came (no await happens before it).
    """

    def __init__(self, ledger: Ledger, on_done: Callable[[], None], max_updates: int = 256):
        super().__init__(max_updates)
        self.ledger, self.on_done = ledger, on_done
        self.locks: dict[object, tuple[asyncio.Lock, int]] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_process_update(self, update: object, coroutine) -> None:
        uid = getattr(update, "update_id", None)
        if uid is not None and not self.ledger.begin(uid):
            coroutine.close()
            log.info("skipped update %s: already answered", uid)
            return
        key = chat_key(update)
        lock, users = self.locks.get(key) or (asyncio.Lock(), 0)
        self.locks[key] = (lock, users + 1)
        run = Run(uid)
        token = CURRENT.set(run)
        try:
            async with lock:
                await coroutine
        except asyncio.CancelledError:
            run.abandoned = True  # not answered: Telegram sends it again after a restart
            raise
        finally:
            CURRENT.reset(token)
            lock, users = self.locks[key]
            if users == 1:
                del self.locks[key]
            else:
                self.locks[key] = (lock, users - 1)
            if uid is not None:
                self.ledger.finish(uid, ok=not run.abandoned)
                self.on_done()
