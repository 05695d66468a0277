"""Incremental and parallel indexing give exactly what a full, single-process build gives."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval import counting
from retrieval.index import ARRAYS
from retrieval.store import RetrievalSettings, open_searcher

from tests.helpers import TINY_ARTICLES, write_jsonl

SETTINGS = RetrievalSettings()
MORE = [{"title": f"城市{i}", "text": f"第{i}座城市有{i}条河流。河流穿过老城区，两岸有许多茶馆。"} for i in range(6)]


def same_index(a, b) -> None:
    assert a.index.vocab == b.index.vocab
    for name in ARRAYS:
        assert np.array_equal(np.asarray(getattr(a.index, name)), np.asarray(getattr(b.index, name))), name
    assert [p.text for p in a.passages] == [p.text for p in b.passages]


@pytest.fixture()
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", TINY_ARTICLES)
    write_jsonl(folder / "b.jsonl", MORE)
    return folder


@pytest.mark.parametrize("carry_slice", [counting.CARRY_SLICE, 5])
def test_changing_adding_and_removing_articles_reindexes_only_those(corpus, tmp_path, monkeypatch, carry_slice):
    monkeypatch.setattr(counting, "CARRY_SLICE", carry_slice)  # 5: the kept postings come over in many slices
    cache = tmp_path / "cache"
    open_searcher([corpus], SETTINGS, cache)
    changed = [dict(MORE[0], text="第零座城市没有河流，只有一座古塔。"), *MORE[2:], {"title": "新来的", "text": "新文章讲沙漠里的绿洲。"}]
    write_jsonl(corpus / "b.jsonl", changed)  # one changed, one removed, one added
    said = []
    incremental = open_searcher([corpus], SETTINGS, cache, progress=said.append)
    assert incremental.built
    unchanged = len([p for p in incremental.searcher.passages
                     if p.title in {a["title"] for a in TINY_ARTICLES + MORE[2:]}])
    assert said[0].endswith(f", {unchanged} unchanged")
    full = open_searcher([corpus], SETTINGS, tmp_path / "fresh")
    same_index(incremental.searcher, full.searcher)
    assert incremental.searcher.search("古塔").hits[0].passage.title == "城市0"


def test_the_superseded_build_is_removed(corpus, tmp_path):
    cache = tmp_path / "cache"
    first = open_searcher([corpus], SETTINGS, cache).folder
    write_jsonl(corpus / "b.jsonl", MORE[:3])
    second = open_searcher([corpus], SETTINGS, cache).folder
    assert second != first and second.exists() and not first.exists()


def test_parallel_counting_equals_one_process(corpus, tmp_path, monkeypatch):
    one = open_searcher([corpus], SETTINGS, tmp_path / "one").searcher
    monkeypatch.setattr(counting, "CHUNK", 3)
    monkeypatch.setattr(counting, "PARALLEL_FROM", 0)
    monkeypatch.setattr(counting, "SPLIT_RUN", 50)  # articles are split in workers too
    steps = []
    two = open_searcher([corpus], SETTINGS, tmp_path / "two", steps=lambda done, total: steps.append((done, total)))
    same_index(one, two.searcher)
    assert list(two.searcher.passages) == list(one.passages)
    total = len(one.passages)
    assert steps[-1] == (total, total) and len(steps) == -(-total // 3)
