"""The ``telegram:`` section of config.yaml → frozen ``TelegramSettings``.

``bot.config`` keeps frontend sections raw in ``settings.extra``; this module
checks keys and types. Secrets and deployment addresses may come from the
environment instead: ``TELEGRAM_WEBHOOK_SECRET``, ``TELEGRAM_API_BASE_URL``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from ..config import ConfigError

DEFAULT_API = "https://api.telegram.org/bot"
# Telegram allows 1-256 characters A-Z a-z 0-9 _ - in a webhook secret token
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def default_feedback_log() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    return Path(state).expanduser() / "qabot" / "feedback.jsonl"


@dataclass(frozen=True)
class TelegramSettings:
    api_base_url: str = DEFAULT_API  # the token is appended, or replaces {token}
    allowed_users: tuple[int, ...] = ()  # empty: everyone (unless allowed_chats is set)
    allowed_chats: tuple[int, ...] = ()
    rate_limit_per_minute: int = 20  # questions per user per minute; 0: no limit
    history: int = 3  # earlier questions per chat passed as follow-up context
    snippets: int = 3  # short cited lines under the best passage
    webhook_url: str | None = None  # set: webhook mode; unset: long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    feedback_log: Path = Path("~/.local/state/qabot/feedback.jsonl")
    log_text: bool = True  # False: logs carry no question text
    state_file: Path = Path("~/.local/state/qabot/telegram-state.json")  # default: beside feedback_log
    max_concurrent_searches: int = 4  # searches running at once, each in a worker thread
    max_sends_per_second: int = 30  # client-side flood limit (and 20 a minute per group); 0: off
    send_retry_seconds: int = 120  # how long a failing API call is retried with backoff; 0: no retries

    @property
    def restricted(self) -> bool:
        return bool(self.allowed_users or self.allowed_chats)

    @property
    def base_file_url(self) -> str:
        """The file URL that goes with ``api_base_url``: ``…/bot`` → ``…/file/bot``."""
        head, sep, tail = self.api_base_url.rpartition("/bot")
        return f"{head}/file/bot{tail}" if sep else self.api_base_url


LIMITS = {"rate_limit_per_minute": (0, 10_000), "history": (0, 10), "snippets": (0, 10), "webhook_port": (1, 65535),
          "max_concurrent_searches": (1, 64), "max_sends_per_second": (0, 1000), "send_retry_seconds": (0, 3600)}
PATHS = ("feedback_log", "state_file")


def telegram_settings(raw: Any, environ: Mapping[str, str] = os.environ) -> TelegramSettings:
    """Check the raw ``telegram:`` mapping (None: all defaults) and fold in the environment."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("telegram: should be a mapping of settings, e.g. telegram: {rate_limit_per_minute: 20}")
    valid = [f.name for f in fields(TelegramSettings)]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in valid:
            raise ConfigError(f"telegram: unknown key {key!r}; valid keys: {', '.join(sorted(valid))}")
        if value is not None:
            values[key] = checked(key, value)
    if environ.get("TELEGRAM_API_BASE_URL"):
        values["api_base_url"] = environ["TELEGRAM_API_BASE_URL"]
    if environ.get("TELEGRAM_WEBHOOK_SECRET"):
        values["webhook_secret"] = environ["TELEGRAM_WEBHOOK_SECRET"]
    values.setdefault("feedback_log", default_feedback_log())
    values.setdefault("state_file", Path(values["feedback_log"]).expanduser().parent / "telegram-state.json")
    return validated(TelegramSettings(**values))


def checked(key: str, value: Any) -> Any:
    """``value`` converted to the type of ``key``, or a ConfigError naming it."""
    name = f"telegram.{key}"
    if key in ("allowed_users", "allowed_chats"):
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            raise ConfigError(f"{name} should be a list of numeric Telegram ids, not {value!r}")
        return tuple(items)
    if key in LIMITS:
        low, high = LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{name} should be a whole number from {low} to {high}, not {value!r}")
        return value
    if key == "log_text":
        if not isinstance(value, bool):
            raise ConfigError(f"{name} should be true or false, not {value!r}")
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} should be a non-empty string, not {value!r}")
    return Path(value).expanduser() if key in PATHS else value.strip()


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
