"""Each update answered once, in order per chat, whatever Telegram's update ids do.

``Ledger`` knows which updates were answered: their ids with a fingerprint of what they were
and when, for ``WINDOW`` seconds (Telegram keeps an update at most 24 hours, so an older
one cannot come again). It does not assume ids only go up: after a quiet week Telegram starts
a new, random sequence, and another Bot API server has ids of its own. ``LedgerBot``
confirms to Telegram (the ``offset`` of ``getUpdates``) only what is done, and starts from
the oldest pending update after a restart, so nothing is confirmed unseen.
``ChatOrderProcessor`` runs one chat's updates one after another and chats concurrently.
``Durable`` journals every answer the moment it is sent (``journal.Journal``).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

from .journal import Journal
from .retry import CURRENT, Run

log = logging.getLogger("qabot.telegram")
REPOLL = 0.5  # seconds to wait for progress when everything Telegram re-sends is already in hand
WINDOW = 26 * 3600  # seconds an answered update is remembered
MAX_ANSWERED = 100_000
GAP = 100  # an id more than this far below the highest one seen starts a new sequence


def update_key(update: object) -> str:
    """What an update is, to tell a re-delivery from a new update that reuses the id."""
    if not isinstance(update, Update):
        return ""
    if update.callback_query:
        return f"c{update.callback_query.id}"
    if update.inline_query:
        return f"i{update.inline_query.id}"
    msg = update.effective_message
    return f"m{msg.chat_id}:{msg.message_id}" if msg else ""


@dataclass
class Taken:
    epoch: int  # the id sequence it belongs to
    key: str
    started: bool = False


class Ledger:
    """Answered ids (id → (time, key)), the ones in hand, and what to confirm to Telegram."""

    def __init__(self, answered=(), high: int | None = None, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.started = clock()
        self.answered: OrderedDict[int, tuple[float, str]] = OrderedDict()
        for uid, at, key in sorted(answered, key=lambda entry: entry[1]):
            self.answered[uid] = (at, key)
        self.prune()
        self.taken: dict[int, Taken] = {}
        self.epoch = 0
        self.high: int | None = None  # highest id served in this run's current sequence
        self.previous = high  # the highest id of the last run, for the log
        self.version = 0
        self.event = asyncio.Event()

    @classmethod
    def from_saved(cls, saved: dict, records=()) -> "Ledger":
        entries = [tuple(e) for e in saved.get("answered") or [] if valid_entry(e)]
        entries += [(r["u"], r["t"], r.get("k", "")) for r in records if valid_entry([r.get("u"), r.get("t"), ""])]
        high = saved.get("high", saved.get("last_update_id"))
        return cls(entries, high if isinstance(high, int) else None)

    @property
    def offset(self) -> int | None:
        """What to confirm: the lowest id of this sequence in hand, else one past the highest served;
        None (start from the oldest pending update) until Telegram has served something."""
        current = [uid for uid, taken in self.taken.items() if taken.epoch == self.epoch]
        if current:
            return min(current)
        return None if self.high is None else self.high + 1

    def admit(self, updates, asked: int | None) -> list:
        """The updates of a getUpdates batch to handle, taken in hand; why the others are not, logged.
        (Telegram serves again what a lower update in hand holds back: answered in this run, that
        is routine, logged at debug level.)"""
        if updates and asked is not None and updates[0].update_id < asked:
            self.new_sequence(f"Telegram served update {updates[0].update_id} for offset {asked}")
        elif updates and self.high is None and self.previous is not None and updates[0].update_id < self.previous - GAP:
            log.info("update ids went down since the last run (%d, now %d): a new sequence",
                     self.previous, updates[0].update_id)
        fresh = []
        for update in updates:
            uid = update.update_id
            self.high = uid if self.high is None else max(self.high, uid)
            if uid in self.taken:
                continue  # in hand: Telegram serves it again until it is confirmed
            reason = self.answered_before(uid, update_key(update))
            if reason:
                log.log(logging.DEBUG if self.answered[uid][0] >= self.started else logging.INFO,
                        "skipped update %d: %s", uid, reason)
                continue
            self.taken[uid] = Taken(self.epoch, update_key(update))
            fresh.append(update)
        return fresh

    def begin(self, uid: int, key: str) -> str | None:
        """Start handling ``uid``; the reason not to (it was answered, or is being answered), else None."""
        taken = self.taken.get(uid)
        if taken is not None and not taken.started and taken.key == key:
            taken.started = True
            return None
        if taken is not None:
            return "it is being answered"
        reason = self.answered_before(uid, key)
        if reason:
            return reason
        if self.high is not None and uid < self.high - GAP:  # webhook mode: nothing else tells us
            self.new_sequence(f"update {uid} came after {self.high}")
        self.high = uid if self.high is None else max(self.high, uid)
        self.taken[uid] = Taken(self.epoch, key, started=True)
        return None

    def answered_before(self, uid: int, key: str) -> str | None:
        entry = self.answered.get(uid)
        if entry is None or entry[1] != key:
            return None
        return f"already answered {self.clock() - entry[0]:.0f} s ago"

    def new_sequence(self, why: str) -> None:
        log.warning("update ids went down (%s): a new sequence, as after a quiet week or with another Bot "
                    "API server; following it", why)
        self.epoch += 1
        self.high = None

    def finish(self, uid: int, ok: bool = True) -> dict | None:
        """Mark it done and return its journal entry; one not ``ok`` (abandoned at shutdown) stays in
        hand, holding the offset back, so Telegram sends it again."""
        entry = None
        if ok:
            taken = self.taken.pop(uid, None)
            key = taken.key if taken else ""
            now = self.clock()
            self.answered.pop(uid, None)
            self.answered[uid] = (now, key)
            self.prune()
            entry = {"u": uid, "t": round(now, 3), "k": key}
        self.version += 1
        self.event.set()
        self.event = asyncio.Event()
        return entry

    def prune(self) -> None:
        cutoff = self.clock() - WINDOW
        while self.answered and (len(self.answered) > MAX_ANSWERED or next(iter(self.answered.values()))[0] < cutoff):
            self.answered.popitem(last=False)

    async def wait_change(self, version: int, timeout: float) -> None:
        if self.version == version:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.event.wait(), timeout)

    def snapshot(self) -> dict:
        return {"answered": [[uid, round(at, 3), key] for uid, (at, key) in self.answered.items()],
                "high": self.high if self.high is not None else self.previous}


def valid_entry(entry) -> bool:
    return (isinstance(entry, (list, tuple)) and len(entry) == 3 and isinstance(entry[0], int)
            and isinstance(entry[1], (int, float)) and isinstance(entry[2], str))


class Durable:
    """The ledger and the chats' follow-up history, journaled per answer and snapshotted now and then."""

    def __init__(self, journal: Journal, history):
        self.journal, self.history = journal, history
        saved, records = journal.load()
        self.chats: dict[str, list] = {}  # the history as journaled: what a restart gets back
        chats = saved.get("chats")
        for chat, questions in (chats.items() if isinstance(chats, dict) else ()):
            self.chats[str(chat)] = questions
        for record in records:
            if "c" in record and isinstance(record.get("h"), list):
                self.chats[str(record["c"])] = record["h"]
        self.chats = dict(list(self.chats.items())[-history.limit:])
        history.restore(self.chats)
        self.ledger = Ledger.from_saved(saved, records)
        self.compact()

    def done(self, entry: dict, chat_id: int | None) -> None:
        if chat_id is not None:
            questions = list(self.history.context(chat_id)) if self.history.size else []
            entry = {**entry, "c": chat_id, "h": questions}
            self.chats.pop(str(chat_id), None)
            self.chats[str(chat_id)] = questions
            if len(self.chats) > self.history.limit:
                del self.chats[next(iter(self.chats))]
        if self.journal.record(entry):
            self.compact()

    def compact(self) -> None:
        self.journal.compact({**self.ledger.snapshot(), "chats": {c: q for c, q in self.chats.items() if q}})


