"""qabot's retrieval core: articles → passages → analysed tokens → BM25 → cited hits.

A pure library: it never imports ``bot``, ``telegram`` or ``yaml``. The usual entry point::

    from retrieval import open_searcher
    searcher = open_searcher(["seeds"]).searcher      # builds or reuses the cached index
    result = searcher.search("影谱科技这轮融资拿了多少钱？")
    print(result.answered, result.hits[0].passage.text)
"""
from .answer import AnswerSpan
from .articles import Article, LoadProblem, load_corpus
from .errors import RetrievalError
from .passages import Passage, split_articles
from .search import Hit, SearchResult, SearchSettings, Searcher
from .store import RetrievalSettings, default_index_dir, open_searcher

__all__ = [
    "AnswerSpan", "Article", "Hit", "LoadProblem", "Passage", "RetrievalError", "SearchResult",
    "Searcher", "SearchSettings", "RetrievalSettings", "default_index_dir", "load_corpus", "open_searcher",
    "split_articles",
]
