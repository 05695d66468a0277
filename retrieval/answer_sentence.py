"""The answer sentence: a small model of its own over the sentences that give candidates.

Picking the sentence is the answer's weakest step (the five sentences looked at hold a gold
answer far more often than the one picked), and in the span model a sentence's evidence is
spread over its many candidates. So each sentence gets a score of its own: a linear model,
softmax over one question's sentences, over what the sentence repeats of the question and
the best alignment of any of its candidates with the question word's place. Its log
probability is a column of every candidate's row (``sentence_logp``). The weights are
learned by ``bench/train_answer.py`` on which sentence holds a gold answer.
"""
from __future__ import annotations

import numpy as np

from . import answer_features as af

HELD = ("share", "own_share", "rel_share", "best_sentence", "rank1", "rank2", "rank3", "rel_score", "sentence_kind",
        "bigram_share", "trigram_share", "char_share", "wh_left_in", "wh_right_in", "log_sentence")  # the same in a sentence
BEST = ("left_match", "right_match", "both_match", "after_trigger")  # the best of its candidates
FEATURES = HELD + tuple(f"max_{name}" for name in BEST)
HELD_AT = [af.BASE_FEATURES.index(name) for name in HELD]
BEST_AT = [af.BASE_FEATURES.index(name) for name in BEST]
LOGP = af.BASE_FEATURES.index("sentence_logp")


def rows(spans: np.ndarray, x: np.ndarray, count: int) -> np.ndarray:
    """One row of FEATURES a sentence (``count`` of them; zeros for one without candidates)."""
    out = np.zeros((count, len(FEATURES)), dtype=np.float32)
    if not len(spans):
        return out
    firsts = np.flatnonzero(np.r_[True, spans[1:, 0] != spans[:-1, 0]])  # candidates come sentence by sentence
    which = spans[firsts, 0]
    out[which, :len(HELD)] = x[firsts][:, HELD_AT]
    out[which, len(HELD):] = np.maximum.reduceat(x[:, BEST_AT], firsts, axis=0)
    return out


def log_probs(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    s = features @ weights
    s = s - s.max()
    return s - np.log(np.exp(s).sum())


def fill(spans: np.ndarray, x: np.ndarray, count: int, weights: np.ndarray) -> None:
    """Write each candidate's sentence's log probability into its ``sentence_logp`` column."""
    if len(spans):
        x[:, LOGP] = log_probs(rows(spans, x, count), weights)[spans[:, 0]] / 5
