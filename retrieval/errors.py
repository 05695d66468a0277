"""Typed errors of the retrieval core; only the CLI turns them into ``Error: …`` text."""


class RetrievalError(Exception):
    """Base class of every error the retrieval core raises on purpose."""


class CorpusError(RetrievalError):
    """The corpus could not be read at all (missing path, nothing loadable)."""


class AnalysisError(RetrievalError):
    """An analysis setting cannot be used (an unreadable or malformed user dictionary)."""


class IndexStoreError(RetrievalError):
    """The on-disk index is unusable (unwritable folder, corrupt files)."""


class QuestionError(RetrievalError):
    """The question cannot be searched (empty, nothing searchable in it)."""
