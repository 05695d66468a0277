"""The on-disk cache: built once, reused, invalidated by content and settings, self-healing."""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from retrieval.analysis import AnalysisSettings
from retrieval.errors import CorpusError, IndexStoreError
from retrieval.index import BM25Settings
from retrieval.search import SearchSettings
from retrieval.store import RetrievalSettings, open_searcher

from tests.helpers import TINY_ARTICLES, write_jsonl

DEFAULT = RetrievalSettings()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def snapshot(opened):
    s = opened.searcher
    result = s.search("大熊猫基地成立于哪一年？", 3)
    return ([(p.article_id, p.paragraph, p.part, p.start, p.end, p.text) for p in s.passages],
            [(h.passage.text, round(h.score, 5)) for h in result.hits], result.answered)


def test_first_call_builds_second_reuses(tiny_corpus, cache):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    second = open_searcher([tiny_corpus], DEFAULT, cache)
    assert first.built is True and second.built is False
    assert first.folder == second.folder and first.folder.parent == cache
    assert (first.folder / "manifest.json").exists()
    assert snapshot(first) == snapshot(second)
    assert "1987" in snapshot(second)[1][0][0]


def test_rebuild_flag_forces_a_build(tiny_corpus, cache):
    open_searcher([tiny_corpus], DEFAULT, cache)
    assert open_searcher([tiny_corpus], DEFAULT, cache, rebuild=True).built is True
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is False


def test_progress_is_reported_only_when_building(tiny_corpus, cache):
    said = []
    open_searcher([tiny_corpus], DEFAULT, cache, progress=said.append)
    open_searcher([tiny_corpus], DEFAULT, cache, progress=said.append)
    assert len(said) == 1 and said[0].startswith("indexing 3 articles, ")


def test_changing_a_corpus_file_invalidates_the_cache(tiny_corpus, cache):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    changed = [dict(a) for a in TINY_ARTICLES]
    changed[0]["text"] = changed[0]["text"].replace("1987", "1990")
    write_jsonl(tiny_corpus / "articles.jsonl", changed)
    second = open_searcher([tiny_corpus], DEFAULT, cache)
    assert second.built is True and second.folder != first.folder
    assert "1990" in second.searcher.search("大熊猫基地成立于哪一年？").hits[0].passage.text
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is False


def test_adding_a_file_to_the_corpus_folder_invalidates_the_cache(tiny_corpus, cache):
    open_searcher([tiny_corpus], DEFAULT, cache)
    (tiny_corpus / "more.md").write_text("# 长城\n长城是古代的军事防御工程。", encoding="utf-8")
    opened = open_searcher([tiny_corpus], DEFAULT, cache)
    assert opened.built is True
    assert len(opened.searcher.articles) == 4


@pytest.mark.parametrize("changed", [
    dataclasses.replace(DEFAULT, analysis=AnalysisSettings(bigrams=False)),
    dataclasses.replace(DEFAULT, analysis=AnalysisSettings(stem=False)),
    dataclasses.replace(DEFAULT, bm25=BM25Settings(k1=1.5)),
    dataclasses.replace(DEFAULT, bm25=BM25Settings(b=0.5)),
    dataclasses.replace(DEFAULT, passage_target=80),
    dataclasses.replace(DEFAULT, passage_max=200),
], ids=["bigrams", "stem", "k1", "b", "passage_target", "passage_max"])
def test_changing_an_index_setting_invalidates_the_cache(tiny_corpus, cache, changed):
    open_searcher([tiny_corpus], DEFAULT, cache)
    opened = open_searcher([tiny_corpus], changed, cache)
    assert opened.built is True
    assert open_searcher([tiny_corpus], changed, cache).built is False


def test_k1_reaches_the_rebuilt_index(tiny_corpus, cache):
    opened = open_searcher([tiny_corpus], dataclasses.replace(DEFAULT, bm25=BM25Settings(k1=2.0)), cache)
    assert opened.searcher.index.settings.k1 == 2.0


def test_search_settings_apply_without_a_rebuild(tiny_corpus, cache):
    open_searcher([tiny_corpus], DEFAULT, cache)
    strict = dataclasses.replace(DEFAULT, search=SearchSettings(min_coverage=0.99))
    opened = open_searcher([tiny_corpus], strict, cache)
    assert opened.built is False
    assert opened.searcher.settings.min_coverage == 0.99


