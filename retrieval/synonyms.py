"""Query-time synonyms: a question word is also searched as its close synonyms, at reduced
weight, and a passage that holds a synonym of a question word counts as holding the word when
judging whether to answer.

The groups are in ``data/synonyms.txt`` (written for qabot: the everyday word a question uses
beside the word an article writes). Passages are never expanded, so the index is unchanged.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from .analysis import DATA
from .grams import BIGRAM, UNIGRAM


FILE = DATA / "synonyms.txt"


def read_groups(paths: Iterable[Path]) -> list[list[str]]:
    """The synonym groups of the files: one a line, words split by white space, # comments."""
    groups = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) > 1 and not line.startswith("#"):
                groups.append(words)
    return groups


def words_of(terms: list[str]) -> set[str]:
    """The word terms among an analyser's terms: no Han bigrams, single characters or numbers
    (第一名 also gives 1, which would match any passage with a 1 in it)."""
    return {t for t in terms if t[0] not in (BIGRAM, UNIGRAM) and not t.replace(".", "").isdigit()}


class Synonyms:
    """Each word's synonyms as terms, made with ``terms_of`` (the analyser's terms of a text, so a
    synonym is looked for in the form the passages were indexed in)."""

    def __init__(self, terms_of: Callable[[str], list[str]], paths: Iterable[Path] | None = None):
        self.terms_of = terms_of
        self.paths = [FILE] if paths is None else list(paths)

    @cached_property
    def table(self) -> dict[str, frozenset[str]]:
        """word term → the word terms of its synonyms."""
        out: dict[str, set[str]] = {}
        for group in read_groups(self.paths):
            # a group word is kept when the analyser keeps it whole, and then stands for its word
            # terms as a question word would (获胜者 with its pieces 获胜 and 胜者); one it splits
            # (用于 → 用) or drops (a stopword) is left out: its pieces are no synonyms
            whole = {word: words_of(self.terms_of(word)) for word in group}
            whole = {word: terms for word, terms in whole.items() if word in terms}
            for word in whole:
                out.setdefault(word, set()).update(t for other, terms in whole.items() if other != word
                                                   for t in terms if t != word)
        return {word: frozenset(syns) for word, syns in out.items()}

    def expand(self, own: dict[str, float], weight: float) -> dict[str, float]:
        """The synonyms of the question's word terms not already asked for, each at ``weight``
        times the weight of the word it stands in for."""
        out: dict[str, float] = {}
        if weight <= 0:
            return out
        for term, w in own.items():
            for syn in self.table.get(term, ()):
                if syn not in own:
                    out[syn] = max(out.get(syn, 0.0), w * weight)
        return out

    def standing_in(self, held: set[str], own: Iterable[str]) -> set[str]:
        """The question terms not in ``held`` one of whose synonyms is."""
        return {t for t in own if t not in held and not held.isdisjoint(self.table.get(t, ()))}
