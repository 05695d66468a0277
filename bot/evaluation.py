"""``qabot eval``: score answers against a gold set by the rules in docs/evaluation.md."""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .answer_metric import RIGHT, exact_match, span_f1
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


def gold_answers(item: dict) -> list[str]:
    """A gold line's short answers: its ``answers`` list, or its gold items' ``answer`` fields."""
    return list(item.get("answers") or []) or [g["answer"] for g in item.get("gold") or [] if isinstance(g, dict)]


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
    f1: list = field(default_factory=list)  # answer F1 of each question with short gold answers
    em: list = field(default_factory=list)
    sentence: list = field(default_factory=list)  # the answer sentence holds a gold answer
    confident: list = field(default_factory=list)  # F1 of each confident answer
    confident_off: int = 0  # confident answers to no-answer questions

    def add(self, answer: Answer, golds: list, no_answer: bool, answers: Sequence[str] = ()) -> None:
        self.n += 1
        self.lengths += [len(h.passage.text) for h in answer.hits[:3]]
        span = answer.result.answer if answer.result else None
        if no_answer:
            self.no_answer += 1
            self.abstained += not answer.answered
            self.confident_off += bool(span and span.confident)
            return
        self.ranks.append(first_hit(answer, golds))
        self.wrongly_abstained += not answer.answered
        if answers:
            self.score_span(answer, span, answers)

    def score_span(self, answer: Answer, span, answers: Sequence[str]) -> None:
        f1 = span_f1(span.text, answers) if span else 0.0
        self.f1.append(f1)
        self.em.append(bool(span) and exact_match(span.text, answers))
        sentence = squeeze(answer.hits[span.rank - 1].passage.text[span.sentence[0]:span.sentence[1]]) if span else ""
        self.sentence.append(any(squeeze(a) and squeeze(a) in sentence for a in answers))
        if span and span.confident:
            self.confident.append(f1)

    def row(self) -> dict:
        n = len(self.ranks)
        def at(k):
            return round(sum(r is not None and r <= k for r in self.ranks) / n, 3) if n else None
        mrr = round(sum(1 / r for r in self.ranks if r) / n, 3) if n else None
        return {"questions": self.n, "hit@1": at(1), "hit@3": at(3), "hit@5": at(5), "mrr@10": mrr,
                "abstained": f"{self.abstained}/{self.no_answer}" if self.no_answer else "-",
                "wrongly_abstained": f"{self.wrongly_abstained}/{n}" if n else "-",
                "top3_len": round(sum(self.lengths) / len(self.lengths), 1) if self.lengths else 0,
                **self.answer_row()}

    def answer_row(self) -> dict:
        n, c = len(self.f1), self.confident
        def share(values, of):
            return round(sum(values) / of, 3) if of else None
        return {"em": round(100 * share(self.em, n), 1) if n else None,
                "f1": round(100 * share(self.f1, n), 1) if n else None,
                "sentence": share(self.sentence, n),
                "conf_right": share([f >= RIGHT for f in c], len(c)), "conf_cover": share([1] * len(c), n),
                "conf_off": f"{self.confident_off}/{self.no_answer}" if self.no_answer else "-"}


class GoldError(Exception):
    """The gold file cannot be opened or is not UTF-8 text."""


def gold_text(path: Path) -> str:
    """The gold file's text (a BOM dropped); ``GoldError`` naming the fix when it can't be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise GoldError(f"cannot open gold file {path}: {exc.strerror or exc}; give the path of a "
                        "NAME.gold.jsonl file") from None
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
            problem = gold_problem(item)
            if problem:
                raise ValueError(problem)
        except ValueError as exc:
            yield number, f"{path}:{number}: {exc}; line skipped"
            continue
        yield number, item


def gold_problem(item) -> str | None:
    """What is wrong with a parsed gold line, or None (see docs/evaluation.md)."""
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        return 'expected {"question": text, "gold": [...]}'
    gold = item.get("gold")
    if gold is not None and not (isinstance(gold, list) and all(map(gold_item_ok, gold))):
        return '"gold" should be a list of answer texts or {"answer": text, "context": text} items'
    if not isinstance(item.get("kind", ""), str):
        return '"kind" should be a text'
    for key in ("context", "answers"):
        value = item.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return f'"{key}" should be a list of texts'
    return None


def gold_item_ok(gold) -> bool:
    if isinstance(gold, str):
        return True
    return isinstance(gold, dict) and isinstance(gold.get("answer"), str) and isinstance(gold.get("context"), str)


def format_table(rows: dict[str, dict]) -> str:
    cols = ["questions", "hit@1", "hit@3", "hit@5", "mrr@10", "abstained", "wrongly_abstained", "top3_len",
            "em", "f1", "sentence", "conf_right", "conf_cover", "conf_off"]
    head = ["kind"] + cols
    table = [head] + [[kind] + ["-" if r[c] is None else str(r[c]) for c in cols] for kind, r in rows.items()]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def tally_by_kind() -> defaultdict:
    return defaultdict(Tally)
