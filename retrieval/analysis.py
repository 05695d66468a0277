"""Text analysis shared by passages and questions: normalise, then tokenise.

The only module that imports the segmenter (rjieba), OpenCC and the stemmer (all loaded late).
Normalisation keeps the length of the text, so a token's offsets in the
normalised text are its offsets in the original: that is what highlighting uses.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from operator import itemgetter
from typing import NamedTuple, Sequence

import numpy as np

from . import grams, numerals
from .grams import BIGRAM, UNIGRAM  # noqa: F401  (the term markers, as search knows them)

DATA = Path(__file__).parent / "data"
# Latin identifiers (RoI-Align, x86_64, 3.5-turbo); numbers with , or . inside.
NUMBER_OR_WORD = (r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![a-z\d])"
                  r"|(?P<word>[a-z0-9]+(?:[-_.'][a-z0-9]+)*)")
OTHER = re.compile(NUMBER_OR_WORD)
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"(?P<han>[{HAN}]+)|" + NUMBER_OR_WORD)  # Han runs too: for one short text
SHORT = 4000  # characters: a text up to this long is analysed in Python (numpy's calls cost more)


class Token(NamedTuple):
    term: str
    start: int
    end: int


class Analysed(NamedTuple):
    """The terms of several texts: token i stands at ``start[i]:end[i]`` of text ``text[i]``; its
    term is ``words[term[i]]``, or the gram ``grams[term[i] - len(words)]`` above them."""
    words: list[str]
    grams: np.ndarray
    text: np.ndarray
    term: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def term_list(self) -> list[str]:
        names = self.words + grams.terms(self.grams)
        return [names[i] for i in self.term.tolist()]


@dataclass(frozen=True)
class AnalysisSettings:
    bigrams: bool = True
    unigrams: bool = True  # single Han characters too: a finer recall net than bigrams
    stem: bool = True
    user_dict: str | None = None
    hmm: bool = False  # jieba's HMM guesses new words ("钱会"); bigrams already catch unknown words

    def key(self) -> dict:
        return {"bigrams": self.bigrams, "unigrams": self.unigrams, "stem": self.stem, "user_dict": self.user_dict, "hmm": self.hmm,
                "version": 6}  # 6: Chinese numerals also give their Arabic number


class Analyzer:
    """Turns text into terms; ``tokens`` keeps offsets, ``terms`` is what BM25 counts."""

    def __init__(self, settings: AnalysisSettings = AnalysisSettings()):
        self.settings = settings

    @cached_property
    def converter(self):
        import opencc  # heavy: loaded on first use

        return opencc.OpenCC("t2s")

    @cached_property
    def jieba(self):
        """jieba's dictionary and algorithm in Rust (rjieba, a jieba-rs binding): the same words
        as the Python jieba, about twenty times faster, which is what indexing time is made of."""
        import rjieba

        segmenter = rjieba.Jieba()
        if self.settings.user_dict:
            for word, freq, tag in read_user_dict(self.settings.user_dict):
                segmenter.add_word(word, freq if freq is not None else segmenter.suggest_freq(word), tag)
        return segmenter

    @cached_property
    def stemmer(self):
        import Stemmer

        return Stemmer.Stemmer("english")

    @cached_property
    def stopwords(self) -> frozenset[str]:
        words = set()
        for line in (DATA / "stopwords.txt").read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                words.update(self.normalise(w) for w in line.split())
        return frozenset(words)

    def normalise(self, text: str) -> str:
        """NFKC, traditional → simplified, lowercase; the result has the same length."""
        return self.normalise_joined([text])

    def normalise_joined(self, texts: Sequence[str]) -> str:
        """The texts normalised and joined by line breaks. The changes run over the joined text
        at once (no phrase crosses a line break); only when one would change the length (ﬁ, İ)
        is it applied line by line, and char by char in such a line."""
        joined = nfkc("\n".join(texts))
        for change in (self.converter.convert, str.lower):
            changed = change(joined)
            if len(changed) != len(joined):
                changed = "\n".join(same_length(line, change) for line in joined.split("\n"))
            joined = changed
        return joined

    def tokens(self, text: str) -> list[Token]:
        """Every term of ``text`` with its offsets, stopwords dropped."""
        return [Token(*span) for span in self.spans(text)]

    def terms(self, text: str) -> list[str]:
        """The terms alone: what the index counts."""
        return [span[0] for span in self.spans(text)]

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """(term, start, end) of each term of one text. A question or a passage is analysed here
        in plain Python, a few times faster on a short text than the array operations of
        ``analyse``, which indexing uses; the terms are the same (tests/test_analysis.py)."""
        if len(text) > SHORT:
            found = self.analyse([text])
            return list(zip(found.term_list(), found.start.tolist(), found.end.tolist()))
        norm = self.normalise(text)
        stop, hmm = self.stopwords, self.settings.hmm
        keep = bytearray(b"\x01") * len(norm)  # 0 where a stopword or question word stands
        for word, s, e in self.jieba.tokenize(norm, hmm=hmm):
            if word in stop or word[0] == "哪":  # every 哪 word (哪一年, 哪国) asks, it doesn't say
                keep[s:e] = bytes(e - s)
        out = [(w, s, e) for w, s, e in self.jieba.tokenize(norm, mode="search", hmm=hmm)
               if "\u3400" <= w[0] <= "\u9fff" and any(keep[s:e]) and w not in stop]
        for match in TOKEN.finditer(norm):
            start, end = match.span()
            if match.lastgroup == "han":
                if self.settings.bigrams:
                    out += [(BIGRAM + norm[i:i + 2], i, i + 2) for i in range(start, end - 1)
                            if keep[i] and keep[i + 1]]
                if self.settings.unigrams:
                    out += [(UNIGRAM + norm[i], i, i + 1) for i in range(start, end)
                            if keep[i] and norm[i] not in stop]
            elif match.lastgroup == "num":
                out.append((match.group().replace(",", ""), start, end))
            else:
                out += self.word_tokens(match.group(), start)
        return out + numerals.terms(norm)

    def analyse(self, texts: Sequence[str]) -> Analysed:
        """The terms of many texts at once: jieba words, Han bigrams and single characters
        found with array operations over the code points (they are most of the terms, and a
        Python loop per character was most of indexing time), numbers and Latin words.
        The texts are segmented as one, joined by line breaks, which no term crosses."""
        joined = self.normalise_joined(texts)
        cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        vocab: dict[str, int] = {}
        word_ids, starts, ends, keep = self.words(joined, cp, vocab)
        others = self.others(joined, vocab)
        han = ((cp >= 0x3400) & (cp <= 0x4DBF)) | ((cp >= 0x4E00) & (cp <= 0x9FFF)) | ((cp >= 0xF900) & (cp <= 0xFAFF))
        kept = han & keep
        codes, gram_starts, lengths = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [0]
        if self.settings.bigrams:
            at = np.flatnonzero(kept[:-1] & kept[1:])
            codes.append(grams.bigram_codes(cp[at], cp[at + 1]))
            gram_starts.append(at)
            lengths.append(2)
        if self.settings.unigrams:
            at = np.flatnonzero(kept & ~stop_chars(self.stopwords)[np.where(kept, cp, 0)])
            codes.append(cp[at])
            gram_starts.append(at)
            lengths.append(1)
        gram_codes, gram_ids = dense(np.concatenate(codes))
        gram_starts = np.concatenate(gram_starts)
        gram_ends = gram_starts + np.repeat(lengths, [len(c) for c in codes])
        term = np.concatenate([word_ids, others[0], gram_ids + len(vocab)])
        start = np.concatenate([starts, others[1], gram_starts])
        end = np.concatenate([ends, others[2], gram_ends])
        # which text each token is in, and its offsets there
        lengths_ = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
        bounds = np.concatenate([[0], np.cumsum(lengths_)])
        text = np.repeat(np.arange(len(texts)), lengths_)[start] if len(start) else start
        return Analysed(list(vocab), gram_codes, text, term, start - bounds[text], end - bounds[text])

    def words(self, joined: str, cp: np.ndarray, vocab: dict[str, int]):
        """Han words of jieba's search mode (ids, starts, ends) not made of stopwords alone, and
        a mask of the characters that are no stopword or question word (False at 的, 哪一年)."""
        found = self.jieba.tokenize(joined, mode="search", hmm=self.settings.hmm)
        if not found:
            return (*empty(), np.ones(len(cp), dtype=bool))
        words = list(map(itemgetter(0), found))
        starts, ends = (np.fromiter(map(itemgetter(i), found), dtype=np.int64, count=len(found)) for i in (1, 2))
        unique = list(dict.fromkeys(words))  # C loops from here: a Python step per token is the cost
        place = {w: i for i, w in enumerate(unique)}
        local = np.fromiter(map(place.__getitem__, words), dtype=np.int64, count=len(words))
        stop = self.stopwords
        in_stop = np.fromiter((w in stop for w in unique), dtype=bool, count=len(unique))
        # every 哪 word (哪一年, 哪国) asks, it doesn't say
        stopped = in_stop | np.fromiter((w[0] == "哪" for w in unique), dtype=bool, count=len(unique))
        # search mode gives each word of the plain cut after the shorter words inside it: a plain
        # word is one that no later token starts before the end of
        later = np.minimum.accumulate(starts[::-1])[::-1]
        plain = np.append(later[1:], len(cp)) >= ends
        cut = plain & stopped[local]
        inside = np.cumsum(np.bincount(starts[cut], minlength=len(cp) + 1) - np.bincount(ends[cut], minlength=len(cp) + 1))
        keep = inside[:-1] == 0
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        first = cp[starts]
        ok = (first >= 0x3400) & (first <= 0x9FFF) & (kept_before[ends] > kept_before[starts])
        ok &= ~in_stop[local]
        ids = np.full(len(unique), -1, dtype=np.int64)
        wanted = np.unique(local[ok])
        ids[wanted] = np.fromiter((vocab.setdefault(unique[i], len(vocab)) for i in wanted.tolist()), dtype=np.int64,
                                  count=len(wanted))
        return ids[local[ok]], starts[ok], ends[ok], keep

    def others(self, joined: str, vocab: dict[str, int]):
        """Numbers (13,600 → 13600) and Latin words, stemmed, with identifiers' parts."""
        found: list[tuple[str, int, int]] = []
        for match in OTHER.finditer(joined):
            start, end = match.span()
            if match.lastgroup == "num":
                found.append((match.group().replace(",", ""), start, end))
            else:
                found += self.word_tokens(match.group(), start)
        found += numerals.terms(joined)  # 两万七千 → 27000, beside the characters
        if not found:
            return empty()
        terms, starts, ends = zip(*found)
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), dtype=np.int64, count=len(terms))
        return ids, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech tag) pairs of already normalised ``text``, jieba's tag set
        (nr a person, ns a place, t a time, m a numeral)."""
        return self.jieba.tag(text, hmm=self.settings.hmm)

    def word_tokens(self, word: str, offset: int) -> list[tuple[str, int, int]]:
        """An identifier gives its parts and, when it has several, the parts joined (RoI-Align → roialign)."""
        parts = [(m.group(), m.start(), m.end()) for m in re.finditer(r"[a-z]+|\d+(?:\.\d+)?", word)]
        # stopwords are checked before stemming: "does" would stem to "doe" and slip through
        out = [(self.stem(p), offset + s, offset + e) for p, s, e in parts if p not in self.stopwords]
        if len(parts) > 1:
            out.append(("".join(p for p, _, _ in parts), offset, offset + len(word)))
        return out

    def stem(self, word: str) -> str:
        if not self.settings.stem or not word.isalpha():
            return word
        return self.stemmer.stemWord(word)


def read_user_dict(path: str) -> list[tuple[str, int | None, str | None]]:
    """Entries of a jieba user dictionary: ``word [freq] [tag]`` a line."""
    from .errors import CorpusError

    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read the user dictionary {path}: {exc}; give a UTF-8 file, "
                          "one 'word [freq] [tag]' a line (analysis.user_dict in config.yaml)") from None
    out = []
    for line in lines:
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        out.append((parts[0], freq, tag))
    return out


@lru_cache(maxsize=1)
def nfkc_table() -> dict[int, str]:
    """NFKC for each Basic Multilingual Plane character whose NFKC form is one other character
    (full-width → half-width, compatibility ideographs): a str.translate table, so normalising
    runs at C speed and never changes the text's length."""
    table = {}
    for code in range(0x10000):
        ch = chr(code)
        if 0xD800 <= code < 0xE000:
            continue  # surrogates
        form = unicodedata.normalize("NFKC", ch)
        if form != ch and len(form) == 1:
            table[code] = form
    return table


