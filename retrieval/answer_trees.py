"""Gradient-boosted trees that re-rank the linear model's best candidates, evaluated in numpy.

The linear span model underfits (its training folds score as its held-out ones): what a
feature is worth depends on others (a name after 是 when the question ends in 谁). So its
``TOP`` best candidates of a question are scored again by trees (LightGBM's lambdarank,
learned by ``bench/train_answer.py``; LightGBM is needed for training only). The trees ship
as flat arrays in JSON (``data/answer_trees.json``): every node of every tree has a feature,
a threshold, its two children and a value; a leaf is its own child, so walking all trees at
once for ``depth`` steps lands every candidate on its leaves.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np

TOP = 30  # candidates re-ranked
EXTRA = ("linear", "linear_gap", "linear_rank", "kind")  # columns after the candidate's features


class Trees(NamedTuple):
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int


def rows(x: np.ndarray, linear: np.ndarray, top: np.ndarray, kind: int) -> np.ndarray:
    """The trees' input for candidates ``top`` (best first): their features and linear scores."""
    chosen = linear[top]
    extra = np.stack([chosen, chosen - chosen[0], np.arange(len(top)) / TOP, np.full(len(top), kind)], axis=1)
    return np.concatenate([x[top], extra.astype(np.float32)], axis=1)


def flatten(dumped: dict) -> dict:
    """LightGBM's ``dump_model()`` as flat node arrays (JSON-able)."""
    out = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
    roots, depth = [], 0

    def add(node, level):
        nonlocal depth
        at = len(out["feature"])
        for k in out:
            out[k].append(0)
        if "leaf_value" in node:
            out["feature"][at], out["threshold"][at], out["left"][at], out["right"][at] = 0, 1e30, at, at
            out["value"][at] = node["leaf_value"]
            depth = max(depth, level)
            return at
        out["feature"][at], out["threshold"][at] = node["split_feature"], node["threshold"]
        out["left"][at] = add(node["left_child"], level + 1)
        out["right"][at] = add(node["right_child"], level + 1)
        return at

    for tree in dumped["tree_info"]:
        roots.append(add(tree["tree_structure"], 0))
    return {**out, "roots": roots, "depth": depth}


def of(data: dict) -> Trees:
    return Trees(np.array(data["feature"], dtype=np.int64), np.array(data["threshold"], dtype=np.float64),
                 np.array(data["left"], dtype=np.int64), np.array(data["right"], dtype=np.int64),
                 np.array(data["value"], dtype=np.float32), np.array(data["roots"], dtype=np.int64), int(data["depth"]))


@lru_cache(maxsize=1)
def shipped() -> Trees | None:
    path = resources.files("retrieval").joinpath("data/answer_trees.json")
    return of(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def predict(trees: Trees, x: np.ndarray) -> np.ndarray:
    """The sum of every tree's leaf value for each row of ``x``."""
    node = np.broadcast_to(trees.roots, (len(x), len(trees.roots))).copy()
    flat = np.ascontiguousarray(x).ravel()
    offset = (np.arange(len(x)) * x.shape[1])[:, None]
    for _ in range(trees.depth):
        left = flat.take(offset + trees.feature.take(node)) <= trees.threshold.take(node)
        node = np.where(left, trees.left.take(node), trees.right.take(node))
    return trees.value.take(node).sum(axis=1)
