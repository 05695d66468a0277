"""The one answering path every frontend shares: question → cited passages.

``Answerer`` owns the searcher; ``Answer`` carries what a frontend shows: the
passages verbatim with citation and highlight spans, and whether the articles
seem to cover the question at all.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Sequence

from retrieval import Hit, SearchResult, Searcher
from retrieval.errors import QuestionError

NOT_COVERED = "The articles don't seem to cover this. The closest passages:"
NO_HITS = "The articles don't say anything about this."
CANT_SEARCH = "Can't search that:"  # followed by the reason the question could not be searched


def cut_notice(length: int) -> str:
    """The note shown when a long question was cut to its first ``length`` characters."""
    return f"(question cut to its first {length} characters)"


def partial_notice(missing: Sequence[int]) -> str:
    """The line shown when shards of a sharded index could not be reached."""
    return (f"(partial answer: shard{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of the index "
            "could not be reached; these passages come from the others)")


@dataclass(frozen=True)
class Answer:
    question: str
    result: SearchResult | None
    problem: str | None = None  # why the question could not be searched

    @property
    def answered(self) -> bool:
        return bool(self.result and self.result.answered)

    @property
    def hits(self) -> list[Hit]:
        return self.result.hits if self.result else []

    def record(self, ident: str | int | None = None) -> dict:
        """The batch JSONL record (see ARCHITECTURE.md)."""
        out = {"id": ident, "question": self.question, "answered": self.answered,
               "passages": [passage_record(h) for h in self.hits], "answer": answer_record(self)}
        if self.problem:
            out["error"] = self.problem
        if self.result and self.result.truncated:
            out["notice"] = cut_notice(len(self.result.question))
        if self.result and self.result.notice:  # a year the articles contradict: what they cover instead
            out["notice"] = " ".join(filter(None, (out.get("notice"), contradiction_notice(self.result.notice))))
        if self.result and self.result.missing_shards:
            out["partial"] = {"missing_shards": list(self.result.missing_shards)}
        return out


def contradiction_notice(said: str) -> str:
    """The note shown when a question names a year the articles contradict ("the articles cover 2018, not 2020")."""
    return f"({said})"


def answer_record(answer: Answer) -> dict | None:
    """The answer span as the batch record carries it; None when nothing is offered."""
    span = answer.result.answer if answer.answered else None
    if span is None:
        return None
    return {"text": span.text, "rank": span.rank, "start": span.start, "end": span.end,
            "sentence": list(span.sentence), "confident": span.confident, "score": span.score}


def passage_record(hit: Hit) -> dict:
    p = hit.passage
    record = {"rank": hit.rank, "score": round(hit.score, 4), "title": p.title, "paragraph": p.paragraph,
              "text": p.text, "source": hit.source}
    return record | {k: v for k, v in (("date", p.date), ("url", p.url)) if v}  # only when the article has them


def citation(hit: Hit) -> str:
    """``title · ¶paragraph · source``, the citation every frontend prints."""
    p = hit.passage
    part = f".{p.part}" if p.part > 1 else ""
    return f"{p.title} · ¶{p.paragraph}{part} · {hit.source}"


def mark(text: str, spans: Sequence[tuple[int, int]], on: Callable[[str], str],
         off: Callable[[str], str] = lambda s: s) -> str:
    """``text`` with each highlighted span passed through ``on`` and the rest through ``off``."""
    out, pos = [], 0
    for start, end in spans:
        out += [off(text[pos:start]), on(text[start:end])]
        pos = end
    out.append(off(text[pos:]))
    return "".join(out)


class Answerer:
    """Answers questions with one searcher; frontends keep the conversation."""

    def __init__(self, searcher: Searcher, k: int = 5, reopen: Callable[[], Searcher] | None = None):
        self.searcher = searcher
        self.k = k
        self.reopen = reopen  # builds a searcher over the corpus as it is now (re-indexing what changed)
        self.reload_lock = threading.Lock()

    def reload(self) -> str:
        """Re-read the corpus and swap the new index in. Questions keep being answered meanwhile:
        each one uses the searcher it started with, so none is dropped or sees half an index."""
        if self.reopen is None:
            return "Reloading is not available here."
        if not self.reload_lock.acquire(blocking=False):
            return "A reload is already running."
        try:
            before = (self.article_count, self.passage_count)
            self.searcher = self.reopen()  # one reference swap: atomic for the readers
        finally:
            self.reload_lock.release()
        return (f"Reloaded: {self.article_count} articles, {self.passage_count} passages "
                f"(was {before[0]} and {before[1]}).")

    def ask(self, question: str, context: Sequence[str] = (), k: int | None = None) -> Answer:
        searcher = self.searcher  # read once: a reload may swap it while this question runs
        try:
            return Answer(question, searcher.search(question, k or self.k, context))
        except QuestionError as exc:
            return Answer(question, None, str(exc))

    def paragraph(self, hit: Hit) -> str:
        """The whole paragraph a hit's passage comes from, verbatim."""
        return paragraph_of(self.searcher.articles[hit.passage.article_id].text, hit.passage.start)

    def article_text(self, hit: Hit) -> str:
        return self.searcher.articles[hit.passage.article_id].text

    def warm_up(self) -> None:
        """Load the analyzer's tokenizers (jieba takes about a second) before the first question needs them."""
        self.searcher.analyzer.terms("预热 warm up")

    @property
    def article_count(self) -> int:
        return len(self.searcher.articles)

    @property
    def passage_count(self) -> int:
        return len(self.searcher.passages)


def paragraph_of(text: str, offset: int) -> str:
    """The line (paragraph) of ``text`` that holds ``offset``."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start: end if end >= 0 else len(text)].strip()


def plain_text(answer: Answer, snippets: int = 3) -> str:
    """The readable answer for a terminal without colour: best passage quoted, then short cited lines."""
    if answer.problem:
        return f"{CANT_SEARCH} {answer.problem}"
    lines = []
    if answer.result and answer.result.truncated:
        lines.append(cut_notice(len(answer.result.question)))
    if answer.result and answer.result.missing_shards:
        lines.append(partial_notice(answer.result.missing_shards))
    if not answer.hits:
        return "\n".join(lines + [NO_HITS])
    if answer.result and answer.result.notice:
        lines.append(contradiction_notice(answer.result.notice))
    if not answer.answered:
        lines.append(NOT_COVERED)
    best, rest = answer.hits[0], answer.hits[1:1 + snippets]
    lines += [f"[1] {citation(best)}", f"    {mark(best.passage.text, best.highlights, lambda s: f'[{s}]')}"]
    for hit in rest:
        lines.append(f"[{hit.rank}] {citation(hit)}")
        lines.append(f"    {shorten(hit.passage.text, 60)}")
    return "\n".join(lines)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
