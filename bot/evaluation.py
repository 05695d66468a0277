"""``qabot eval``: score answers against a gold set by the rules in shared/eval/README.md."""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .answering import Answer

SPACE = re.compile(r"\s+")
DEPTH = 10


def squeeze(text: str) -> str:
    return SPACE.sub("", text)


def is_hit(passage: str, gold) -> bool:
    """Does ``passage`` hold the gold answer (a span string, or {"answer", "context"})?"""
    text = squeeze(passage)
    if isinstance(gold, str):
        g = squeeze(gold)
        if not g:
            return False
        if g in text:
            return True
        cut = math.ceil(len(g) * 0.6)
        return len(g) >= 6 and (g[:cut] in text or g[-cut:] in text)
    answer, context = squeeze(gold["answer"]), squeeze(gold["context"])
    if not answer:
        return False
    start = text.find(answer)
    while start >= 0:
        window = text[max(0, start - 8): start + len(answer) + 8]
        if window in context:
            return True
        start = text.find(answer, start + 1)
    return False


def first_hit(answer: Answer, golds: list) -> int | None:
    """Rank (1-based) of the first passage that is a hit, or None."""
    for hit in answer.hits[:DEPTH]:
        if any(is_hit(hit.passage.text, g) for g in golds):
            return hit.rank
    return None


@dataclass
class Tally:
    n: int = 0
    ranks: list = field(default_factory=list)  # first-hit rank or None, answerable questions only
    no_answer: int = 0
    abstained: int = 0  # on no-answer questions
    wrongly_abstained: int = 0  # on answerable ones
    lengths: list = field(default_factory=list)

    def add(self, answer: Answer, golds: list, no_answer: bool) -> None:
        self.n += 1
        self.lengths += [len(h.passage.text) for h in answer.hits[:3]]
        if no_answer:
            self.no_answer += 1
            self.abstained += not answer.answered
            return
        self.ranks.append(first_hit(answer, golds))
        self.wrongly_abstained += not answer.answered

    def row(self) -> dict:
        n = len(self.ranks)
        def at(k):
            return round(sum(r is not None and r <= k for r in self.ranks) / n, 3) if n else None
        mrr = round(sum(1 / r for r in self.ranks if r) / n, 3) if n else None
        return {"questions": self.n, "hit@1": at(1), "hit@3": at(3), "hit@5": at(5), "mrr@10": mrr,
                "abstained": f"{self.abstained}/{self.no_answer}" if self.no_answer else "-",
                "wrongly_abstained": f"{self.wrongly_abstained}/{n}" if n else "-",
                "top3_len": round(sum(self.lengths) / len(self.lengths), 1) if self.lengths else 0}


class GoldError(Exception):
    """The gold file cannot be opened or is not UTF-8 text."""


def gold_text(path: Path) -> str:
    """The gold file's text (a BOM dropped); ``GoldError`` naming the fix when it can't be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise GoldError(f"cannot open gold file {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise GoldError(f"gold file {path} is not UTF-8 (line {line}); convert it "
                        f"(iconv -f GB18030 -t UTF-8 {path} > fixed.gold.jsonl)") from None


def read_gold(path: Path) -> Iterable[tuple[int, dict | str]]:
    """(line number, gold record) pairs; a bad line yields an error message instead.

    Raises ``GoldError`` (on first iteration) when the file can't be opened or isn't UTF-8."""
    for number, line in enumerate(gold_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                raise ValueError('expected {"question", "gold"}')
        except ValueError as exc:
            yield number, f"{path}:{number}: {exc}; line skipped"
            continue
        yield number, item


def format_table(rows: dict[str, dict]) -> str:
    cols = ["questions", "hit@1", "hit@3", "hit@5", "mrr@10", "abstained", "wrongly_abstained", "top3_len"]
    head = ["kind"] + cols
    table = [head] + [[kind] + ["-" if r[c] is None else str(r[c]) for c in cols] for kind, r in rows.items()]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def tally_by_kind() -> defaultdict:
    return defaultdict(Tally)
