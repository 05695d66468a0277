"""Shared fixtures: an index folder per test session, one shared Analyzer, small corpora."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import SEEDS, TINY_ARTICLES, write_jsonl


@pytest.fixture(scope="session", autouse=True)
def index_dir(tmp_path_factory) -> Path:
    """Every index built by the tests goes under a session tmp folder, never ~/.cache."""
    folder = tmp_path_factory.mktemp("qabot-index")
    old = os.environ.get("QABOT_INDEX_DIR")
    os.environ["QABOT_INDEX_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("QABOT_INDEX_DIR", None)
    else:
        os.environ["QABOT_INDEX_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def shared_analyzers():
    """Reuse one Analyzer per analysis settings wherever the store opens an index.

    An Analyzer is stateless once initialised, but initialising jieba costs about a second;
    without this every ``open_searcher`` (and every CLI call) would pay it again.
    """
    from retrieval import store
    from retrieval.analysis import Analyzer

    made: dict = {}

    def shared(settings=None, *args, **kwargs):
        key = (settings, args, tuple(sorted(kwargs.items())))
        if key not in made:
            made[key] = Analyzer(settings, *args, **kwargs) if settings is not None else Analyzer(*args, **kwargs)
        return made[key]

    with pytest.MonkeyPatch.context() as mp:
        if hasattr(store, "Analyzer"):
            mp.setattr(store, "Analyzer", shared)
        yield made


@pytest.fixture(scope="session")
def analyzer():
    """One default Analyzer for the session: jieba takes about a second to initialise."""
    from retrieval.analysis import Analyzer

    a = Analyzer()
    a.terms("商汤")  # initialise jieba and OpenCC once
    return a


@pytest.fixture(scope="session")
def seed_searcher(index_dir):
    """A Searcher over the bundled seeds/ with default settings."""
    from retrieval.store import RetrievalSettings, open_searcher

    return open_searcher([SEEDS], RetrievalSettings(), index_dir).searcher


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """A folder with one JSONL file of three short articles."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "articles.jsonl", TINY_ARTICLES)
    return folder


@pytest.fixture
def tiny_tsv(tmp_path) -> Path:
    """A single seed-style TSV file (title<TAB>body), named .txt like the bundled seeds."""
    path = tmp_path / "tiny.txt"
    path.write_text(
        "熊猫保护\t大熊猫是中国特有的珍稀动物。成都大熊猫繁育研究基地成立于1987年。\n"
        "量子计算\t量子计算机利用量子比特进行运算。谷歌在2019年宣布实现了量子优越性。\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def api():
    """A fake Telegram Bot API on 127.0.0.1 for one test module (tests/fake_bot_api.py)."""
    from tests.fake_bot_api import FakeBotAPI

    fake = FakeBotAPI().start()
    yield fake
    fake.stop()
