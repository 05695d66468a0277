"""``Searcher``: the facade that answers a question with ranked, cited passages.

``search(question, k=5, context=())`` analyses the question the way passages
were analysed, scores passages with BM25, and decides whether the best one
covers enough of the question to count as an answer.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple, Sequence

from .analysis import BIGRAM, UNIGRAM, Analyzer, is_han
from .contradiction import contradicted, years
from .answer import AnswerSpan, find_answer
from .articles import Article
from .errors import QuestionError
from .index import BM25Index
from .passages import Passage, sentence_ends
from .safetext import searchable
from .synonyms import Synonyms


MARKUP = re.compile(r"</?[a-zA-Z][^<>]{0,200}>|\x1b\[[0-9;?]*[A-Za-z]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LARGE = 50_000  # passages: from here on, common characters are left out of questions
NUMBER = re.compile(r"[\d.]+")
ANAPHOR = re.compile(r"[他她它这那其该此]|\b(?:he|she|it|they|this|that|these|those|his|her|its|their)\b", re.I)
# What a question asks for, read off its (normalised) question words, first match wins; and what
# in a sentence is of that kind. Dates and amounts are written with numerals; people and places
# are told by the segmenter's part-of-speech tags.
NUMERAL = "\\d零〇一二三四五六七八九十百千万亿两"
ASKS = (
    ("time", re.compile(r"哪一?年|那一年|几年|何年|年份|何时|[什甚]么时[候间]|哪个时[候期]|哪一?天|几月|几号|何日"
                        r"|哪一?个?年代|哪个世纪|哪一?个?朝代")),
    ("number", re.compile(r"多少|几(?!乎)|(?<![很许众诸])多[大长高远久重深宽快老]")),
    ("person", re.compile(r"谁|何人|哪一?位|哪一?个?人")),
    ("place", re.compile(r"哪里|何处|何地|哪个地方|在哪|哪一?个?(?:国家|城市|地区|省|州|国)")),
)
KIND_OF = {
    "time": re.compile(rf"[{NUMERAL}]+\s*(?:年|月|日|世纪)|[\u4e00-\u9fff][朝代]|公元|时期"),
    "number": re.compile(rf"[{NUMERAL}]"),
    "person": ("nr", "nrt", "nrfg"),
    "place": ("ns", "nt"),
}


@dataclass(frozen=True)
class SearchSettings:
    bigram_weight: float = 0.5  # Han bigrams are a recall net: they count, at reduced weight
    unigram_weight: float = 0.7  # and so are single Han characters
    unigram_max_share: float = 0.2  # but, on big indexes, not those in more than this share of passages
    context_weight: float = 0.3  # terms of earlier turns, for follow-ups
    min_coverage: float = 0.25  # share of the question's weight the best passage must hold
    max_question: int = 1000  # characters searched; the rest is cut
    candidates: int = 30  # BM25's best this many are re-ranked by their best sentence
    sentence_weight: float = 0.25  # weight of the best sentence's matched terms in the re-rank
    edge_weight: float = 0.1  # taken off that weight for each side where the window cuts the sentence off its paragraph
    answer_kind_weight: float = 0.15  # added to it when the sentence holds a thing of the kind asked for (a year, a name)
    synonym_weight: float = 0.5  # a question word's synonyms (首届 → 第一届, 钱 → 资金) are searched at this share of its weight


class Hit(NamedTuple):
    rank: int
    score: float
    passage: Passage
    source: str
    matched: tuple[str, ...]  # question terms found in the passage
    highlights: tuple[tuple[int, int], ...]  # spans of ``passage.text`` to mark


class SearchResult(NamedTuple):
    question: str
    hits: list[Hit]
    answered: bool  # False: the articles don't seem to say
    coverage: float  # share of the question's weight the best hit holds
    truncated: bool  # the question was cut to ``max_question`` characters
    notice: str | None = None  # what the articles say instead of a year the question names
    answer: AnswerSpan | None = None  # the answer span in the hits; None when not answered
    missing_shards: tuple[int, ...] = ()  # a sharded index's shards that had no live copy: the hits are partial


class Searcher:
    """Answers questions over one corpus's passages and BM25 index."""

    def __init__(self, articles: Sequence[Article], passages: Sequence[Passage], index: BM25Index,
                 analyzer: Analyzer, settings: SearchSettings = SearchSettings()):
        self.articles = {a.id: a for a in articles}
        self.passages = passages
        self.index = index
        self.analyzer = analyzer
        self.settings = settings
        self.token_cache: dict[int, list] = {}
        self.kind_weight = {BIGRAM: settings.bigram_weight, UNIGRAM: settings.unigram_weight}
        self.title_terms: dict[str, frozenset[str]] = {}
        self.synonyms = Synonyms(analyzer.terms)
        self.years_of_articles: dict[str, set[str]] = {}  # article id → years it names (article_years)

    def weights(self, text: str, scale: float = 1.0) -> dict[str, float]:
        out: dict[str, float] = {}
        # on a big index a character found in many passages says little and costs the most to
        # score; on a small one it costs nothing and still helps a little, so it is kept
        common = self.settings.unigram_max_share * self.index.size if self.index.size >= LARGE else None
        for term in self.analyzer.terms(text):
            if common is not None and term[0] == UNIGRAM and self.index.df_of(term) > common:
                continue
            w = scale * self.kind_weight.get(term[0], 1.0)
            out[term] = max(out.get(term, 0.0), w)
        return out

    def query(self, question: str, context: Sequence[str] = ()) -> tuple[dict[str, float], dict[str, float]]:
        """(question terms, all terms with earlier turns folded in at reduced weight)."""
        own = self.weights(question)
        merged = dict(own)
        turns = [self.weights(turn, self.settings.context_weight) for turn in context[-2:]]
        words = [t for t in own if t[0] not in self.kind_weight]
        if not ANAPHOR.search(question) and len(words) > 1 and not any(t in turn for turn in turns for t in words):
            turns = []  # words of its own, none shared, no pointer back: a new topic stands alone
        for weights in turns:
            for term, w in weights.items():
                merged[term] = max(merged.get(term, 0.0), w)
        return own, merged

    def search(self, question: str, k: int = 5, context: Sequence[str] = ()) -> SearchResult:
        if not question or not question.strip():
            raise QuestionError("the question is empty; type a question, e.g. 商汤和谁合作？")
        truncated = len(question) > self.settings.max_question
        question = question[: self.settings.max_question]
        cleaned = strip_markup(question)
        turns = [strip_markup(c[: self.settings.max_question]) for c in context]  # cleaned once, used twice
        own, merged = self.query(cleaned, turns)
        if not own:
            unknown = any(ch.isalpha() and not ch.isascii() and not is_han(ch) for ch in cleaned)
            raise QuestionError(
                f"nothing to search for in {question.strip()[:40]!r}: " + (
                    "its words are unknown to the articles (they are read as Chinese and English)" if unknown else
                    "it has only question words, stopwords or punctuation; ask with the words you want found"))
        asked = self.analyzer.normalise(cleaned)
        scored = {**self.synonyms.expand(own, self.settings.synonym_weight), **merged}
        hits = [self.hit(rank, doc, score, scored) for rank, (doc, score) in enumerate(self.best(scored, k, asked), 1)]
        coverage = self.follow_up_coverage(hits[0], question, own, merged) if hits else 0.0
        # a bare number in common ("alert(1)" and "1年") is no evidence the passage answers
        words = hits and any(not NUMBER.fullmatch(t) and t[0] != UNIGRAM for t in hits[0].matched)
        answered = bool(words) and coverage >= self.settings.min_coverage
        notice = self.contradicted(asked, hits) if answered else None
        answered = answered and not notice
        context_text = [self.analyzer.normalise(t) for t in turns[-2:]]
        answer = find_answer(self.analyzer, self.index.idf, asked, context_text, merged, own, hits, coverage, answered)
        return SearchResult(question, hits, answered, coverage, truncated, notice, answer)

    def contradicted(self, question: str, hits: list[Hit]) -> str | None:
        """What the articles of the best (up to five) hits say instead of a year the (normalised) question names."""
        asked = years(question)
        if not asked:
            return None  # most questions: no article is read
        ids = dict.fromkeys(h.passage.article_id for h in hits[:5])  # the best hit's article first
        return contradicted(asked, years(self.analyzer.normalise(hits[0].passage.text)),
                            [self.article_years(i) for i in ids])

    def article_years(self, article_id: str) -> set[str]:
        """The years an article (title and text, normalised) names, found once an article: a
        whole article is normalised and scanned, and in a sharded index fetched from its shard."""
        known = self.years_of_articles
        if article_id not in known:
            if len(known) > 10_000:
                known.clear()
            article = self.articles[article_id]
            known[article_id] = years(self.analyzer.normalise(f"{article.title}\n{article.text}"))
        return known[article_id]

    def best(self, weights: dict[str, float], k: int, question: str = "") -> list[tuple[int, float]]:
        """The ``k`` best passages, no two overlapping: BM25's top candidates re-ranked, then
        the pool widened while overlapping windows of one paragraph crowd out the rest."""
        n = self.settings.candidates
        pool = max(k * 3, n)
        while True:
            ranked = self.index.top(weights, pool)
            chosen = distinct(self.rerank(ranked[:n], weights, question) + ranked[n:], self.passages, k)
            if len(chosen) >= k or len(ranked) < pool:
                return chosen
            pool *= 4

    def rerank(self, ranked: list[tuple[int, float]], weights: dict[str, float],
               question: str = "") -> list[tuple[int, float]]:
        """Add the weight of each passage's best sentence: an answer sits in one sentence that
        echoes the question, not in words scattered across the passage. That sentence counts for
        less when the window cuts it off from the sentence before or after it in the paragraph
        (the answer is as often just beside the echo: "这套法规……" names its subject one sentence
        earlier), and for more when it holds a thing of the kind asked for that the question
        itself does not (a year for 哪一年, a name for 谁). ``question``: normalised."""
        st = self.settings
        if not st.sentence_weight:
            return ranked
        asks = asked_for(question) if st.answer_kind_weight else None
        # terms are found by substring in the normalised text, not by segmenting each candidate
        # again: segmenting 30 passages was three quarters of a question's time
        needles = {t: (t[1:] if t[0] in self.kind_weight else t) for t in weights}
        worth = {t: w * self.index.idf(t) for t, w in weights.items()}
        out = []
        passages = [self.passages[doc] for doc, _ in ranked]
        # normalised in one call (each keeps its length; one joining line break between them)
        joined, offset = self.analyzer.normalise_joined([p.text for p in passages]), 0
        for (doc, score), passage in zip(ranked, passages):
            text, offset = joined[offset:offset + len(passage.text)], offset + len(passage.text) + 1
            ends = sentence_ends(text)
            found: dict[int, set[str]] = {}
            for term, needle in needles.items():
                for at in occurrences(text, needle):
                    found.setdefault(bisect_right(ends, at), set()).add(term)
            if not found:
                out.append((doc, score))
                continue
            # the best sentence; of equals, the first
            i, best = max(((i, sum(worth[t] for t in terms)) for i, terms in found.items()),
                          key=lambda pair: (pair[1], -pair[0]))
            weight = st.sentence_weight
            if st.edge_weight:
                last = i >= len(ends) or (i == len(ends) - 1 and not text[ends[-1]:].strip())
                weight -= st.edge_weight * ((i == 0 and passage.part > 1) + (last and self.continues(passage)))
            if asks:
                sentence = text[ends[i - 1] if i else 0: ends[i] if i < len(ends) else len(text)]
                weight += st.answer_kind_weight * self.holds_kind(sentence, asks, question)
            out.append((doc, score + weight * best))
        return sorted(out, key=lambda pair: (-pair[1], pair[0]))

    def continues(self, passage: Passage) -> bool:
        """Does the paragraph go on after ``passage``?"""
        return goes_on(self.articles[passage.article_id].text, passage.end)

    def holds_kind(self, sentence: str, kind: str, question: str) -> bool:
        """Does ``sentence`` name a thing of ``kind`` that ``question`` does not already name?"""
        want = KIND_OF[kind]
        if isinstance(want, tuple):  # tags: only for who and where questions, a sentence at a time
            return any(tag in want and word not in question for word, tag in self.analyzer.tagged(sentence))
        return any(m.group() not in question for m in want.finditer(sentence))

    def covered(self, hit: Hit) -> set[str]:
        """Terms a hit holds, its title's included (they were indexed with it)."""
        title = self.title_terms.get(hit.passage.title)
        if title is None:
            title = self.title_terms[hit.passage.title] = frozenset(self.analyzer.terms(hit.passage.title))
        return set(hit.matched) | title

    def follow_up_coverage(self, hit: Hit, question: str, own: dict[str, float], merged: dict[str, float]) -> float:
        """How well the best hit covers the question. A follow-up ("金额是多少？", "他说这笔钱…")
        says little alone and is judged with its earlier turns; a question with words of its
        own and no pointer back ("怎么给猫剪指甲？") is a new topic and judged alone."""
        # single characters match almost anything, so they are left out of the judgement
        own = {t: w for t, w in own.items() if t[0] != UNIGRAM}
        held = self.covered(hit)
        held |= self.synonyms.standing_in(held, own)  # 举办 in the passage answers 开 in the question
        alone = self.coverage(held, own)
        words = [t for t in own if t[0] not in self.kind_weight]
        if len(merged) == len(own) or not (ANAPHOR.search(question) or len(words) <= 1):
            return alone
        earlier = {t: 1.0 for t in merged if t not in own and t[0] != UNIGRAM}
        return max(alone, self.coverage(held, {**earlier, **own}))

    def coverage(self, matched: Sequence[str], own: dict[str, float]) -> float:
        """Share of the question's idf weight present in a passage; unseen terms count fully against."""
        total = sum(w * self.index.idf(t) for t, w in own.items())
        got = sum(own[t] * self.index.idf(t) for t in matched if t in own)
        return got / total if total else 0.0

    def passage_tokens(self, doc: int):
        """Tokens of a passage, cached: popular passages come back question after question."""
        tokens = self.token_cache.get(doc)
        if tokens is None:
            if len(self.token_cache) > 4096:
                self.token_cache.clear()
            tokens = self.token_cache[doc] = self.analyzer.spans(self.passages[doc].text)  # (term, start, end)
        return tokens

    def hit(self, rank: int, doc: int, score: float, weights: dict[str, float]) -> Hit:
        passage = self.passages[doc]
        tokens = self.passage_tokens(doc)
        present = {t[0] for t in tokens}
        matched = tuple(t for t in weights if t in present)
        # single characters are a recall net, not what a reader should see marked
        spans = merge((s, e) for term, s, e in tokens if term in weights and term[0] != UNIGRAM)
        return Hit(rank, score, passage, self.articles[passage.article_id].source, matched, spans)


