"""Shared fixtures: an index folder per test session, one shared Analyzer, small corpora."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


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
    from fake_bot_api import FakeBotAPI

    fake = FakeBotAPI().start()
    yield fake
    fake.stop()


def index_of(docs, settings=None):
    """A BM25 index over term lists, one list a passage, made as a build makes it (from counts)."""
    from retrieval.index import BM25Index, BM25Settings
    from retrieval.vocab import Counts

    return BM25Index.from_counts(Counts.of([list(d) for d in docs]), settings or BM25Settings())
