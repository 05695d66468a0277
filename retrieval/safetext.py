"""Text from articles, file names and users, made safe to show and to search. The one place
that knows which characters are control codes.

``printable`` is for everything that reaches a terminal (answers, warnings, errors): each
control character (C0 but newline, DEL, C1) and each bidi override becomes one space, so a
title cannot set the terminal's title, clear the screen or reorder what is shown, and
offsets into the text still hold. ``searchable`` is for a question: whole escape sequences
(their OSC payloads too) and zero-width characters go, so they cannot change what is searched.
"""
from __future__ import annotations

import json
import re

CONTROLS = [*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_SHOWN = {code: " " for code in CONTROLS + BIDI}
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# ESC or its C1 form: CSI … final byte; OSC/DCS/PM/APC/SOS … BEL or ST (or the end); any other ESC x
SEQUENCE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|(?:\x1b[\]P^_X]|[\x9d\x90\x9e\x9f\x98])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                      r"|\x1b[ -/]*[0-~]?")
_HIDDEN = {ord(ch): None for ch in ZERO_WIDTH}


def printable(text: str) -> str:
    """``text`` with control characters and bidi overrides as spaces (newlines kept); same length.
    Lone surrogates (from undecodable bytes) become U+FFFD, so printing never fails."""
    text = str(text).translate(_SHOWN)
    return text if text.isascii() else without_surrogates(text)


_ESCAPED = {code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), *BIDI, 0x2028, 0x2029]}


def json_line(record) -> str:
    """``record`` as one line of JSON that is safe on a terminal: json escapes C0 itself; DEL, C1,
    bidi overrides and line separators are written as \\u escapes too (the same JSON value)."""
    return json.dumps(record, ensure_ascii=False).translate(_ESCAPED)


def searchable(text: str) -> str:
    """A question without escape sequences (payload included) or zero-width characters, and with
    lone surrogates (undecodable input bytes) as U+FFFD."""
    return without_surrogates(SEQUENCE.sub("", text).translate(_HIDDEN))


SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates (``\\ud800`` in JSON, undecodable argv bytes) as U+FFFD; same length."""
    return SURROGATE.sub("\ufffd", text)
