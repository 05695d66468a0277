"""Candidate answer spans of one sentence and their features, as numpy arrays.

A sentence is cut into words (jieba, with its part-of-speech tags; numbers such as 13.6
kept whole). A candidate is a run of words: every run of up to ``SHORT`` words, and
longer runs from a boundary (the sentence's start, a comma, a word of the question) to a
boundary, which is what a 为什么 or 是什么 answer spans. Each candidate's features are
counts over its words (cumulative sums: no Python loop per candidate), its edges, where
the question's words stand around it, and the kind of thing asked for crossed with the
kind of thing it holds. ``answer.py`` scores them with learned weights.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np


SHORT = 8  # words: every run up to this long is a candidate
LONG = 60  # words: no candidate is longer
WINDOW = 4  # words looked at on each side for the question's words
NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
TIME = re.compile(r"[\d零〇一二三四五六七八九十]+(?:年|月|日|世纪|年代)|[春夏秋冬]季|[\u4e00-\u9fff]朝")
NUMERAL = re.compile(r"[\d零〇一二三四五六七八九十百千万亿两]")
PUNCT = re.compile(r"^[\W_]+$")
COMMA = frozenset("，,、；;：:")
TRIGGER = frozenset(("是", "为", "在", "于", "由", "有", "叫", "称", "即", "到", "达", "约", "共", "被", "以", "用", "做"))
# per-word columns, summed over a candidate's words
COLUMNS = ("chars", "in_q", "in_q2", "punct", "comma", "nr", "ns", "nt", "time", "num", "q", "noun", "verb", "eng", "title", "in_ctx")
COL = {name: i for i, name in enumerate(COLUMNS)}
KIND_COLUMN = {"time": "time", "number": "num", "person": "nr", "place": "ns", "org": "nt"}  # what a kind asks for
# what a candidate holds, crossed with what the question asks for
TAG_CLASSES = ("nr", "ns", "nt", "t", "m", "q", "n", "v", "a", "eng", "x")  # and the rest
POS = tuple(f"{edge}_{tag}" for edge in ("first", "last") for tag in TAG_CLASSES + ("other",))
KIND_FEATURES = POS + ("has_time", "has_num", "ends_q", "has_nr", "has_ns", "has_nt", "has_title", "last_noun", "log_chars",
                 "has_comma", "clause", "frac_in_q", "all_eng", "one_word", "after_trigger")
BASE_FEATURES = ("log_chars", "words", "frac_in_q", "any_in_q2", "commas", "has_comma", "start_edge", "end_edge",
                 "clause", "left_q", "right_q", "left_near", "right_near", "left_align", "right_align",
                 "after_trigger", "before_de", "first_verb", "last_noun", "last_verb", "has_nr", "has_ns", "has_nt",
                 "has_time", "has_num", "ends_q", "all_eng", "has_title", "one_word", "frac_ctx",
                 "left_window", "right_window", "single_char", "sentence_kind", "share", "own_share", "rel_share", "best_sentence", "rank1", "rank2", "rank3", "rel_score")
WIDTH = len(BASE_FEATURES) + len(KIND_FEATURES)  # a candidate's row: the base features, then its kind's block


def names(kind: str) -> tuple[str, ...]:
    """The weight names of a row's columns for a question of ``kind``."""
    return BASE_FEATURES + tuple(f"{kind}:{name}" for name in KIND_FEATURES)


class Question(NamedTuple):
    kind: str
    text: str  # normalised
    left: str  # before the question word
    right: str  # after it
    context: str  # earlier turns, normalised


class Sentence(NamedTuple):
    rank: int  # of the hit
    start: int  # offsets in the passage text
    end: int
    share: float  # share of the question's weight the sentence holds (earlier turns' terms included)
    own_share: float  # the same, the question's own terms only
    rel_share: float  # share over the best sentence's
    best: bool
    rel_score: float  # the hit's score over the first hit's