class LedgerBot(ExtBot):
    """An ExtBot whose ``getUpdates`` confirms only updates that are done, and hides those in hand."""

    __slots__ = ("_ledger",)

    def attach(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        ledger = self._ledger
        version, asked = ledger.version, ledger.offset
        updates = await super().get_updates(asked, *args, **kwargs)
        fresh = ledger.admit(updates, asked)
        if updates and not fresh:  # all re-sent, still being answered: ask again once some are done
            await ledger.wait_change(version, REPOLL)
        return tuple(fresh)


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

    def __init__(self, durable: Durable, max_updates: int = 256):
        super().__init__(max_updates)
        self.durable, self.ledger = durable, durable.ledger
        self.locks: dict[object, tuple[asyncio.Lock, int]] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        self.durable.compact()
        self.durable.journal.close()

    async def do_process_update(self, update: object, coroutine) -> None:
        uid = getattr(update, "update_id", None)
        reason = self.ledger.begin(uid, update_key(update)) if uid is not None else None
        if reason:
            coroutine.close()
            log.info("skipped update %s: %s", uid, reason)
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
            self.release(key)
            entry = self.ledger.finish(uid, ok=not run.abandoned) if uid is not None else None
            if entry:
                self.durable.done(entry, key if isinstance(key, int) else None)

    def release(self, key: object) -> None:
        lock, users = self.locks[key]
        if users == 1:
            del self.locks[key]
        else:
            self.locks[key] = (lock, users - 1)
