"""Gathering term counts into the index's posting arrays.

Each posting is one uint64 key — term, passage and tf in bit fields — packed as
its chunk's counts arrive (while the workers still analyse), so that building the
index is one sort of values and one pass to take the fields apart. No array the
size of all postings is made more than once: on a million passages (220M postings)
that is what the time and memory of this step are. Fresh memory is dear on the
machines this runs on (first touch of a page costs more than the arithmetic done
in it), so work happens in place and in slices.
"""
from __future__ import annotations

import mmap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import numpy as np

from . import grams
from .errors import IndexStoreError
from .scoring import BM25Settings, length_norm, tf_part
from .vocab import Counts, Vocabulary

TF_BITS = 8  # a tf of 255 or more is kept aside (``Merger.big``) and put back after the sort
TF_SEE_ASIDE = (1 << TF_BITS) - 1
# term field: words by their number in ``Merger.vocab`` (gathered order, renumbered in sorted order
# at the end), then grams: characters by code point, then bigrams by their two code points
GRAMS = 1 << 31
BIGRAMS = GRAMS + (1 << 16)
TERM_BITS = 33
SLICE = 1 << 20  # postings taken apart at a time


class Merger:
    """Gathers Counts one at a time into packed postings; ``index`` makes the BM25 index of them.
    ``passages``: how many passages the index will have (passage numbers are below it)."""

    def __init__(self, passages: int, parts: Iterable[Counts] = ()):
        self.size = passages
        self.doc_bits = max(int(passages - 1).bit_length(), 1)
        if TERM_BITS + self.doc_bits + TF_BITS > 64:
            most = 1 << (64 - TERM_BITS - TF_BITS)
            raise IndexStoreError(f"{passages:,} passages are more than one index holds ({most:,}); make passages "
                                  "longer (passage_target in config.yaml) or split the corpus into collections")
        self.vocab: dict[str, int] = {}
        self.pages = Pages(0)  # the keys: ``pages.array[:filled]``
        self.filled = 0
        self.doc_len = np.zeros(passages, dtype=np.float64)
        self.big: list[tuple[np.ndarray, np.ndarray]] = []  # (keys with TF_SEE_ASIDE, their real tfs)
        self.counted = 0  # passages added so far
        self.shared: tuple | None = None  # (words, grams, term keys) of the last part
        for part in parts:
            self.add(part)

    def add(self, part: Counts) -> None:
        term_keys = self.term_keys(part)
        keys = self.room(len(part.term_ids), part.size)
        np.take(term_keys, part.term_ids, out=keys)
        docs = np.asarray(part.doc_ids)
        tfs = np.asarray(part.tfs)
        keys <<= np.uint64(self.doc_bits)
        keys |= docs.astype(np.uint64)
        keys <<= np.uint64(TF_BITS)
        keys |= np.minimum(tfs, TF_SEE_ASIDE).astype(np.uint64)
        if len(tfs) and tfs.max() >= TF_SEE_ASIDE:
            aside = np.flatnonzero(tfs >= TF_SEE_ASIDE)
            self.big.append((keys[aside].copy(), tfs[aside].astype(np.int64)))
        if len(docs):  # a chunk's passages are a run of numbers: count within it
            low, high = int(docs.min()), int(docs.max()) + 1
            self.doc_len[low:high] += np.bincount(docs - low, weights=tfs, minlength=high - low)
        self.filled += len(keys)
        self.counted += part.size

    def term_keys(self, part: Counts) -> np.ndarray:
        """The term field of each of ``part``'s term ids; parts sharing one vocabulary (the slices
        of a previous build) share the mapping."""
        if self.shared is not None and self.shared[0] is part.words and self.shared[1] is part.grams:
            return self.shared[2]
        keys = np.concatenate([self.word_ids(part.words), gram_fields(np.asarray(part.grams, dtype=np.int64))])
        self.shared = (part.words, part.grams, keys)
        return keys

    def word_ids(self, words: list[str]) -> np.ndarray:
        """The numbers of ``words`` (distinct), new ones numbered on: lookups in one C loop, as most
        words of a chunk were seen in the chunks before."""
        vocab = self.vocab
        found = list(map(vocab.get, words))
        for i in [i for i, n in enumerate(found) if n is None]:
            found[i] = vocab[words[i]] = len(vocab)
        return np.fromiter(found, dtype=np.uint64, count=len(found))

    def room(self, n: int, passages: int) -> np.ndarray:
        """The next ``n`` places of ``keys``, for ``passages`` more passages. Room is reserved by
        estimate (memory never touched costs nothing) and, when that falls short, the keys move."""
        keys = self.pages.array
        if self.filled + n > len(keys):
            per_passage = (self.filled + n) / max(self.counted + passages, 1)
            estimate = int(per_passage * self.size * 1.25) + n
            bigger = Pages(max(estimate, int(len(keys) * 1.5), self.filled + n))
            bigger.array[:self.filled] = keys[:self.filled]
            self.pages, keys = bigger, bigger.array
        return keys[self.filled:self.filled + n]

    def arrays(self, settings: BM25Settings, folder: Path | None = None) -> tuple[Vocabulary, dict[str, np.ndarray]]:
        """The vocabulary and arrays of the BM25 index of everything added (``BM25Index.gathered``).
        With ``folder``, the posting arrays are made in their files there (saving them is then done)."""
        pages = self.pages
        keys, self.pages = pages.array[:self.filled], None
        keys.sort()
        words = self.sort_words(keys)
        term_keys, df = term_runs(keys, self.doc_bits + TF_BITS)
        in_words = term_keys < GRAMS
        vocab = Vocabulary([words[i] for i in term_keys[in_words].tolist()], gram_codes(term_keys[~in_words]))
        tf_type = np.uint8 if not self.big else np.uint16 if max(b[1].max() for b in self.big) < 65536 else np.uint32
        arrays = {name: new_array(folder, name, len(keys), dtype)
                  for name, dtype in {"docs": np.int32, "tfs": tf_type, "impacts": np.float32}.items()}
        doc_len = self.doc_len.astype(np.float32)
        norm = length_norm(doc_len, settings)
        big = [(np.searchsorted(keys, aside), tfs) for aside, tfs in self.big]
        indptr = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        # the keys' pages go as they are read
        top = unpack(keys, self.doc_bits, norm, settings, pages, indptr, **arrays)
        for at, tfs in big:  # the tfs too big for their field, put back
            arrays["tfs"][at] = tfs
            arrays["impacts"][at] = tf_part(tfs.astype(np.float32), norm[arrays["docs"][at]], settings)
            np.maximum.at(top, np.searchsorted(indptr, at, side="right") - 1, arrays["impacts"][at])
        del keys
        return vocab, {**arrays, "indptr": indptr, "df": df.astype(np.int32), "doc_len": doc_len, "max_impact": top}

    def sort_words(self, keys: np.ndarray) -> list[str]:
        """Renumber the words in the (sorted) keys by their sorted order, keep the keys sorted, and
        return the words so ordered. Words come first in the keys, so this is a prefix of them."""
        words = list(self.vocab)
        order = sorted(range(len(words)), key=words.__getitem__)
        rank = np.empty(len(words), dtype=np.uint64)
        rank[order] = np.arange(len(words), dtype=np.uint64)
        shift = np.uint64(self.doc_bits + TF_BITS)
        prefix = keys[:int(np.searchsorted(keys, np.uint64(GRAMS) << shift))]
        low = np.uint64((1 << int(shift)) - 1)
        for start in range(0, len(prefix), SLICE):
            part = prefix[start:start + SLICE]
            part[:] = (rank[part >> shift] << shift) | (part & low)
        prefix.sort()
        for aside, _ in self.big:
            in_words = aside < (np.uint64(GRAMS) << shift)
            aside[in_words] = (rank[aside[in_words] >> shift] << shift) | (aside[in_words] & low)
        return [words[i] for i in order]


