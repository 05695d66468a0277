"""``qabot batch``: questions from a file in, one JSON line per question out, in input order."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Iterator

from .answering import Answerer
from .progress import Progress


@dataclass(frozen=True)
class Item:
    ident: str | int
    question: str | None
    context: tuple[str, ...] = ()
    error: str | None = None


def read_items(stream: IO[str], name: str, jsonl: bool) -> Iterator[Item]:
    """Questions from JSONL (``{"id"?, "question", "context"?}``) or one per line of text."""
    for number, line in enumerate(stream, 1):
        line = line.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip():
            continue
        if not jsonl:
            yield Item(number, line.strip())
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Item(number, None, error=f"{name}:{number}: not JSON ({exc.msg}); give one JSON object a line")
            continue
        ident = record.get("id", number) if isinstance(record, dict) else number
        question = record.get("question") if isinstance(record, dict) else None
        context = record.get("context", []) if isinstance(record, dict) else []
        if not isinstance(question, str) or not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            yield Item(ident, None, error=f'{name}:{number}: expected {{"question": str, "context"?: [str]}}')
            continue
        yield Item(ident, question, tuple(context))


def run_batch(answerer: Answerer, items: list[Item], out: IO[str], k: int | None = None) -> tuple[int, int]:
    """Answer every item, writing records in input order; returns (answered, errors)."""
    progress = Progress(len(items), "questions")
    answered = errors = 0
    for item in items:
        if item.error:
            record = {"id": item.ident, "question": item.question, "answered": False, "passages": [],
                      "error": item.error}
            print(f"Warning: {item.error}", file=sys.stderr)
            errors += 1
        else:
            answer = answerer.ask(item.question, item.context, k)
            record = answer.record(item.ident)
            answered += answer.answered
            errors += answer.problem is not None
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        progress.step()
    progress.close()
    out.flush()
    return answered, errors
