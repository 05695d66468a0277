"""The ``telegram:`` section of config.yaml → frozen ``TelegramSettings``.

``bot.config`` keeps frontend sections raw in ``settings.extra``; this module
checks keys and types. Secrets and deployment addresses may come from the
environment instead: ``TELEGRAM_WEBHOOK_SECRET``, ``TELEGRAM_API_BASE_URL``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from ..config import ConfigError, described, limit, read_fields

DEFAULT_API = "https://api.telegram.org/bot"
# Telegram allows 1-256 characters A-Z a-z 0-9 _ - in a webhook secret token
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def default_feedback_log() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    return Path(state).expanduser() / "qabot" / "feedback.jsonl"


@dataclass(frozen=True)
class TelegramSettings:
    api_base_url: str = DEFAULT_API  # the token is appended, or replaces {token}
    # empty: everyone (unless allowed_chats is set)
    allowed_users: tuple[int, ...] = field(default=(), **described("a list of numeric Telegram ids"))
    allowed_chats: tuple[int, ...] = field(default=(), **described("a list of numeric Telegram ids"))
    rate_limit_per_minute: int = field(default=20, **limit(0, 10_000))  # questions per user per minute; 0: no limit
    history: int = field(default=3, **limit(0, 10))  # earlier questions per chat passed as follow-up context
    snippets: int = field(default=3, **limit(0, 10))  # short cited lines under the best passage
    webhook_url: str | None = None  # set: webhook mode; unset: long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = field(default=8443, **limit(1, 65535))
    webhook_secret: str | None = None
    feedback_log: Path = Path("~/.local/state/qabot/feedback.jsonl")
    log_text: bool = True  # False: logs carry no question text
    state_file: Path = Path("~/.local/state/qabot/telegram-state.json")  # default: beside feedback_log
    max_concurrent_searches: int = field(default=4, **limit(1, 64))  # searches running at once, each in a worker thread
    # client-side flood limit (and 20 a minute per group); 0: off
    max_sends_per_second: int = field(default=30, **limit(0, 1000))
    # how long a failing API call is retried with backoff; 0: no retries
    send_retry_seconds: int = field(default=120, **limit(0, 3600))
    # user ids that may add articles (a document or a link) and /remove them
    admins: tuple[int, ...] = field(default=(), **described("a list of numeric Telegram ids"))
    allow_private_urls: bool = False  # True: links to loopback/private/link-local addresses are fetched too

    @property
    def restricted(self) -> bool:
        return bool(self.allowed_users or self.allowed_chats)

    @property
    def base_file_url(self) -> str:
        """The file URL that goes with ``api_base_url``: ``…/bot`` → ``…/file/bot``."""
        head, sep, tail = self.api_base_url.rpartition("/bot")
        return f"{head}/file/bot{tail}" if sep else self.api_base_url


def telegram_settings(raw: Any, environ: Mapping[str, str] = os.environ) -> TelegramSettings:
    """Check the raw ``telegram:`` mapping (None: all defaults) and fold in the environment."""
    values: dict[str, Any] = read_fields(TelegramSettings, raw, "telegram")
    if environ.get("TELEGRAM_API_BASE_URL"):
        values["api_base_url"] = environ["TELEGRAM_API_BASE_URL"]
    if environ.get("TELEGRAM_WEBHOOK_SECRET"):
        values["webhook_secret"] = environ["TELEGRAM_WEBHOOK_SECRET"]
    values.setdefault("feedback_log", default_feedback_log())
    values.setdefault("state_file", Path(values["feedback_log"]).expanduser().parent / "telegram-state.json")
    return validated(TelegramSettings(**values))


def validated(settings: TelegramSettings) -> TelegramSettings:
    """Cross-field checks: URLs have a scheme, a webhook secret is well-formed."""
    if not settings.api_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"telegram.api_base_url should start with https://, not {settings.api_base_url!r}")
    if settings.webhook_url and not settings.webhook_url.startswith(("http://", "https://")):
        raise ConfigError(f"telegram.webhook_url should be an https:// URL, not {settings.webhook_url!r}")
    if settings.webhook_url and not settings.webhook_secret:
        raise ConfigError("telegram.webhook_url is set but there is no webhook secret: set TELEGRAM_WEBHOOK_SECRET "
                          "(or telegram.webhook_secret) to a random string of A-Z, a-z, 0-9, _ and -, "
                          "e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if settings.webhook_secret is not None and not SECRET.fullmatch(settings.webhook_secret):
        raise ConfigError("telegram.webhook_secret (or TELEGRAM_WEBHOOK_SECRET) should be 1-256 characters "
                          "of A-Z, a-z, 0-9, _ and -")
    return replace(settings, feedback_log=Path(settings.feedback_log).expanduser(),
                   state_file=Path(settings.state_file).expanduser())