def words_of(tagged: list[tuple[str, str]], text: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, tag) of each word; digits with their separators (13.6, 1,000) made one word."""
    out: list[tuple[int, int, str]] = []
    at = offset
    for word, tag in tagged:
        out.append((at, at + len(word), tag))
        at += len(word)
    for match in NUMBER.finditer(text, offset, at):
        s, e = match.span()
        inside = [w for w in out if w[0] < e and w[1] > s]
        if len(inside) > 1:
            first = out.index(inside[0])
            out[first:first + len(inside)] = [(inside[0][0], inside[-1][1], "m")]
    return out


def word_columns(words, text: str, q: Question) -> np.ndarray:
    """The per-word counts of ``COLUMNS`` (one row a word)."""
    rows = np.zeros((len(words), len(COLUMNS)), dtype=np.float32)
    for k, (row, (s, e, tag)) in enumerate(zip(rows, words)):
        w = text[s:e]
        # a date is often cut in two (1909 | 年): a word is of a time when it or it with its neighbours is
        around = text[words[k - 1][0] if k else s: words[k + 1][1] if k + 1 < len(words) else e]
        punct = bool(PUNCT.match(w))
        row[0] = e - s
        if not punct:
            if w in q.text:
                row[1] = e - s
                row[2] = e - s > 1 or w.isascii()
            row[15] = w in q.context
        row[3] = punct
        row[4] = w in COMMA
        row[5] = tag.startswith("nr")
        row[6] = tag == "ns"
        row[7] = tag == "nt"
        row[8] = tag == "t" or bool(TIME.search(around))
        row[9] = tag == "m" or bool(NUMERAL.search(w)) and tag in ("m", "mq", "x")
        row[10] = tag.startswith("q") or tag == "mq"
        row[11] = tag.startswith("n") or tag in ("eng", "nz", "vn")
        row[12] = tag.startswith("v") and tag != "vn"
        row[13] = tag == "eng"
        row[14] = "《" in w or "》" in w
    return rows


def candidates(rows: np.ndarray) -> np.ndarray:
    """(i, j) word runs: every run of up to ``SHORT`` words, and longer ones from edge to edge;
    none starting or ending at punctuation."""
    n = len(rows)
    punct = rows[:, COL["punct"]] > 0
    q2 = rows[:, COL["in_q2"]] > 0
    i, j = np.meshgrid(np.arange(n), np.arange(1, n + 1), indexing="ij")
    ok = (j > i) & (j - i <= LONG) & ~punct[i] & ~punct[j - 1]
    edge_start = np.concatenate([[True], punct[:-1] | q2[:-1]]) if n else np.zeros(0, bool)
    edge_end = np.concatenate([punct[1:] | q2[1:], [True]]) if n else np.zeros(0, bool)
    ok &= (j - i <= SHORT) | (edge_start[i] & edge_end[j - 1])
    return np.stack([i[ok], j[ok]], axis=1)


def nearest(flags: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each word boundary k (0..n): words since the last flagged word before k, and until the next at or after k."""
    idx = np.arange(n)
    last = np.maximum.accumulate(np.where(flags, idx, -10**6))
    before = np.concatenate([[10**6], (np.arange(1, n + 1) - 1) - last])  # boundary k: gap after word last<k
    nxt = np.minimum.accumulate(np.where(flags, idx, 10**6)[::-1])[::-1]
    after = np.concatenate([nxt - idx, [10**6]])
    return before, after


def tag_class(tag: str) -> int:
    """The place of a jieba tag's class in TAG_CLASSES (its length when it is none of them)."""
    for n, name in enumerate(TAG_CLASSES):
        if tag == name or (name in ("n", "v", "nr") and tag.startswith(name) and not tag.startswith(("ns", "nt"))):
            return n
    return len(TAG_CLASSES)


