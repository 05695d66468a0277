"""The index cache notices what changes its meaning: the rule files, the user dictionary and the
analysis libraries' versions are in its key, besides the corpus and the settings."""
from __future__ import annotations

import shutil

from retrieval import analysis, store
from retrieval.store import RetrievalSettings, open_searcher


def corpus(tmp_path):
    path = tmp_path / "corpus.tsv"
    path.write_text("商汤\t商汤科技成立于2014年，总部位于香港。\n猫\t猫咪喜欢晒太阳。\n", encoding="utf-8")
    return [str(path)]


def test_editing_a_rule_file_makes_the_cache_stale(tmp_path, monkeypatch):
    rules = tmp_path / "data"
    shutil.copytree(analysis.DATA, rules)
    monkeypatch.setattr(analysis, "DATA", rules)
    monkeypatch.setattr(store, "Analyzer", analysis.Analyzer)  # each open reads the rules (conftest shares one)
    paths, settings, index_dir = corpus(tmp_path), RetrievalSettings(), tmp_path / "index"
    assert "晒太阳" in open_searcher(paths, settings, index_dir).searcher.index.vocab
    assert not open_searcher(paths, settings, index_dir).built
    with open(rules / "stopwords.txt", "a", encoding="utf-8") as f:
        f.write("\n晒太阳\n")
    reopened = open_searcher(paths, settings, index_dir)
    assert reopened.built  # rebuilt with the new stopword
    assert "晒太阳" not in reopened.searcher.index.vocab  # and the new rules made it


def test_the_user_dictionary_and_library_versions_are_in_the_key(tmp_path, monkeypatch):
    words = tmp_path / "user.dict"
    words.write_text("商汤科技 10 nt\n", encoding="utf-8")
    settings = analysis.AnalysisSettings(user_dict=str(words))
    before = analysis.rules_fingerprint(settings)
    words.write_text("商汤科技 10 nt\n晒太阳 5\n", encoding="utf-8")
    assert analysis.rules_fingerprint(settings)["files"] != before["files"]
    assert set(before["libraries"]) == {"rjieba", "jieba", "opencc", "PyStemmer"}
    assert all(before["libraries"].values())  # all installed, so all versioned
    analysis.library_versions.cache_clear()
    monkeypatch.setattr(analysis, "LIBRARIES", analysis.LIBRARIES + ("no-such-library",))
    assert analysis.library_versions()["no-such-library"] is None
    analysis.library_versions.cache_clear()