def goes_on(text: str, end: int) -> bool:
    """Does the paragraph of ``text`` go on after offset ``end``?"""
    rest = text[end: end + 8].lstrip(" \t\u3000")
    return bool(rest) and rest[0] not in "\r\n"


def asked_for(question: str) -> str | None:
    """The kind of thing a normalised question asks for (time, number, person, place), if it says."""
    for kind, pattern in ASKS:
        if pattern.search(question):
            return kind
    return None


def occurrences(text: str, needle: str):
    """Where ``needle`` stands in ``text``; a Latin or numeric needle only at a word's start."""
    latin = needle[:1].isascii()
    at = text.find(needle)
    while at >= 0:
        if not (latin and at > 0 and text[at - 1].isascii() and text[at - 1].isalnum()):
            yield at
        at = text.find(needle, at + 1)


def strip_markup(text: str) -> str:
    """The question without markup or control codes: HTML tags, ANSI escapes, NUL and the like."""
    return CONTROL.sub(" ", MARKUP.sub(" ", searchable(text)))


def distinct(ranked: list[tuple[int, float]], passages: Sequence[Passage], k: int) -> list[tuple[int, float]]:
    """The best ``k`` passages of which no two overlap in the same article (windows do overlap)."""
    chosen: list[tuple[int, float]] = []
    kept: list[Passage] = []  # made once each: a saved index makes passages on demand
    for doc, score in ranked:
        p = passages[doc]
        if not any(q.article_id == p.article_id and q.start < p.end and p.start < q.end for q in kept):
            chosen.append((doc, score))
            kept.append(p)
            if len(chosen) == k:
                break
    return chosen


def merge(spans) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return tuple(out)
