"""The reference engines, built over the same passages as qabot's index.

- ``JiebaWords``: what a user would build: each passage's title and text cut into jieba's words
  (rjieba: jieba's algorithm and dictionary in Rust, the same words, ~20x faster than jieba,
  so the references' tokenising is not what makes them slow), lowercased, punctuation dropped;
  bm25s (lucene, qabot's k1 and b) and rank-bm25 over those words. A question is cut the same way.
- ``Tantivy``: tantivy-py over qabot's own terms (each passage's terms, tf repeated, joined by
  spaces, a whitespace tokenizer, term frequencies without positions); a question is a boolean
  OR of qabot's weighted terms (boosted term queries), top k by tantivy's BM25.
"""
from __future__ import annotations

import re

import numpy as np

WORD = re.compile(r"\w")  # a token with a letter, digit or Han character in it


class JiebaWords:
    """Passages as jieba words: ``ids(i)`` the word ids of passage i, and the Counts of all."""

    def __init__(self, searcher):
        import rjieba

        from retrieval.vocab import Counts

        self.cut = rjieba.cut
        vocab: dict[str, int] = {}
        starts, flat = [0], []
        for i in range(len(searcher.passages)):
            p = searcher.passages[i]
            ids = [vocab.setdefault(w, len(vocab)) for w in self.words(p.title + "\n" + p.text)]
            flat.append(np.asarray(ids, dtype=np.int32))
            starts.append(starts[-1] + len(ids))
        self.vocab = vocab
        self.starts = np.asarray(starts, dtype=np.int64)
        self.flat = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int32)
        doc_of = np.repeat(np.arange(len(flat), dtype=np.int64), np.diff(self.starts))
        width = max(len(vocab), 1)
        keys = np.sort(doc_of * width + self.flat)
        first = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1]) if len(keys) else keys
        tfs = np.diff(np.append(first, len(keys)))
        keys = keys[first]
        order = np.lexsort((keys // width, keys % width))  # by (term, passage): bm25s's column layout
        self.counts = Counts(list(vocab), np.zeros(0, dtype=np.int64), (keys % width)[order],
                             (keys // width)[order], tfs[order].astype(np.float32), len(flat))

    @property
    def terms(self) -> list[str]:
        return self.counts.words

    def ids(self, i: int) -> np.ndarray:
        return self.flat[self.starts[i]:self.starts[i + 1]]

    def words(self, text: str) -> list[str]:
        return [w for w in self.cut(text.lower()) if WORD.search(w)]

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> list[str]:
        terms = self.counts.words
        return [terms[t] for t in self.ids(i).tolist()]

    def tokens(self) -> int:
        return len(self.flat)


class Tantivy:
    """tantivy-py over qabot's terms (``bags``: ``refs.Bags``); ``top(weights, k)`` its best k."""

    def __init__(self, bags, threads: int = 2):
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)
        writer = self.index.writer(heap_size=500_000_000, num_threads=threads)
        for i in range(len(bags)):
            writer.add_document(tantivy.Document(body=" ".join(bags[i])))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def top(self, weights: dict[str, float], k: int):
        t = self.tantivy
        query = t.Query.boolean_query([(t.Occur.Should, t.Query.boost_query(
            t.Query.term_query(self.schema, "body", term), weight)) for term, weight in weights.items()])
        return self.searcher.search(query, k).hits
