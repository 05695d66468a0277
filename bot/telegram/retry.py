"""Calls to the Bot API that outlast outages: ``RetryingLimiter`` retries them with backoff.

PTB turns a 5xx answer, a refused connection or a timeout into ``NetworkError`` (``TimedOut``),
and a 429 into ``RetryAfter``; by default it gives up on the first. Here every call but
``getUpdates`` (the Updater has its own retry loop) is tried again, 429s after exactly the
time Telegram asks for, the rest with doubling delays, until ``budget`` seconds have
passed. ``BadRequest`` (a ``NetworkError`` too) and ``Forbidden`` are final and not retried.
A retried call Telegram did receive (a timeout after the request got through) may arrive
twice: delivery is at least once.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter

log = logging.getLogger("qabot.telegram")
FIRST_DELAY, MAX_DELAY = 0.5, 5.0  # seconds; a recovered API is noticed within MAX_DELAY


@dataclass
class Run:
    """The update being handled in this task; the limiter flags it when a call was abandoned."""
    update_id: int | None
    abandoned: bool = False
    failure: str = ""  # the call given up on, for the one line the error handler logs


CURRENT: contextvars.ContextVar[Run | None] = contextvars.ContextVar("qabot_update", default=None)


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # an int or a timedelta, depending on PTB's settings
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RetryingLimiter(BaseRateLimiter):
    """Telegram's flood limits (optional ``AIORateLimiter``) plus bounded retries of failed calls."""

    def __init__(self, per_second: int, budget: float, is_running: Callable[[], bool] = lambda: True):
        # AIORateLimiter itself does not retry (max_retries=0): a 429 comes back here
        self.inner = AIORateLimiter(overall_max_rate=per_second, max_retries=0) if per_second else None
        self.budget = budget
        self.is_running = is_running

    async def initialize(self) -> None:
        if self.inner:
            await self.inner.initialize()

    async def shutdown(self) -> None:
        if self.inner:
            await self.inner.shutdown()

    async def once(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if self.inner:
            return await self.inner.process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        return await callback(*args, **kwargs)

    async def process_request(self, callback, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: Any) -> Any:
        """Make the call; on a 429 or a network failure wait and try again, within the budget."""
        deadline, delay, attempt = time.monotonic() + self.budget, FIRST_DELAY, 1
        while True:
            try:
                return await self.once(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except RetryAfter as exc:
                wait, error = retry_after_seconds(exc), exc
            except NetworkError as exc:
                wait, error = delay * random.uniform(0.8, 1.2), exc
                delay = min(2 * delay, MAX_DELAY)
            if not self.budget or time.monotonic() + wait > deadline or not self.is_running():
                self.give_up(endpoint, attempt, error)
                raise error
            log.log(logging.WARNING if attempt == 1 else logging.INFO, "%s failed (%s); retry %d in %.1f s",
                    endpoint, error, attempt, wait)
            await asyncio.sleep(wait)
            attempt += 1

    def give_up(self, endpoint: str, attempts: int, error: Exception) -> None:
        """Note it on the update (the error handler logs one line); when stopping, flag the update so
        it is not marked done (Telegram sends it again after the restart)."""
        run = CURRENT.get()
        if run is not None:
            run.abandoned = run.abandoned or not self.is_running()
            run.failure = f"{endpoint} failed {attempts} time{'s' if attempts > 1 else ''}"
        elif attempts > 1:  # a first failure is the caller's to report
            log.error("%s failed %d times, giving up: %s", endpoint, attempts, error)
