"""Telegram's rules for message text, as the fake Bot API enforces them.

Telegram parses HTML strictly: only its own tags, balanced, and ``<``/``&`` only as
part of a tag or entity; the 4096-character limit applies to the parsed text in
UTF-16 code units; callback data is 1-64 bytes.
"""
from __future__ import annotations

import re

LIMIT = 4096
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
        "blockquote", "tg-emoji"}
ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class BadRequest(Exception):
    """What Telegram answers with 400 Bad Request."""


def parse_html(text: str) -> str:
    """The visible text of Telegram HTML, or BadRequest the way Telegram words it."""
    out, stack, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            end = text.find(">", i)
            match = re.fullmatch(r"<(/?)([a-zA-Z][\w-]*)(\s[^>]*)?>", text[i:end + 1]) if end > 0 else None
            if not match:
                raise BadRequest(f"Bad Request: can't parse entities: unexpected '<' at byte offset {i}")
            closing, name = match.group(1), match.group(2).lower()
            if name not in TAGS:
                raise BadRequest(f'Bad Request: can\'t parse entities: unsupported start tag "{name}" at byte offset {i}')
            if closing:
                if not stack or stack[-1] != name:
                    raise BadRequest(f'Bad Request: can\'t parse entities: can\'t find end tag corresponding to start tag "{stack[-1] if stack else name}"')
                stack.pop()
            else:
                stack.append(name)
            i = end + 1
        elif ch == "&":
            match = ENTITY.match(text, i)
            if not match:
                raise BadRequest(f"Bad Request: can't parse entities: unsupported entity at byte offset {i}")
            code = match.group(1)
            out.append(ENTITIES.get(code) or chr(int(code[2:], 16) if code[1] == "x" else int(code[1:])))
            i = match.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise BadRequest(f'Bad Request: can\'t parse entities: can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_text(p: dict) -> tuple[str, str]:
    """(visible text, raw text) of a message's ``text`` and ``parse_mode``, or BadRequest."""
    html = p.get("text", "")
    text = parse_html(html) if str(p.get("parse_mode", "")).upper() == "HTML" else html
    if not text.strip():
        raise BadRequest("Bad Request: message text is empty")
    if units(text) > LIMIT:
        raise BadRequest("Bad Request: message is too long")
    return text, html


def check_markup(markup) -> dict | None:
    """The inline keyboard if every callback_data is 1-64 bytes, else BadRequest."""
    if not markup:
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise BadRequest("Bad Request: BUTTON_DATA_INVALID")
    return markup
