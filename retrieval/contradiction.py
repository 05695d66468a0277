"""Questions that name what the articles contradict: a year, or a count, that the best passage's
article has a different value of ("2020年 WIDER 挑战赛的冠军是谁？" when the article covers 2018).

Such a question is not answered from that passage; ``contradiction`` says what the articles do
say instead, for the reply to show. All texts here are normalised (analysis.normalise).
"""
from __future__ import annotations

import re

from . import numerals

YEAR = re.compile(r"(?<![\d.])(1[5-9]\d\d|20\d\d)(?![\d.])")
# a count with what it counts (25年, 73支, 13.6亿): compared only with counts of the same unit
COUNT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([年届次个支部位名种项家倍亿万元岁天])")
COVERS = "the articles cover {said}, not {asked}"
SAYS = "the articles say {said}, not {asked}"


def years(text: str) -> set[str]:
    """The years ``text`` names: 2018, 2018年, 二〇一八年."""
    found = set(YEAR.findall(text))
    found.update(n for n, s, e in numerals.terms(text) if YEAR.fullmatch(n) and text[e:e + 1] == "年")
    return found


def counts(text: str) -> set[tuple[str, str]]:
    """(number, unit) pairs of ``text`` that are no year."""
    return {(n, u) for n, u in COUNT.findall(text) if not (u == "年" and YEAR.fullmatch(n))}


def contradiction(question: str, passage: str, article: str) -> str | None:
    """What the article says instead of a year or count the question names and it does not;
    None when nothing the question names is contradicted (or the article names no such thing)."""
    asked = years(question)
    said = years(article)
    if asked and said and not asked & said:
        return COVERS.format(said=", ".join(sorted(years(passage) or said)), asked=", ".join(sorted(asked)))
    asked_counts = {c for c in counts(question) if f"{c[0]}{c[1]}" not in article.replace(" ", "")}
    there = counts(passage)
    for number, unit in sorted(asked_counts):
        other = sorted(f"{n}{u}" for n, u in there if u == unit and n != number)
        if other:
            return SAYS.format(said=", ".join(other), asked=f"{number}{unit}")
    return None
