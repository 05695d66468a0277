"""Chinese numerals as the Arabic numbers they stand for: 两万七千 → 27000, 二〇一八 → 2018,
第一届 → 1, 三十亿 → 30 (the 亿 stays a character, as it does after 30亿).

``terms(text)`` gives (number, start, end) for each numeral run of already normalised text,
to be counted *beside* the text's other terms: the text itself is never rewritten, so
offsets (highlights) stay those of the original. Arabic numbers are found by the analyser
itself; this adds the same terms for the numerals written out in characters.
"""
from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL = {"十": 10, "百": 100, "千": 1000}
LARGE = {"万": 10_000, "亿": 100_000_000}
RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
# a lone numeral character says a number only before a counting word (一届, 两种, 三个) or after
# 第; elsewhere it is part of a word (一些, 统一, 十分, 万一)
COUNTED = set("届次名位个种项年月日天号岁队支部家条点倍批期轮场代")
NOT_A_NUMBER = {"万一", "一一", "千万", "万万", "亿万", "一二", "十万八千"}


def value(run: str) -> int | None:
    """The number a run of numeral characters writes, or None when it is not a well-formed one.
    Digits alone read digit by digit (二〇一八 → 2018); with units as a number (两万七千 → 27000)."""
    if not any(c in SMALL or c in LARGE for c in run):
        return int("".join(str(DIGITS[c]) for c in run))
    total, section, digit = 0, 0, None
    for c in run:
        if c in "零〇":
            continue  # 一千零五: the zero only says a place is empty
        if c in DIGITS:
            if digit is not None:
                return None  # two digits in a row inside a number with units: 一二百
            digit = DIGITS[c]
        elif c in SMALL:
            section += (1 if digit is None else digit) * SMALL[c]
            digit = None
        else:  # 万 or 亿 scale everything so far
            if section == 0 and digit is None and total == 0:
                return None
            total = (total + section + (digit or 0)) * LARGE[c]
            section, digit = 0, None
    return total + section + (digit or 0)


def terms(text: str) -> list[tuple[str, int, int]]:
    """(Arabic number, start, end) for each numeral run of normalised ``text``. A trailing 万 or
    亿 is left out of the number (三十亿 → 30), as it is when the number is written 30亿."""
    out = []
    for match in RUN.finditer(text):
        run, start = match.group(), match.start()
        if run in NOT_A_NUMBER or (start and text[start - 1] in "哪那这"):
            continue  # 哪一年 asks, 那一天 points back: neither names a number
        if len(run) == 1 and not lone_number(text, start, run):
            continue
        body = run.rstrip("万亿") or run
        number = value(body)
        if number is not None:
            out.append((str(number), start, start + len(body)))
    return out


def lone_number(text: str, start: int, char: str) -> bool:
    """Does a single numeral character stand for a number here (第一, 两种, 十年; not 一些, 十分)?"""
    after = text[start + 1: start + 2]
    if char in LARGE or (char == "一" and after == "个"):  # 一个 is an article, not a count
        return False
    return (start > 0 and text[start - 1] == "第") or after in COUNTED