def test_load_problems_survive_the_cache(tmp_path, cache):
    folder = tmp_path / "c"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", TINY_ARTICLES)
    (folder / "bad.jsonl").write_text('{"title": "x", "text": "正文。"}\nnot json\n', encoding="utf-8")
    first = open_searcher([folder], DEFAULT, cache)
    second = open_searcher([folder], DEFAULT, cache)
    assert second.built is False
    assert [str(p) for p in first.problems] == [str(p) for p in second.problems]
    assert any(p.line == 2 and "not JSON" in p.message for p in second.problems)


@pytest.mark.parametrize("name, damage", [
    ("impacts.npy", b"\x93NUMPY broken"),
    ("passages.npy", b"\x93NUMPY broken"),
    ("articles.json", b"{broken"),
    ("vocab.json", b"[\"only one term\"]"),
])
def test_a_corrupt_cached_file_is_rebuilt_not_a_crash(tiny_corpus, cache, name, damage):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    expected = snapshot(first)
    (first.folder / name).write_bytes(damage)
    again = open_searcher([tiny_corpus], DEFAULT, cache)
    assert again.built is True
    assert snapshot(again) == expected
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is False


def test_a_truncated_cached_array_is_rebuilt(tiny_corpus, cache):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    path = first.folder / "docs.npy"
    path.write_bytes(path.read_bytes()[:-8])
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is True


@pytest.mark.parametrize("name", ["passages.npy", "impacts.npy"])
def test_an_empty_cached_file_is_rebuilt(tiny_corpus, cache, name):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    (first.folder / name).write_bytes(b"")
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is True


def test_a_missing_cached_file_is_rebuilt(tiny_corpus, cache):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    (first.folder / "df.npy").unlink()
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is True


def test_no_building_folders_are_left_behind(tiny_corpus, cache):
    open_searcher([tiny_corpus], DEFAULT, cache)
    open_searcher([tiny_corpus], DEFAULT, cache, rebuild=True)
    names = [p.name for p in cache.iterdir() if p.name != ".lock"]
    assert len(names) == 1 and not names[0].startswith(".") and not names[0].endswith(".old"), names


def test_a_flipped_byte_in_a_cached_array_is_detected_and_rebuilt(tiny_corpus, cache):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    scores = first.searcher.index.scores({t: 1.0 for t in list(first.searcher.index.vocab)[:5]})
    target = first.folder / "impacts.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF  # same size, different content: only a checksum can tell
    target.write_bytes(bytes(data))
    again = open_searcher([tiny_corpus], DEFAULT, cache)
    assert again.built
    assert np.allclose(again.searcher.index.scores({t: 1.0 for t in list(again.searcher.index.vocab)[:5]}), scores)


def test_a_read_only_cache_that_is_current_still_loads(tiny_corpus, cache):
    built = open_searcher([tiny_corpus], DEFAULT, cache)
    os.chmod(cache, 0o555)
    try:
        assert not open_searcher([tiny_corpus], DEFAULT, cache).built
    finally:
        os.chmod(cache, 0o755)
    assert built.built


