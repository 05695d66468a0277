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
from functools import lru_cache
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
# words that follow a person's name (Dimitri Metaxas教授): a name jieba does not tag is still a name
HONORIFIC = frozenset(("教授", "博士", "先生", "女士", "小姐", "院士", "老师", "医生", "总裁", "主席", "总统", "总理", "部长",
                       "主任", "经理", "董事长", "创始人", "首相", "将军", "同学", "研究员", "工程师", "作家", "导演"))
TRIGGER = frozenset(("是", "为", "在", "于", "由", "有", "叫", "称", "即", "到", "达", "约", "共", "被", "以", "用", "做"))
# per-word columns, summed over a candidate's words
COLUMNS = ("chars", "in_q", "in_q2", "punct", "comma", "nr", "ns", "nt", "time", "num", "q", "noun", "verb", "eng", "title", "in_ctx", "honorific")
COL = {name: i for i, name in enumerate(COLUMNS)}
KIND_COLUMN = {"time": "time", "number": "num", "person": "nr", "place": "ns", "org": "nt"}  # what a kind asks for
# what a candidate holds, crossed with what the question asks for
TAG_CLASSES = ("nr", "ns", "nt", "t", "m", "q", "n", "v", "a", "eng", "x")  # and the rest
POS = tuple(f"{edge}_{tag}" for edge in ("first", "last") for tag in TAG_CLASSES + ("other",))
KIND_FEATURES = POS + ("has_time", "has_num", "ends_q", "has_nr", "has_ns", "has_nt", "has_title", "last_noun", "log_chars",
                 "has_comma", "clause", "frac_in_q", "all_eng", "one_word", "after_trigger", "before_honorific", "ends_honorific",
                 "left_match", "right_match", "both_match", "chars_1", "chars_2", "chars_4", "chars_8", "chars_16", "chars_more")
BASE_FEATURES = ("log_chars", "words", "frac_in_q", "any_in_q2", "commas", "has_comma", "start_edge", "end_edge",
                 "clause", "left_q", "right_q", "left_near", "right_near", "left_align", "right_align",
                 "after_trigger", "before_de", "first_verb", "last_noun", "last_verb", "has_nr", "has_ns", "has_nt",
                 "has_time", "has_num", "ends_q", "all_eng", "has_title", "one_word", "frac_ctx",
                 "left_window", "right_window", "single_char", "sentence_kind",
                 "left_match", "right_match", "both_match", "bigram_share", "trigram_share", "char_share", "wh_left_in", "wh_right_in", "log_sentence", "sentence_logp", "before_honorific", "ends_honorific", "share", "own_share", "rel_share", "best_sentence", "rank1", "rank2", "rank3", "rel_score")
SHARED = frozenset(BASE_FEATURES) & frozenset(KIND_FEATURES)
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


@lru_cache(maxsize=256)
def tag_columns(tag: str) -> tuple:
    """What a jieba tag says, in the order of COLUMNS' nr … eng, then its class (see ``tag_class``)."""
    return (tag.startswith("nr"), tag == "ns", tag == "nt", tag.startswith("q") or tag == "mq",
            tag.startswith("n") or tag in ("eng", "nz", "vn"), tag.startswith("v") and tag != "vn", tag == "eng",
            tag_class(tag))


def word_columns(words, text: str, q: Question) -> tuple[np.ndarray, tuple]:
    """The per-word counts of ``COLUMNS`` (one row a word), and per word: a word (of two
    characters or Latin) of the question's part before its question word, one of the part
    after it, a trigger (是/为…), 的, and its tag class."""
    out, flags = [], []
    last = len(words) - 1
    for k, (s, e, tag) in enumerate(words):
        w = text[s:e]
        # a date is often cut in two (1909 | 年): a word is of a time when it or it with its neighbours is
        around = text[words[k - 1][0] if k else s: words[k + 1][1] if k < last else e]
        punct = bool(PUNCT.match(w))
        asked = not punct and w in q.text
        strong = (e - s > 1 or w.isascii()) and not punct
        nr, ns, nt, qu, noun, verb, eng, cls = tag_columns(tag)
        out.append((e - s, (e - s) * asked, asked and strong, punct, w in COMMA, nr, ns, nt,
                    tag == "t" or bool(TIME.search(around)),
                    tag == "m" or (tag in ("mq", "x") and bool(NUMERAL.search(w))), qu, noun, verb,
                    eng or w.isspace(),  # Dimitri Metaxas is all Latin, its space included
                    "《" in w or "》" in w, not punct and w in q.context, w in HONORIFIC))
        flags.append((strong and w in q.left, strong and w in q.right, w in TRIGGER, w == "的", cls))
    f = np.array(flags, dtype=np.int64).reshape(-1, 5).T
    return np.array(out, dtype=np.float32).reshape(-1, len(COLUMNS)), (f[0] > 0, f[1] > 0, f[2] > 0, f[3] > 0, f[4])


