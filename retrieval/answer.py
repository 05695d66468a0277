"""The answer span: the shortest verbatim text in the top passages that answers the question.

``find_answer`` picks the sentences of the top hits that hold most of the question's
weight, makes candidate spans of each (``answer_features``), scores them with a linear
model whose weights ``bench/train_answer.py`` learns (``data/answer_weights.json``), and
keeps the best. A second small model says whether it is confident. Offsets are those of
the passage text as it stands: normalising keeps the length.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from functools import lru_cache
from importlib import resources
from typing import NamedTuple, Sequence

import numpy as np

from . import answer_features as af
from . import answer_sentence, answer_trees
from .grams import BIGRAM, UNIGRAM
from .passages import sentence_ends
from .qtype import KINDS, kind_of, wh_span

HITS = 3  # passages the answer may come from
SENTENCES = 4  # best sentences of those given candidates (5: +0.5 ms a question)


class AnswerSpan(NamedTuple):
    text: str  # == hits[rank - 1].passage.text[start:end]
    rank: int
    start: int
    end: int
    sentence: tuple[int, int]  # the answer sentence's offsets in the same text
    confident: bool
    score: float  # the confidence model's probability that the span is right


class Model(NamedTuple):
    span: np.ndarray  # weights: a row per question kind (KINDS), over af.names(kind)
    confidence: np.ndarray  # weights over CONFIDENCE + bias
    threshold: float
    sentence: np.ndarray  # weights over answer_sentence.FEATURES
    trees: answer_trees.Trees | None = None  # re-rank the span model's best candidates


CONFIDENCE = ("prob", "margin", "share", "own_share", "coverage", "rank1", "log_chars",
              "left_match", "right_match", "bigram_share", "typed")
ALIGNED = [af.BASE_FEATURES.index(name) for name in ("left_match", "right_match", "bigram_share")]


@lru_cache(maxsize=1)
def model() -> Model:
    """The shipped weights (learned by bench/train_answer.py); names not known are ignored."""
    data = json.loads(resources.files("retrieval").joinpath("data/answer_weights.json").read_text(encoding="utf-8"))
    span = np.array([[data["span"].get(name, 0.0) for name in af.names(kind)] for kind in KINDS], dtype=np.float32)
    conf = np.array([data["confidence"].get(name, 0.0) for name in CONFIDENCE + ("bias",)], dtype=np.float64)
    sentence = np.array([data.get("sentence", {}).get(name, 0.0) for name in answer_sentence.FEATURES], dtype=np.float32)
    return Model(span, conf, float(data["threshold"]), sentence, answer_trees.shipped())


def question_of(question: str, context: Sequence[str]) -> af.Question:
    """The normalised question split at its question word."""
    s, e = wh_span(question)
    return af.Question(kind_of(question), question, question[:s], question[e:], " ".join(context))


def sentence_weights(text: str, worth: dict[str, float]) -> tuple[list[int], dict[int, set]]:
    """Sentence ends of a normalised passage and the question terms each sentence holds."""
    ends = sentence_ends(text)
    found: dict[int, set[str]] = {}
    for term in worth:
        needle = term[1:] if term[0] in (BIGRAM, UNIGRAM) else term
        at = text.find(needle)
        while at >= 0:
            found.setdefault(bisect_right(ends, at), set()).add(term)
            at = text.find(needle, at + 1)
    return ends, found


def best_sentences(texts: list[str], scores: list[float], weights: dict[str, float], own: dict[str, float], idf):
    """The ``SENTENCES`` sentences holding most question weight across the hits, best first."""
    worth = {t: w * idf(t) for t, w in weights.items()}
    total = sum(worth.values()) or 1.0
    own_total = sum(worth[t] for t in own if t in worth) or 1.0
    found = []
    for rank, text in enumerate(texts, 1):
        ends, terms = sentence_weights(text, worth)
        for i, held in terms.items():
            start, end = (ends[i - 1] if i else 0), (ends[i] if i < len(ends) else len(text))
            found.append((sum(worth[t] for t in held) / total, sum(worth[t] for t in held if t in own) / own_total,
                          rank, start, end))
    found.sort(key=lambda f: (-f[0], f[2], f[3]))
    if not found:
        return []
    top = found[0][0] or 1.0
    return [af.Sentence(rank, start, end, share, own_share, share / top, n == 0, scores[rank - 1] / (scores[0] or 1.0))
            for n, (share, own_share, rank, start, end) in enumerate(found[:SENTENCES])]


def candidate_matrix(analyzer, texts: list[str], q: af.Question, sentences: list[af.Sentence]):
    """Every candidate of the chosen sentences: (sentence index, start, end) rows and features."""
    spans, blocks = [], []
    for n, sentence in enumerate(sentences):
        text = texts[sentence.rank - 1]
        start, end = sentence.start, sentence.end
        while end > start and text[end - 1].isspace():
            end -= 1
        words = af.words_of(analyzer.tagged(text[start:end]), text, start)
        pairs, x = af.features(words, text, q, sentence)
        if len(pairs):
            bounds = np.array([(w[0], w[1]) for w in words])
            spans.append(np.stack([np.full(len(pairs), n), bounds[pairs[:, 0], 0], bounds[pairs[:, 1] - 1, 1]], axis=1))
            blocks.append(x)
    if not spans:
        return np.zeros((0, 3), dtype=np.int64), np.zeros((0, af.WIDTH), dtype=np.float32)
    return np.concatenate(spans), np.concatenate(blocks)


COLUMN = {name: n for n, name in enumerate(af.names("other"))}
SPAN_OF = re.compile(r"(?:多少|几)(?:年|岁|天|个?月|周|星期|小时|分钟|秒|世纪)|多久|多长时间")  # a count of time is a number


def fitting(x: np.ndarray, q: af.Question) -> np.ndarray:
    """Which candidates hold what the question asks for; all of them when none does or it doesn't say."""
    def has(name):
        return x[:, COLUMN[name]] > 0
    kind = q.kind
    if kind == "number":
        fits = has("has_num") & (~has("has_time") | bool(SPAN_OF.search(q.text)))
    elif kind == "time":
        fits = has("has_time")
    elif kind == "person":
        fits = has("has_nr") | has("all_eng") | has("before_honorific") | has("ends_honorific")
    else:
        return np.ones(len(x), dtype=bool)
    return fits if fits.any() else np.ones(len(x), dtype=bool)


