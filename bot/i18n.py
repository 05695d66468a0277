"""The interface's languages: gettext catalogs (bot/locale/*.po, compiled with Babel at first use).

Every message is an English msgid in ``bot/messages.py`` with named ``{placeholders}``;
``Messages(language)`` translates one and fills it in. Three languages: Simplified
Chinese (``zh_Hans``), Traditional Chinese (``zh_Hant``) and English (``en``, the msgids).
``choose`` picks one from a Telegram ``language_code``, a setting or a locale, then
from the script a question is written in.
"""
from __future__ import annotations

import gettext
import io
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from retrieval.analysis import HAN_CLASS

from .config import ConfigError, described, read

SIMPLIFIED, TRADITIONAL, ENGLISH = "zh_Hans", "zh_Hant", "en"
LANGUAGES = (SIMPLIFIED, TRADITIONAL, ENGLISH)
SETTINGS = ("auto",) + LANGUAGES  # the values ui.language takes
HAN = re.compile(f"[{HAN_CLASS}]")


@lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language``, compiled in memory from its .po file (English: the msgids)."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # Babel: the gettext tooling Python projects use
    from babel.messages.pofile import read_po

    with (resources.files("bot") / "locale" / f"{language}.po").open("rb") as po:
        catalog = read_po(po)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


class Messages:
    """Messages in one language: ``msgs(TEXT, name=value)`` is TEXT translated and filled in."""

    def __init__(self, language: str = ENGLISH):
        self.language = language if language in LANGUAGES else ENGLISH
        self.catalog = translations(self.language)

    def __call__(self, msgid: str, **values) -> str:
        return self.catalog.gettext(msgid).format(**values)

    def plural(self, singular: str, plural: str, n: int, **values) -> str:
        return self.catalog.ngettext(singular, plural, n).format(n=n, **values)

    @property
    def chinese(self) -> bool:
        return self.language != ENGLISH


def normalise(code: str | None) -> str | None:
    """A language of ours for a tag like ``zh-hans``, ``zh_TW``, ``en-GB`` or ``zh_CN.UTF-8``;
    None for another language, or for a bare ``zh`` (the script of the text decides)."""
    code = (code or "").split(".")[0].replace("_", "-").lower()
    if code in ("zh-hans", "zh-hant", "en"):
        return {"zh-hans": SIMPLIFIED, "zh-hant": TRADITIONAL, "en": ENGLISH}[code]
    parts = code.split("-")
    if parts[0] == "en":
        return ENGLISH
    if parts[0] != "zh" or len(parts) == 1:
        return None
    return TRADITIONAL if set(parts[1:]) & {"hant", "tw", "hk", "mo"} else SIMPLIFIED


def script(text: str) -> str | None:
    """The language to answer ``text`` in: Chinese (Traditional when it uses traditional
    characters) when it has Han characters, else English when it has letters (Latin, Hangul,
    Cyrillic …); None for neither (digits, punctuation)."""
    han = HAN.findall(text)
    if han:
        return TRADITIONAL if traditional("".join(han)) else SIMPLIFIED
    return ENGLISH if any(ch.isalpha() for ch in text) else None  # Latin, or a script we don't speak


def traditional(han: str) -> bool:
    """More characters of ``han`` change from traditional to simplified than the other way."""
    t2s, s2t = converters()
    changed = sum(a != b for a, b in zip(han, t2s.convert(han)))
    return changed > sum(a != b for a, b in zip(han, s2t.convert(han)))


@lru_cache(maxsize=1)
def converters():
    import opencc  # already a dependency: the analyzer folds traditional to simplified with it

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def locale_language() -> str | None:
    """The language of the process's locale (LC_ALL, LC_MESSAGES, LANG), if it is one of ours."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return normalise(os.environ[name])
    return None


def choose(preferred: str | None, text: str = "", fallback: str = SIMPLIFIED) -> str:
    """The language to answer in: ``preferred`` (a language tag or setting) when it names one of
    ours, else the script of ``text``, else ``fallback`` (Chinese first)."""
    return normalise(preferred) or script(text) or fallback


@dataclass(frozen=True)
class UiSettings:
    """The ``ui:`` section of config.yaml."""
    language: str = field(default="auto", **described(f"one of {', '.join(SETTINGS)}"))


def ui_language(raw: object) -> str | None:
    """The ``ui:`` section's language: one of ours, or None for ``auto`` (the locale, then the
    question's script). Keys and types are checked by the config reader, the value here."""
    value = read(UiSettings, raw, "ui").language
    if value == "auto":
        return locale_language()
    if normalise(value) is None:
        raise ConfigError(f"ui.language should be one of {', '.join(SETTINGS)}, not {value!r}")
    return normalise(value)


def telegram_language(code: str | None, text: str = "") -> str:
    """A Telegram user's language: their ``language_code`` when it is Chinese or English, else
    the script of ``text``; with neither, English for a user of another language, else Chinese."""
    return choose(code, text, ENGLISH if code and not code.lower().startswith("zh") else SIMPLIFIED)
