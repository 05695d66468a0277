"""qabot's retrieval core: articles → passages → analysed tokens → BM25 → cited hits.

A pure library: it never imports ``bot``, ``telegram`` or ``yaml``.
"""
from .answer import AnswerSpan
from .articles import Article, LoadProblem, load_corpus
from .errors import RetrievalError
from .passages import Passage, split_articles
from .search import Hit, SearchResult, Searcher

__all__ = [
    "AnswerSpan", "Article", "Hit", "LoadProblem", "Passage", "RetrievalError", "SearchResult",
    "Searcher", "load_corpus", "split_articles",
]