def confidence_row(found: "Inputs", best: int, prob: float, margin: float, coverage: float) -> np.ndarray:
    """What the confidence model sees of the chosen candidate ``best``: CONFIDENCE, then 1."""
    n, start, end = (int(v) for v in found.spans[best])
    sentence = found.sentences[n]
    typed = not found.fits.all()  # the kind asked for (a number, a date, a name) narrowed the choice
    return np.array([prob, margin, sentence.share, sentence.own_share, coverage, sentence.rank == 1,
                     np.log1p(end - start), *found.x[best, ALIGNED], typed, 1.0])


def choose(scores: np.ndarray) -> tuple[int, float, float]:
    """The best candidate, its softmax probability and its lead over the runner-up."""
    best = int(np.argmax(scores))
    p = np.exp(scores - scores[best])
    second = np.partition(scores, -2)[-2] if len(scores) > 1 else scores[best] - 10
    return best, float(1.0 / p.sum()), float(min(scores[best] - second, 10.0))


def pick(found: "Inputs", m: Model) -> tuple[int, float, float]:
    """The chosen candidate, its probability and lead: by the span model, then by the trees
    over its best ``answer_trees.TOP`` when there are trees."""
    linear = scored(found, m.span)
    if m.trees is None:
        return choose(linear)
    top = np.argpartition(-linear, answer_trees.TOP)[:answer_trees.TOP] if len(linear) > answer_trees.TOP else np.arange(len(linear))
    top = top[np.argsort(-linear[top], kind="stable")]
    top = top[linear[top] > -1e3]  # those of the kind asked for, when any is
    best, prob, margin = choose(answer_trees.predict(m.trees, answer_trees.rows(found.x, linear, top, found.kind)))
    return int(top[best]), prob, margin


def scored(found: "Inputs", span: np.ndarray) -> np.ndarray:
    """Each candidate's score; those not of the kind asked for far below the rest."""
    return np.where(found.fits, found.x @ span[found.kind], -1e4)


class Inputs(NamedTuple):
    texts: list[str]  # the hits' passage texts as they stand
    sentences: list[af.Sentence]
    spans: np.ndarray  # (sentence index, start, end) a candidate
    x: np.ndarray  # their features
    kind: int  # what the question asks for, its place in KINDS
    fits: np.ndarray  # candidates of the kind asked for (a number for 多少, a name for 谁); all when none is


def inputs(analyzer, idf, question: str, context: Sequence[str], weights: dict[str, float],
           own: dict[str, float], hits) -> Inputs:
    """The candidates of the best sentences of the top hits, with their features."""
    originals = [h.passage.text for h in hits[:HITS]]
    texts = [analyzer.normalise(t) for t in originals]
    sentences = best_sentences(texts, [h.score for h in hits[:HITS]], weights, own, idf)
    q = question_of(question, context)
    spans, x = candidate_matrix(analyzer, texts, q, sentences)
    answer_sentence.fill(spans, x, len(sentences), model().sentence)
    return Inputs(originals, sentences, spans, x, KINDS.index(q.kind), fitting(x, q))


def decide(found: Inputs, coverage: float, m: Model | None = None) -> AnswerSpan | None:
    """The best-scoring candidate as an ``AnswerSpan``, confident or not."""
    m = m or model()
    if not len(found.spans):
        return None
    best, prob, margin = pick(found, m)
    n, start, end = (int(v) for v in found.spans[best])
    sentence = found.sentences[n]
    row = confidence_row(found, best, prob, margin, coverage)
    score = float(1.0 / (1.0 + np.exp(-row @ m.confidence)))
    return AnswerSpan(found.texts[sentence.rank - 1][start:end], sentence.rank, start, end,
                      (sentence.start, sentence.end), score >= m.threshold, round(score, 4))


def find_answer(analyzer, idf, question: str, context: Sequence[str], weights: dict[str, float],
                own: dict[str, float], hits, coverage: float, answered: bool) -> AnswerSpan | None:
    """The answer span in ``hits`` (None when the question is not answered or no sentence echoes it).
    ``question`` and ``context``: normalised; ``weights``: the search terms, earlier turns folded in."""
    if not answered or not hits:
        return None
    return decide(inputs(analyzer, idf, question, context, weights, own, hits), coverage)
