"""The one answering path every frontend shares: question → cited passages.

``Answerer`` owns the searcher; ``Answer`` carries what a frontend shows: the
passages verbatim with citation and highlight spans, and whether the articles
seem to cover the question at all.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

from retrieval import Hit, SearchResult, Searcher
from retrieval.errors import QuestionError
from retrieval.passages import sentence_ends

from . import messages as m
from .i18n import Messages

RECORD = Messages()  # the batch record's notices are English, whatever the interface speaks


class Place(NamedTuple):
    """Where a hit's passage is, for a reader: the paragraph (None when the article is one
    paragraph), the sentence of the article it starts at, and the article's date and URL if known."""
    paragraph: int | None
    sentence: int
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    result: SearchResult | None
    problem: str | None = None  # why the question could not be searched
    places: tuple[Place, ...] = ()  # one per hit, in order (empty: not looked up)

    def place(self, hit: Hit) -> Place:
        if len(self.places) >= hit.rank:
            return self.places[hit.rank - 1]
        return Place(hit.passage.paragraph, 1)

    @property
    def answered(self) -> bool:
        return bool(self.result and self.result.answered)

    @property
    def hits(self) -> list[Hit]:
        return self.result.hits if self.result else []

    def record(self, ident: str | int | None = None) -> dict:
        """The batch JSONL record (the contract is in docs/architecture.md)."""
        out = {"id": ident, "question": self.question, "answered": self.answered,
               "passages": [passage_record(h) for h in self.hits], "answer": answer_record(self)}
        if self.problem:
            out["error"] = self.problem
        if self.result and self.result.truncated:
            out["notice"] = RECORD(m.CUT_NOTICE, length=len(self.result.question))
        if self.result and self.result.notice:  # a year the articles contradict: what they cover instead
            out["notice"] = " ".join(filter(None, (out.get("notice"), f"({self.result.notice})")))
        if self.result and self.result.missing_shards:
            out["partial"] = {"missing_shards": list(self.result.missing_shards)}
        return out


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


class Answerer:
    """Answers questions with one searcher; frontends keep the conversation."""

    def __init__(self, searcher: Searcher, k: int = 5, reopen: Callable[[], Searcher] | None = None):
        self.searcher = searcher
        self.k = k
        self.reopen = reopen  # builds a searcher over the corpus as it is now (re-indexing what changed)
        self.reload_lock = threading.Lock()

    def reload(self, msgs: Messages = RECORD) -> str:
        """Re-read the corpus and swap the new index in. Questions keep being answered meanwhile:
        each one uses the searcher it started with, so none is dropped or sees half an index."""
        if self.reopen is None:
            return msgs(m.RELOAD_UNAVAILABLE)
        if not self.reload_lock.acquire(blocking=False):
            return msgs(m.RELOAD_RUNNING)
        try:
            before = (self.article_count, self.passage_count)
            self.searcher = self.reopen()  # one reference swap: atomic for the readers
        finally:
            self.reload_lock.release()
        return msgs(m.RELOADED, articles=self.article_count, passages=self.passage_count,
                    old_articles=before[0], old_passages=before[1])

    def ask(self, question: str, context: Sequence[str] = (), k: int | None = None) -> Answer:
        searcher = self.searcher  # read once: a reload may swap it while this question runs
        try:
            result = searcher.search(question, k or self.k, context)
        except QuestionError as exc:
            return Answer(question, None, str(exc))
        return Answer(question, result, places=tuple(place_of(searcher.articles[h.passage.article_id], h)
                                                     for h in result.hits))

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


def place_of(article, hit: Hit) -> Place:
    """The hit's ``Place`` in ``article`` (its date and URL read where the article format has them)."""
    text, start = article.text, hit.passage.start
    paragraph = hit.passage.paragraph if "\n" in text.strip() else None
    return Place(paragraph, 1 + len(sentence_ends(text[:start].rstrip())) if start else 1,
                 getattr(article, "date", None) or None, getattr(article, "url", None) or None)


def paragraph_of(text: str, offset: int) -> str:
    """The line (paragraph) of ``text`` that holds ``offset``."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start: end if end >= 0 else len(text)].strip()
