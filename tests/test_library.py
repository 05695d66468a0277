"""The library's public face: the README's five-line example works as written, with the
product's defaults (the same passages the CLI makes)."""
from __future__ import annotations

import retrieval
from retrieval import RetrievalSettings, open_searcher, split_articles
from retrieval.articles import load_corpus

from tests.helpers import SEEDS


def test_the_readme_example_answers_over_the_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("QABOT_INDEX_DIR", str(tmp_path / "cache"))
    searcher = open_searcher([SEEDS]).searcher
    result = searcher.search("影谱科技这轮融资拿了多少钱？")
    assert result.answered and "13.6亿元" in result.hits[0].passage.text
    assert any((tmp_path / "cache").iterdir())  # the default index folder follows QABOT_INDEX_DIR


def test_exported_defaults_are_the_products():
    settings = RetrievalSettings()
    articles = load_corpus([SEEDS]).articles[:3]
    assert split_articles(articles) == split_articles(articles, settings.passage_target, settings.passage_max,
                                                      settings.passage_overlap)
    for name in ("open_searcher", "RetrievalSettings", "Searcher", "Hit", "SearchResult"):
        assert name in retrieval.__all__
