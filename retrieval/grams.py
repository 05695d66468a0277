"""Han bigram and single-character terms as numbers.

They are most of an index's terms and postings. As a number (a character's code
point, or two of them in one int64) they are found, counted, sorted and stored
with array operations; as a string ("·北京", "•京") they are what the rest of the
code sees. Bigram codes are above 2**32, so every bigram sorts after every character.
"""
from __future__ import annotations

import numpy as np

BIGRAM = "\u00b7"  # marks Han-character bigram terms, kept apart from jieba words
UNIGRAM = "\u2022"  # marks single Han-character terms, kept apart from one-character words
PAIR = 1 << 32


def bigram_codes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return PAIR + (first.astype(np.int64) << 16 | second.astype(np.int64))


def code(term: str) -> int | None:
    """The code of a gram term, None for any other term."""
    if len(term) == 2 and term[0] == UNIGRAM and ord(term[1]) < 0x10000:
        return ord(term[1])
    if len(term) == 3 and term[0] == BIGRAM and ord(term[1]) < 0x10000 and ord(term[2]) < 0x10000:
        return PAIR + (ord(term[1]) << 16 | ord(term[2]))
    return None


def term(value: int) -> str:
    if value >= PAIR:
        return BIGRAM + chr(value >> 16 & 0xFFFF) + chr(value & 0xFFFF)
    return UNIGRAM + chr(value)


def terms(codes: np.ndarray) -> list[str]:
    """The terms of many codes at once: one decode of a UTF-32 buffer, then slices."""
    codes = np.asarray(codes, dtype=np.int64)
    pair = codes >= PAIR
    chars = np.zeros((len(codes), 3), dtype=np.uint32)
    chars[:, 0] = np.where(pair, ord(BIGRAM), ord(UNIGRAM))
    chars[:, 1] = np.where(pair, codes >> 16 & 0xFFFF, codes)
    chars[:, 2] = np.where(pair, codes & 0xFFFF, 0x20)  # cut off below for single characters
    text = chars.tobytes().decode("utf-32-le")
    return [text[3 * i:3 * i + 3] if p else text[3 * i:3 * i + 2] for i, p in enumerate(pair.tolist())]