def unit_after_number(words, text: str) -> np.ndarray:
    """Per word: is it the unit of the number just before it (亿元 after 13.6, 支 after 73), or
    the word a single Latin letter is written onto (轮 after the D of D轮)?"""
    glued = np.zeros(len(words), dtype=bool)
    for k in range(1, len(words)):
        s, e, tag = words[k]
        before = text[words[k - 1][0]:words[k - 1][1]]
        han = "\u4e00" <= text[s] <= "\u9fff"
        if NUMBER.fullmatch(before) and (tag in ("m", "q", "mq") or (e - s == 1 and han)):
            glued[k] = True
        elif han and len(before) == 1 and before.isascii() and before.isalpha():
            glued[k] = True
    return glued


def candidates(rows: np.ndarray, glued: np.ndarray) -> np.ndarray:
    """(i, j) word runs: every run of up to ``SHORT`` words, and longer ones from edge to edge;
    none starting or ending at punctuation, none parting a number from its unit (13.6 | 亿元)."""
    n = len(rows)
    punct = rows[:, COL["punct"]] > 0
    q2 = rows[:, COL["in_q2"]] > 0
    i, j = np.meshgrid(np.arange(n), np.arange(1, n + 1), indexing="ij")
    ok = (j > i) & (j - i <= LONG) & ~punct[i] & ~punct[j - 1] & ~glued[i] & ~np.append(glued, False)[j]
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
    rows, flags = word_columns(words, text, q)
    pairs = candidates(rows, unit_after_number(words, text))
    x = np.zeros((len(pairs), WIDTH), dtype=np.float32)
    if not len(pairs):
        return pairs, x
    f = dict(zip(KIND_FEATURES, x[:, len(BASE_FEATURES):].T))  # each a view of its column, filled in place
    f.update(zip(BASE_FEATURES, x.T))
    i, j = pairs[:, 0], pairs[:, 1]
    span_features(f, rows, i, j, q)
    edge_features(f, rows, i, j, flags)
    for name, value in (("share", sentence.share), ("own_share", sentence.own_share), ("rel_share", sentence.rel_share),
                        ("best_sentence", sentence.best), ("rank1", sentence.rank == 1), ("rank2", sentence.rank == 2),
                        ("rank3", sentence.rank >= 3), ("rel_score", sentence.rel_score)):
        f[name][:] = value
    alignment_features(f, words, text, q, i, j)
    kind_column = KIND_COLUMN.get(q.kind)
    f["sentence_kind"][:] = kind_column is not None and bool(rows[:, COL[kind_column]].any())
    for k, name in enumerate(KIND_FEATURES):  # the kind block repeats some base features
        if name in SHARED:
            x[:, len(BASE_FEATURES) + k] = f[name]
    return pairs, x


def span_features(f: dict, rows: np.ndarray, i: np.ndarray, j: np.ndarray, q: Question) -> None:
    """What a candidate holds: sums over its words."""
    cum = np.concatenate([np.zeros((1, rows.shape[1]), np.float32), np.cumsum(rows, axis=0)])
    span = cum[j] - cum[i]
    c = {name: span[:, k] for name, k in COL.items()}
    chars = np.maximum(c["chars"], 1)
    f["log_chars"][:] = np.log1p(chars)
    f["words"][:] = (j - i) / 10.0
    f["frac_in_q"][:] = c["in_q"] / chars
    f["any_in_q2"][:] = c["in_q2"] > 0
    f["commas"][:] = np.minimum(c["comma"], 5) / 5
    f["has_comma"][:] = c["comma"] > 0
    for name in ("nr", "ns", "nt", "time", "num", "title"):
        f[f"has_{name}"][:] = c[name] > 0
    f["all_eng"][:] = c["eng"] == (j - i)
    f["one_word"][:] = (j - i) == 1
    f["single_char"][:] = c["chars"] == 1
    low = 0
    for name, high in (("chars_1", 1), ("chars_2", 2), ("chars_4", 4), ("chars_8", 8), ("chars_16", 16), ("chars_more", 10**9)):
        f[name][:] = (c["chars"] > low) & (c["chars"] <= high)  # a length prior per kind, not only a slope
        low = high
    f["frac_ctx"][:] = c["in_ctx"] / (j - i)
    f["left_window"][:], f["right_window"][:] = (w / max(len(q.text), 1)
                                                 for w in window_sums(rows[:, COL["in_q"]], i, j, 6))


