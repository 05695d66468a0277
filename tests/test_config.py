"""config.yaml → Settings: defaults, paths relative to the file, the environment, bad input."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from retrieval.store import RetrievalSettings
from bot.config import DEFAULT_CONFIG, ConfigError, Settings, load_settings
from retrieval.index import BM25Settings

from tests.helpers import ROOT


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_config_loads_with_the_documented_defaults(monkeypatch, index_dir):
    settings = load_settings()
    assert settings.corpus == (ROOT / "seeds",)
    # config.yaml spells out exactly the library's defaults, so the two cannot drift apart
    assert settings.retrieval() == RetrievalSettings()
    assert settings.passages.overlap is True and settings.passages.title_weight == 3
    assert settings.analysis.unigrams and settings.analysis.bigrams and not settings.analysis.hmm
    assert settings.bm25 == BM25Settings(0.9, 0.4)
    assert settings.search.k == 5 and settings.search.min_coverage == 0.25
    assert not hasattr(settings.retrieval().search, "k")  # k is the frontends' business, not the index's
    assert DEFAULT_CONFIG == ROOT / "config.yaml"


def test_qabot_index_dir_overrides_the_config(tmp_path, monkeypatch):
    monkeypatch.setenv("QABOT_INDEX_DIR", str(tmp_path / "from-env"))
    assert load_settings().index_dir == tmp_path / "from-env"
    path = config(tmp_path, "index_dir: cache-here\n")
    assert load_settings(path).index_dir == tmp_path / "from-env"


def test_the_test_session_never_uses_the_home_cache(index_dir):
    assert load_settings().index_dir == index_dir


def test_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("QABOT_INDEX_DIR")
    path = config(tmp_path, "corpus:\n  - articles\n  - more/news.tsv\nindex_dir: cache\n")
    settings = load_settings(path)
    assert settings.corpus == (tmp_path / "articles", tmp_path / "more" / "news.tsv")
    assert settings.index_dir == tmp_path / "cache"


def test_corpus_may_be_a_single_string(tmp_path):
    assert load_settings(config(tmp_path, "corpus: docs\n")).corpus == (tmp_path / "docs",)


def test_empty_config_gives_the_defaults(tmp_path, index_dir):
    settings = load_settings(config(tmp_path, "# nothing here\n"))
    assert settings.corpus == Settings().corpus
    assert settings.search.k == 5
    assert settings.index_dir == index_dir


def test_sections_are_read(tmp_path):
    settings = load_settings(config(tmp_path, (
        "passages: {target: 80, max: 200, overlap: false, title_weight: 1}\nanalysis: {bigrams: false, stem: false}\n"
        "bm25: {k1: 2, b: 0.5}\nsearch: {k: 3, min_coverage: 0.7}\n")))
    assert (settings.passages.target, settings.passages.max) == (80, 200)
    assert settings.passages.overlap is False and settings.passages.title_weight == 1
    retrieval = settings.retrieval()
    assert (retrieval.passage_target, retrieval.passage_max) == (80, 200)
    assert retrieval.passage_overlap is False and retrieval.title_weight == 1
    assert settings.analysis.bigrams is False and settings.analysis.stem is False
    assert settings.bm25 == BM25Settings(2.0, 0.5) and isinstance(settings.bm25.k1, float)
    assert settings.search.k == 3 and settings.search.min_coverage == 0.7
    assert settings.retrieval().search.min_coverage == 0.7
    assert settings.retrieval().analysis.bigrams is False


def test_user_dict_is_relative_to_the_config_file(tmp_path):
    settings = load_settings(config(tmp_path, "analysis:\n  user_dict: words.txt\n"))
    assert settings.analysis.user_dict == str(tmp_path / "words.txt")


def test_frontend_sections_are_kept_aside(tmp_path):
    settings = load_settings(config(tmp_path, "telegram:\n  anything: 1\nrepl:\n  colour: false\n"))
    assert settings.extra == {"telegram": {"anything": 1}, "repl": {"colour": False}}


def test_unknown_top_level_key_names_it_and_the_valid_ones(tmp_path):
    path = config(tmp_path, "colour: blue\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "'colour'" in message and str(path) in message
    for key in ("corpus", "index_dir", "passages", "analysis", "bm25", "search", "telegram"):
        assert key in message


def test_unknown_key_in_a_section_names_it_and_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(config(tmp_path, "search:\n  top_k: 3\n"))
    message = str(info.value)
    assert "search" in message and "'top_k'" in message
    assert "k" in message and "min_coverage" in message and "bigram_weight" in message


@pytest.mark.parametrize("text, name", [
    ("search:\n  k: five\n", "search.k"),
    ("search:\n  k: 2.5\n", "search.k"),
    ("search:\n  k: true\n", "search.k"),
    ("bm25:\n  k1: high\n", "bm25.k1"),
    ("analysis:\n  bigrams: 1\n", "analysis.bigrams"),
    ("passages:\n  target: [1, 2]\n", "passages.target"),
    ("passages:\n  overlap: 1\n", "passages.overlap"),
    ("passages:\n  title_weight: 1.5\n", "passages.title_weight"),
])
def test_wrong_type_is_an_error_naming_the_setting(tmp_path, text, name):
    with pytest.raises(ConfigError, match="should be (a|true or false)") as info:
        load_settings(config(tmp_path, text))
    assert name in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("search: 5\n", "search should be a mapping"),  # a section given as a value
    ("search:\n  k: {a: 1}\n", "k should be a single value"),  # a value given as a mapping
    ("search: [unclosed\n", "cannot read config"),  # invalid YAML
    ("- just\n- a list\n", "mapping"),  # the top level must be a mapping
])
def test_a_malformed_config_is_an_error_saying_what(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(config(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found") as info:
        load_settings(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_settings().search.k = 10  # type: ignore[misc]


@pytest.mark.parametrize("text, message", [
    ("passages: {max: 0}\n", "passages.max should be a whole number from 1 to"),
    ("passages: {max: -5}\n", "passages.max should be a whole number from 1"),
    ("passages: {target: 0}\n", "passages.target should be a whole number from 1"),
    ("passages: {target: 300, max: 200}\n", r"passages.max \(200\) should be at least passages.target \(300\)"),
    ("search: {k: 0}\n", "search.k should be a whole number from 1 to 100"),
    ("search: {k: 100000}\n", "search.k should be a whole number from 1 to 100"),
    ("search: {max_question: 0}\n", "search.max_question should be a whole number from 1"),
    ("search: {min_coverage: 1.5}\n", "search.min_coverage should be a number from 0 to 1"),
    ("bm25: {k1: -1}\n", "bm25.k1 should be a number from 0 to 100"),
    ("bm25: {k1: .nan}\n", "bm25.k1 should be a number"),
    ("bm25: {k1: .inf}\n", "bm25.k1 should be a number"),
    ("bm25: {b: 1.01}\n", "bm25.b should be a number from 0 to 1"),
    ("index_dir: 5\n", "index_dir should be a file path or folder path, not 5"),
    ("corpus: [[x]]\n", r"corpus\[0\] should be a file path or folder path, not \['x'\]"),
    ("corpus: {a: 1}\n", "corpus should be a single value"),
])
def test_every_value_is_checked_for_type_and_range(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(config(tmp_path, text))


def test_passages_max_zero_is_refused_by_the_command_not_looped_on(tmp_path, capsys):
    from bot.cli import main

    code = main(["--config", str(config(tmp_path, "passages: {max: 0}\n")), "ask", "商汤"])
    err = capsys.readouterr().err
    assert code == 1 and "passages.max should be a whole number from 1" in err and "Traceback" not in err


def test_null_means_the_default(tmp_path, index_dir):
    assert load_settings(config(tmp_path, "corpus: null\n")).corpus == load_settings(config(tmp_path, "{}\n")).corpus
    assert load_settings(config(tmp_path, "search: {k: null}\npassages: null\n")).search.k == 5


def test_a_yaml_bomb_is_refused_quickly_with_a_short_message(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    with pytest.raises(ConfigError, match="more than 100 YAML aliases") as info:
        load_settings(config(tmp_path, "\n".join(lines) + "\nsearch: {k: *a11}\n"))
    assert len(str(info.value)) < 400


def test_a_bad_nested_value_is_shown_as_a_short_excerpt(tmp_path):
    # 40 aliases (under the limit) still make a value of 10^4 items: the message shows a bit of it
    levels = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 5)]
    text = f"search:\n  k: [{', '.join(levels)}]\n"
    with pytest.raises(ConfigError) as info:
        load_settings(config(tmp_path, "search: {k: [[[[[[x]]]]]]}\n"))
    assert len(str(info.value)) < 300 and "search.k" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_settings(config(tmp_path, text))
    assert len(str(info.value)) < 300


def test_control_characters_in_a_bad_value_are_not_printed(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(config(tmp_path, 'search: {k: "\\e]0;pwned\\a"}\n'))
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)


def test_frontend_sections_use_the_same_reader():
    from bot.telegram.config import telegram_settings
    from bot.terminal.repl import repl_settings

    with pytest.raises(ConfigError, match=r"repl.k should be a whole number from 1 to 50, not 0"):
        repl_settings({"k": 0})
    with pytest.raises(ConfigError, match=r"telegram.history should be a whole number from 0 to 10, not 11"):
        telegram_settings({"history": 11}, environ={})
    assert repl_settings({"history": "~/h"}).history == Path("~/h")