def gram_fields(codes: np.ndarray) -> np.ndarray:
    """The term field of gram codes (``retrieval.grams``): above the words, characters then bigrams."""
    return np.where(codes >= grams.PAIR, codes - grams.PAIR + BIGRAMS, codes + GRAMS).astype(np.uint64)


def gram_codes(fields: np.ndarray) -> np.ndarray:
    """The gram codes of term fields made by ``gram_fields``."""
    fields = fields.astype(np.int64)
    return np.where(fields >= BIGRAMS, fields - BIGRAMS + grams.PAIR, fields - GRAMS)


def term_runs(keys: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """(each distinct term field of the sorted keys, how many keys have it), a slice at a time."""
    values: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for start in range(0, len(keys), SLICE):
        field = keys[start:start + SLICE] >> np.uint64(shift)
        firsts = np.concatenate([[0], np.flatnonzero(field[1:] != field[:-1]) + 1])
        runs = np.diff(np.append(firsts, len(field)))
        if values and values[-1][-1] == field[0]:  # a run going on from the slice before
            counts[-1][-1] += runs[0]
            firsts, runs = firsts[1:], runs[1:]
        if len(runs):  # (a run may fill a whole slice)
            values.append(field[firsts])
            counts.append(runs)
    if not values:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(values), np.concatenate(counts)


def unpack(keys: np.ndarray, doc_bits: int, norm: np.ndarray, settings: BM25Settings, pages: "Pages | None",
           indptr: np.ndarray, docs: np.ndarray, tfs: np.ndarray, impacts: np.ndarray) -> np.ndarray:
    """Sorted keys into their passages, tfs and BM25 impacts: the two halves in two threads (numpy
    lets go of the GIL for this work), each a slice at a time through one buffer, as a fresh
    temporary array for each slice costs more in page faults than its arithmetic. Returns each
    term's highest impact (the bound ``retrieval.pruning`` skips by), taken while a slice is at hand."""
    highest: list[tuple[int, np.ndarray]] = []

    def run(first: int, last: int) -> None:
        field = np.empty(min(SLICE, last - first), dtype=np.uint64)
        for start in range(first, last, SLICE):
            part = keys[start:min(start + SLICE, last)]
            end, out = start + len(part), field[:len(part)]
            np.bitwise_and(part, np.uint64(TF_SEE_ASIDE), out=out)
            tfs[start:end] = out
            np.right_shift(part, np.uint64(TF_BITS), out=out)
            np.bitwise_and(out, np.uint64((1 << doc_bits) - 1), out=out)
            docs[start:end] = out
            impacts[start:end] = tf_part(tfs[start:end].astype(np.float32), norm[docs[start:end]], settings)
            highest.append(slice_maxima(impacts[start:end], start, indptr))
            if pages is not None:
                pages.release(start, end)

    middle = len(keys) // 2
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(run, 0, middle), pool.submit(run, middle, len(keys))]:
            done.result()
    top = np.zeros(len(indptr) - 1, dtype=np.float32)
    for term, maxima in highest:  # a term cut by a slice's edge has a maximum in each: the larger
        np.maximum(top[term:term + len(maxima)], maxima, out=top[term:term + len(maxima)])
    return top