def edge_features(f: dict, rows: np.ndarray, i: np.ndarray, j: np.ndarray, flags) -> None:
    """What stands at a candidate's edges and around it: punctuation, the question's words, tags."""
    left, right, trigger, de, classes = flags
    n = len(rows)
    punct = rows[:, COL["punct"]] > 0
    q2 = rows[:, COL["in_q2"]] > 0
    q_before, q_after = nearest(q2, n)
    f["start_edge"][:] = np.concatenate([[True], punct])[i]
    f["end_edge"][:] = np.concatenate([punct, [True]])[j]
    f["clause"][:] = f["start_edge"] * f["end_edge"]
    f["left_q"][:] = np.concatenate([[False], q2])[i]
    f["right_q"][:] = np.concatenate([q2, [False]])[j]
    f["left_near"][:] = np.exp(-q_before[i] / 3.0)
    f["right_near"][:] = np.exp(-q_after[j] / 3.0)
    f["left_align"][:] = nearest(left, n)[0][i] <= WINDOW
    f["right_align"][:] = nearest(right, n)[1][j] <= WINDOW
    f["after_trigger"][:] = np.concatenate([[False], trigger])[i]
    f["before_de"][:] = np.concatenate([de, [False]])[j]
    f["first_verb"][:] = rows[i, COL["verb"]] > 0
    f["last_noun"][:] = rows[j - 1, COL["noun"]] > 0
    f["last_verb"][:] = rows[j - 1, COL["verb"]] > 0
    f["before_honorific"][:] = np.append(rows[:, COL["honorific"]] > 0, False)[j]
    f["ends_honorific"][:] = (rows[j - 1, COL["honorific"]] > 0) & (j - i > 1)
    f["ends_q"][:] = (rows[j - 1, COL["q"]] > 0) | (rows[j - 1, COL["num"]] > 0)
    for edge, at in (("first", classes[i]), ("last", classes[j - 1])):
        for n_, tag in enumerate(TAG_CLASSES + ("other",)):
            f[f"{edge}_{tag}"][:] = at == n_


MATCH = 4  # characters compared on each side of a candidate with those around the question word


@lru_cache(maxsize=64)
def edges_of(left: str, right: str) -> tuple[str, str, tuple]:
    """The question's text just before its question word and just after it, punctuation
    dropped; and its character uni-, bi- and trigrams (one question's sentences share them)."""
    asked = (PUNCT_TAIL.sub("", left), PUNCT_HEAD.sub("", right))
    grams = tuple(frozenset(p[k:k + size] for p in asked for k in range(len(p) - size + 1) if not PUNCT.match(p[k:k + size]))
                  for size in (1, 2, 3))
    return asked[0][-MATCH:], asked[1][:MATCH], grams


PUNCT_TAIL = re.compile(r"[\W_]+$")
PUNCT_HEAD = re.compile(r"^[\W_]+")


def matched_chars(text: str, at: int, part: str, before: bool) -> int:
    """How many characters of ``part`` (its end when ``before``, else its start) stand at ``at``."""
    for size in range(len(part), 0, -1):
        if (text[max(at - size, 0):at] == part[-size:]) if before else (text[at:at + size] == part[:size]):
            return size
    return 0


def alignment_features(f: dict, words, text: str, q: Question, i: np.ndarray, j: np.ndarray) -> None:
    """The question laid over the sentence: "X是谁" against "…X是<span>…" — the characters
    before the candidate matching those before the question word, those after it those after;
    and how much of the question the sentence repeats (character bigrams, in its words' order)."""
    left, right, grams = edges_of(q.left, q.right)
    # only a word whose neighbouring character is the part's last (first) one can match any of it
    starts = np.array([bool(left) and text[w[0] - 1:w[0]] == left[-1] and matched_chars(text, w[0], left, True)
                       for w in words], dtype=np.float32) / MATCH
    ends = np.array([bool(right) and text[w[1]:w[1] + 1] == right[0] and matched_chars(text, w[1], right, False)
                     for w in words], dtype=np.float32) / MATCH
    f["left_match"][:] = starts[i]
    f["right_match"][:] = ends[j - 1]
    f["both_match"][:] = starts[i] * ends[j - 1]
    sentence = text[words[0][0]:words[-1][1]]
    for name, some in zip(("char_share", "bigram_share", "trigram_share"), grams):
        f[name][:] = sum(g in sentence for g in some) / len(some) if some else 0.0
    f["wh_left_in"][:] = bool(left[-2:]) and left[-2:] in sentence
    f["wh_right_in"][:] = bool(right[:2]) and right[:2] in sentence
    f["log_sentence"][:] = np.log1p(len(sentence)) / 5