def test_two_builds_at_once_are_serialised_and_the_second_reuses_the_first(tiny_corpus, cache):
    import threading

    results = []
    threads = [threading.Thread(target=lambda: results.append(open_searcher([tiny_corpus], DEFAULT, cache)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.built for r in results) == [False, True]


def test_unwritable_index_folder_raises_index_store_error(tiny_corpus, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(IndexStoreError, match="QABOT_INDEX_DIR"):
        open_searcher([tiny_corpus], DEFAULT, blocker / "cache")


def test_missing_corpus_raises_corpus_error(tmp_path, cache):
    with pytest.raises(CorpusError, match="corpus path not found"):
        open_searcher([tmp_path / "nope"], DEFAULT, cache)


def test_cached_passages_have_exact_offsets(tiny_corpus, cache):
    open_searcher([tiny_corpus], DEFAULT, cache)
    searcher = open_searcher([tiny_corpus], DEFAULT, cache).searcher
    for p in searcher.passages:
        assert searcher.articles[p.article_id].text[p.start:p.end] == p.text
    assert {p.paragraph for p in searcher.passages} == {1, 2}
    manifest = json.loads((open_searcher([tiny_corpus], DEFAULT, cache).folder / "manifest.json").read_text())
    assert set(manifest) == {"key", "format", "lineage", "files"}
    assert all(name.endswith((".npy", ".json")) for name in manifest["files"])


def test_articles_with_the_same_id_in_two_files_stay_apart(tmp_path, cache):
    folder = tmp_path / "dup"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [{"id": "1", "title": "甲", "text": "大熊猫生活在四川的竹林里。"}])
    write_jsonl(folder / "b.jsonl", [{"id": "1", "title": "乙", "text": "量子计算机利用量子比特进行运算，速度很快。"}])
    for _ in range(2):  # built, then from the cache
        searcher = open_searcher([folder], DEFAULT, cache).searcher
        hit = searcher.search("大熊猫生活在哪里？").hits[0]
        assert (hit.passage.title, hit.passage.text) == ("甲", "大熊猫生活在四川的竹林里。")
        assert hit.source == "dup/a.jsonl:1"


@pytest.fixture
def sampled_small(monkeypatch):
    """Files over 256 bytes count as big (checked by 4 samples of 16 bytes), as 64 MB ones do."""
    from retrieval import cachefiles

    monkeypatch.setattr(cachefiles, "SAMPLED_FROM", 256)
    monkeypatch.setattr(cachefiles, "SAMPLES", 4)
    monkeypatch.setattr(cachefiles, "SAMPLE", 16)


def flip_between_samples(path) -> None:
    """Change one byte that none of the 4 samples of 16 bytes covers."""
    data = bytearray(path.read_bytes())
    size = len(data)
    starts = [(size - 16) * i // 3 for i in range(4)]
    at = next(i for i in range(size // 2, size) if all(not s <= i < s + 16 for s in starts))
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_text_read_whole_is_checked_whole(tiny_corpus, cache, sampled_small):
    first = open_searcher([tiny_corpus], DEFAULT, cache)
    path = first.folder / "articles.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("两百多只", "三百多只"), encoding="utf-8")  # same length, one character
    again = open_searcher([tiny_corpus], DEFAULT, cache)
    assert again.built is True
    texts = [p.text for p in again.searcher.passages]
    assert any("两百多只" in t for t in texts) and not any("三百多只" in t for t in texts)


def test_damage_between_samples_of_a_mapped_array_is_found_in_the_background(tiny_corpus, cache, sampled_small,
                                                                              monkeypatch):
    import retrieval.store as store
    from retrieval import cachefiles

    first = open_searcher([tiny_corpus], DEFAULT, cache)
    assert json.loads((first.folder / "manifest.json").read_text())["files"]["impacts.npy"][1].startswith("sampled:")
    flip_between_samples(first.folder / "impacts.npy")
    heard, threads = [], []
    real = cachefiles.check_fully

    def check(folder, damaged):
        threads.append(real(folder, damaged))
        return threads[-1]

    monkeypatch.setattr(store, "check_fully", check)  # to wait for its thread
    second = open_searcher([tiny_corpus], DEFAULT, cache, progress=heard.append)
    assert second.built is False  # the samples match: opened at once...
    threads[0].join(30)
    assert any("impacts.npy is damaged" in m and "rebuilt" in m for m in heard)  # ...and found in the background
    assert open_searcher([tiny_corpus], DEFAULT, cache).built is True


def test_qabot_index_checks_every_byte(capsys, tiny_corpus, cache, sampled_small, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("QABOT_INDEX_DIR", str(cache))
    assert main(["--corpus", str(tiny_corpus), "index"]) == 0
    (folder,) = [p for p in cache.iterdir() if (p / "manifest.json").exists()]
    flip_between_samples(folder / "docs.npy")
    capsys.readouterr()
    assert main(["--corpus", str(tiny_corpus), "index"]) == 0
    assert "index built" in capsys.readouterr().out


def test_the_cache_key_does_not_depend_on_how_the_corpus_path_is_spelled(tmp_path, monkeypatch):
    from retrieval.store import RetrievalSettings, corpus_key

    (tmp_path / "docs").mkdir()
    write_jsonl(tmp_path / "docs" / "a.jsonl", TINY_ARTICLES)
    monkeypatch.chdir(tmp_path)
    keys = {corpus_key([spelling], RetrievalSettings(), tmp_path / "idx")
            for spelling in ("docs", "./docs/", str(tmp_path / "docs"), "docs/../docs")}
    assert len(keys) == 1
