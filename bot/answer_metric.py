"""The CMRC 2018 answer-span metric (its official cmrc2018_evaluate.py), also used for DRCD.

Lower case, punctuation removed, Han characters one by one and other runs as words;
EM: the sequences are equal; F1 from their longest common substring; the best over the
gold answers.
"""
from __future__ import annotations

import re
from typing import Iterable

# Removed before scoring. "……" is one item in the official list, so a single "…" stays.
PUNCTUATION = frozenset("-:_*^/\\~`+=，。：？！“”；’《》·、「」（）－～『』")
HAN_CHAR = re.compile(r"[\u4e00-\u9fa5]")
WORDS = re.compile(r"\d+(?:[.,]\d+)*|\w+|[^\w\s]")
RIGHT = 0.5  # a confident answer is right from this F1 on


def strip_punctuation(text: str) -> str:
    return "".join(c for c in text.lower().strip().replace("……", "") if c not in PUNCTUATION)


def segments(text: str) -> list[str]:
    """Han characters one by one, other runs as words (nltk's word_tokenize, roughly), punctuation out."""
    out, run = [], ""
    for c in strip_punctuation(text):
        if HAN_CHAR.match(c):
            out += WORDS.findall(run) + [c]
            run = ""
        else:
            run += c
    return out + WORDS.findall(run)


def common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest common substring of two sequences."""
    best, row = 0, [0] * (len(b) + 1)
    for x in a:
        prev, row = row, [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                row[j] = prev[j - 1] + 1
                best = max(best, row[j])
    return best


def span_f1(prediction: str, answers: Iterable[str]) -> float:
    """F1 from the longest common substring, the best over ``answers``; 0 with no answers."""
    pred, best = segments(prediction), 0.0
    for answer in answers:
        gold = segments(answer)
        same = common_run(gold, pred)
        if same:
            p, r = same / len(pred), same / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best


def exact_match(prediction: str, answers: Iterable[str]) -> bool:
    pred = strip_punctuation(prediction)
    return any(strip_punctuation(a) == pred for a in answers)