def nfkc(text: str) -> str:
    """``nfkc_table`` applied as an array lookup over the code points (str.translate with a
    dict looks each character up in Python's dict: four times slower)."""
    try:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:  # a lone surrogate (from a badly decoded question)
        return text.translate(nfkc_table())
    return np.where(codes < 0x10000, nfkc_array()[codes & 0xFFFF], codes).tobytes().decode("utf-32-le")


@lru_cache(maxsize=1)
def nfkc_array() -> np.ndarray:
    table = np.arange(0x10000, dtype=np.uint32)
    for code, form in nfkc_table().items():
        table[code] = ord(form)
    return table


@lru_cache(maxsize=4)
def stop_chars(stopwords: frozenset[str]) -> np.ndarray:
    """A table over the Basic Multilingual Plane: True at the one-character stopwords."""
    table = np.zeros(0x10000, dtype=bool)
    table[[ord(w) for w in stopwords if len(w) == 1 and ord(w) < 0x10000]] = True
    return table


def dense(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct codes, sorted; each code's place among them): np.unique with return_inverse,
    made of one argsort, which is about three times faster on a chunk's million codes."""
    order = np.argsort(codes)
    ordered = codes[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    places = np.empty(len(codes), dtype=np.int64)
    places[order] = np.cumsum(new) - 1
    return ordered[new], places


def empty():
    nothing = np.zeros(0, dtype=np.int64)
    return nothing, nothing, nothing


def same_length(text: str, change) -> str:
    """``change(text)`` when it keeps the length (almost always), else applied char by char,
    keeping any char whose change would alter the length (ﬁ, İ, ½)."""
    changed = change(text)
    if len(changed) == len(text):
        return changed
    return "".join(c if len(c := change(ch)) == 1 else ch for ch in text)
