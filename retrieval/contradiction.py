"""Questions that name what the articles contradict: a year that the best passages' articles
have other values of ("2020年 WIDER 挑战赛的冠军是谁？" when the article covers 2018).

Such a question is not answered from that passage; ``contradiction`` says what the articles do
say instead, for the reply to show. The articles are those of the best few passages (the ones on
the question's topic), and a value counts as contradicted only when they never name it and it
lies outside the span of the values they do name: an article about 1750 to 1759 may well speak
of 1755 without writing it. All texts here are normalised (analysis.normalise).
"""
from __future__ import annotations

import re

from . import numerals

YEAR = re.compile(r"(?<![\d.])(1[5-9]\d\d|20\d\d)(?![\d.]|\s*[多余几来])")  # not 2000多年 (a length of time)
COVERS = "the articles cover {said}, not {asked}"


def years(text: str) -> set[str]:
    """The years ``text`` names: 2018, 2018年, 二〇一八年."""
    found = set(YEAR.findall(text))
    found.update(n for n, s, e in numerals.terms(text) if YEAR.fullmatch(n) and text[e:e + 1] == "年")
    return found


def contradiction(question: str, passage: str, articles: list[str]) -> str | None:
    """What the articles say instead of a year the question names (``passage``: the best
    one; ``articles``: those of the best few, the best one's first); None when nothing is contradicted."""
    return contradicted(years(question), years(passage), [years(a) for a in articles])


def contradicted(asked: set[str], in_passage: set[str], in_articles: list[set[str]]) -> str | None:
    """``contradiction`` over the years already found: a searcher keeps each article's."""
    said = set().union(*in_articles)
    if outside(asked, said):
        best = in_passage or in_articles[0] or said
        return COVERS.format(said=", ".join(sorted(best)), asked=", ".join(sorted(asked)))
    return None


def outside(asked: set[str], said: set[str]) -> bool:
    """Are numbers asked for, none of them said, and each outside the span of those said?"""
    if not asked or not said or asked & said:
        return False
    low, high = min(map(int, said)), max(map(int, said))
    return all(not low <= int(a) <= high for a in asked)