def window_sums(values: np.ndarray, i: np.ndarray, j: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``values`` over the ``width`` words before i and the ``width`` after j."""
    cum = np.concatenate([[0.0], np.cumsum(values)])
    n = len(values)
    return cum[i] - cum[np.maximum(i - width, 0)], cum[np.minimum(j + width, n)] - cum[j]


def features(words, text: str, q: Question, sentence: Sentence) -> tuple[np.ndarray, np.ndarray]:
    """The candidates of one sentence, (i, j) word runs, and their features (``names(q.kind)`` columns)."""
    rows = word_columns(words, text, q)
    pairs = candidates(rows)
    n = len(rows)
    if not len(pairs):
        return pairs, np.zeros((0, WIDTH), dtype=np.float32)
    i, j = pairs[:, 0], pairs[:, 1]
    cum = np.concatenate([np.zeros((1, rows.shape[1]), np.float32), np.cumsum(rows, axis=0)])
    span = cum[j] - cum[i]
    c = {name: span[:, k] for name, k in COL.items()}
    chars = np.maximum(c["chars"], 1)
    punct = rows[:, COL["punct"]] > 0
    q2 = rows[:, COL["in_q2"]] > 0
    left_flags = np.array([not p and text[s:e] in q.left and (e - s > 1 or text[s:e].isascii())
                           for (s, e, _), p in zip(words, punct)], dtype=bool)
    right_flags = np.array([not p and text[s:e] in q.right and (e - s > 1 or text[s:e].isascii())
                            for (s, e, _), p in zip(words, punct)], dtype=bool)
    q_before, q_after = nearest(q2, n)
    l_before, _ = nearest(left_flags, n)
    _, r_after = nearest(right_flags, n)
    word_text = [text[s:e] for s, e, _ in words]
    prev = np.array([False] + [w in TRIGGER for w in word_text], dtype=bool)[i]
    after_de = np.array([w == "的" for w in word_text] + [False], dtype=bool)[j]
    f = {
        "log_chars": np.log1p(chars), "words": (j - i) / 10.0, "frac_in_q": c["in_q"] / chars,
        "any_in_q2": c["in_q2"] > 0, "commas": np.minimum(c["comma"], 5) / 5, "has_comma": c["comma"] > 0,
        "start_edge": np.concatenate([[True], punct])[i], "end_edge": np.concatenate([punct, [True]])[j],
        "left_q": np.concatenate([[False], q2])[i], "right_q": np.concatenate([q2, [False]])[j],
        "left_near": np.exp(-q_before[i] / 3.0), "right_near": np.exp(-q_after[j] / 3.0),
        "left_align": l_before[i] <= WINDOW, "right_align": r_after[j] <= WINDOW,
        "after_trigger": prev, "before_de": after_de,
        "first_verb": rows[i, COL["verb"]] > 0, "last_noun": rows[j - 1, COL["noun"]] > 0,
        "last_verb": rows[j - 1, COL["verb"]] > 0,
        "has_nr": c["nr"] > 0, "has_ns": c["ns"] > 0, "has_nt": c["nt"] > 0, "has_time": c["time"] > 0,
        "has_num": c["num"] > 0, "ends_q": (rows[j - 1, COL["q"]] > 0) | (rows[j - 1, COL["num"]] > 0),
        "all_eng": c["eng"] == (j - i), "has_title": c["title"] > 0, "one_word": (j - i) == 1,
        "frac_ctx": c["in_ctx"] / (j - i),
        "share": np.full(len(i), sentence.share), "own_share": np.full(len(i), sentence.own_share),
        "rel_share": np.full(len(i), sentence.rel_share), "best_sentence": np.full(len(i), sentence.best),
        "rank1": np.full(len(i), sentence.rank == 1), "rank2": np.full(len(i), sentence.rank == 2),
        "rank3": np.full(len(i), sentence.rank >= 3), "rel_score": np.full(len(i), sentence.rel_score),
    }
    f["clause"] = f["start_edge"] & f["end_edge"]
    f["single_char"] = c["chars"] == 1
    kind_column = KIND_COLUMN.get(q.kind)
    f["sentence_kind"] = np.full(len(i), kind_column is not None and bool(rows[:, COL[kind_column]].any()))
    f["left_window"], f["right_window"] = (w / max(len(q.text), 1) for w in window_sums(rows[:, COL["in_q"]], i, j, 6))
    classes = np.array([tag_class(t) for _, _, t in words])
    onehot = np.eye(len(TAG_CLASSES) + 1, dtype=np.float32)
    for edge, at in (("first", classes[i]), ("last", classes[j - 1])):
        hot = onehot[at]
        for n, tag in enumerate(TAG_CLASSES + ("other",)):
            f[f"{edge}_{tag}"] = hot[:, n]
    return pairs, np.stack([np.asarray(f[name], dtype=np.float32) for name in BASE_FEATURES + KIND_FEATURES], axis=1)