def slice_maxima(values: np.ndarray, start: int, indptr: np.ndarray) -> tuple[int, np.ndarray]:
    """(the first term with postings in ``values`` = postings ``start``.., the maximum of each
    term's postings there)."""
    if not len(values):
        return 0, np.zeros(0, dtype=np.float32)
    first = int(np.searchsorted(indptr, start, side="right")) - 1
    inner = indptr[first + 1:np.searchsorted(indptr, start + len(values), side="left")] - start
    return first, np.maximum.reduceat(values, np.concatenate([[0], inner]))


class Pages:
    """A uint64 array in memory of its own (an anonymous map), whose items can be handed back to the
    system once read: the pages freed are then at hand for the arrays being written. On
    a virtual machine a page the process has never had costs far more than one just let go
    (1M passages: writing the index 3.6 -> 0.6 s)."""

    def __init__(self, size: int):
        self.map = mmap.mmap(-1, max(size, 1) * 8)
        self.array = np.frombuffer(self.map, dtype=np.uint64, count=size)

    def release(self, first: int, end: int) -> None:
        """Give back the pages wholly within items ``first``..``end`` (they read as 0 after)."""
        start = -(-first * 8 // mmap.PAGESIZE) * mmap.PAGESIZE
        stop = end * 8 // mmap.PAGESIZE * mmap.PAGESIZE
        if stop > start and hasattr(self.map, "madvise"):
            self.map.madvise(mmap.MADV_DONTNEED, start, stop - start)


def new_array(folder: Path | None, name: str, size: int, dtype) -> np.ndarray:
    """An array to fill: in memory, or as ``name``.npy in ``folder`` (written as it is filled, so the
    index is not copied again to be saved)."""
    if folder is None:
        return np.empty(size, dtype=dtype)
    return np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=dtype, shape=(size,))
