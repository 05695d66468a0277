"""Helpers the tests share: the repository's folders, the shared gold sets, small corpora,
an index made from term lists. Fixtures are in conftest.py; tests import these by name
(``from tests.helpers import SEEDS``)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"  # the gold sets beside the repository (CI lays it there too)


def shared_file(*parts: str) -> Path:
    """A file of ../shared; skipped where it is absent, but in CI (``CI=true``) its absence fails."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{path} is missing: CI lays ../shared beside the repository")
        pytest.skip(f"{path} not present (the shared gold sets sit beside the repository)")
    return path


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


TINY_ARTICLES = [
    {"title": "熊猫保护", "text": "大熊猫是中国特有的珍稀动物。它们主要生活在四川的竹林里，以竹子为食。\n\n"
                                "成都大熊猫繁育研究基地成立于1987年，目前饲养了两百多只大熊猫。"},
    {"title": "量子计算", "text": "量子计算机利用量子比特进行运算。谷歌在2019年宣布实现了量子优越性。\n\n"
                                "超导量子芯片需要在接近绝对零度的环境中工作。"},
    {"title": "咖啡历史", "text": "咖啡最早起源于埃塞俄比亚高原。十五世纪时，咖啡传入也门并开始被大量种植。"},
]


def index_of(docs, settings=None):
    """A BM25 index over term lists, one list a passage, made as a build makes it (from counts)."""
    from retrieval.index import BM25Index, BM25Settings
    from retrieval.vocab import Counts

    return BM25Index.from_counts(Counts.of([list(d) for d in docs]), settings or BM25Settings())
