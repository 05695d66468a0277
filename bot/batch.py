"""``qabot batch``: questions from a file in, one JSON line per question out, in input order."""
from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass
from typing import IO, Iterator

from retrieval.lifetime import die_with_parent
from retrieval.safetext import json_line, printable, without_surrogates

from .answering import Answerer
from .progress import Progress


@dataclass(frozen=True)
class Item:
    ident: str | int
    question: str | None
    context: tuple[str, ...] = ()
    error: str | None = None


def read_items(data: bytes, name: str, jsonl: bool) -> Iterator[Item]:
    """Questions from JSONL (``{"id"?, "question", "context"?}``) or one per line of text.
    Blank lines are skipped (numbering goes on: an id is the line number); a line that is not
    UTF-8 or not JSON is an item with an error, and the rest is read."""
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            yield Item(number, None, error=f"{name}:{number}: not UTF-8 (byte {exc.start + 1}); save the file as UTF-8")
            continue
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
        except RecursionError:
            yield Item(number, None, error=f"{name}:{number}: JSON nested too deeply; give one flat JSON object a line")
            continue
        ident = record.get("id", number) if isinstance(record, dict) else number
        question = record.get("question") if isinstance(record, dict) else None
        context = record.get("context", []) if isinstance(record, dict) else []
        if not isinstance(question, str) or not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            yield Item(ident, None, error=f'{name}:{number}: expected {{"question": str, "context"?: [str]}}')
            continue
        if not isinstance(ident, (str, int)) or isinstance(ident, bool):
            ident = number
        yield Item(without_surrogates(ident) if isinstance(ident, str) else ident, without_surrogates(question),
                   tuple(without_surrogates(c) for c in context))


def blank_lines(data: bytes) -> int:
    return sum(not line.strip() for line in data.splitlines())


PARALLEL_FROM = 200  # questions; below this, starting a second process costs more than it saves
_answerer: Answerer | None = None  # the forked workers' copy (shared with the parent, copy-on-write)


def run_batch(answerer: Answerer, items: list[Item], out: IO[str], k: int | None = None,
              workers: int | None = None) -> tuple[int, int]:
    """Answer every item, writing records in input order; returns (answered, errors).
    Long runs use every core: workers are forked with the loaded index, results come back in order."""
    progress = Progress(len(items), "questions")
    answered = errors = 0
    for item, record in zip(items, records(answerer, items, k, workers)):
        if item.error:
            print(printable(f"Warning: {item.error}"), file=sys.stderr)
        answered += record["answered"]
        errors += "error" in record
        out.write(json_line(record) + "\n")
        progress.step()
    progress.close()
    out.flush()
    return answered, errors


def records(answerer: Answerer, items: list[Item], k: int | None, workers: int | None) -> Iterator[dict]:
    global _answerer
    if getattr(answerer.searcher, "served", None) is not None:  # a cluster's: its workers do the scoring
        yield from threaded(answerer, items, k)
        return
    workers = workers or min(2, os.cpu_count() or 1)
    if workers < 2 or len(items) < PARALLEL_FROM:
        yield from (answer_item(answerer, item, k) for item in items)
        return
    _answerer = answerer
    with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=die_with_parent) as pool:
        yield from pool.map(_answer_in_worker, items, [k] * len(items), chunksize=32)


CLUSTER_THREADS = 8  # questions in flight on a cluster: each waits on the workers most of its time


def threaded(answerer: Answerer, items: list[Item], k: int | None) -> Iterator[dict]:
    """Records in input order, several questions in flight: their shards' calls spread over the
    copies, a lost worker's calls go to the other copy (``bot.cluster``)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(CLUSTER_THREADS) as pool:
        flight: deque = deque()
        for item in items:
            flight.append(pool.submit(answer_item, answerer, item, k))
            if len(flight) >= 4 * CLUSTER_THREADS:
                yield flight.popleft().result()
        while flight:
            yield flight.popleft().result()


def _answer_in_worker(item: Item, k: int | None) -> dict:
    return answer_item(_answerer, item, k)


def answer_item(answerer: Answerer, item: Item, k: int | None) -> dict:
    if item.error:
        return {"id": item.ident, "question": item.question, "answered": False, "passages": [],
                "error": item.error}
    return answerer.ask(item.question, item.context, k).record(item.ident)
