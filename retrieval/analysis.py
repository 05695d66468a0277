"""Text analysis shared by passages and questions: normalise, then tokenise.

The only module that imports the segmenter (rjieba), OpenCC and the stemmer (all loaded late).
Normalisation keeps the length of the text, so a token's offsets in the
normalised text are its offsets in the original: that is what highlighting uses.
"""
from __future__ import annotations

import contextlib
import hashlib
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
# The term rules, each stated once; ``Analyzer.spans`` (one short text, Python) and
# ``Analyzer.analyse`` (many texts, array operations) both read them.
# Latin identifiers (RoI-Align, x86_64, 3.5-turbo); numbers with , or . inside.
OTHER = re.compile(r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![a-z\d])"
                   r"|(?P<word>[a-z0-9]+(?:[-_.'][a-z0-9]+)*)")
HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))  # what bigrams and characters are made of
WORD_FIRST = (0x3400, 0x9FFF)  # a jieba word is a term when its first character is in here
ASKING = "哪"  # a word starting with it (哪一年, 哪国) asks, it doesn't say: masked like a stopword
SHORT = 4000  # characters: a text up to this long is analysed in Python (numpy's calls cost more)


def masks(word: str, stop: frozenset[str]) -> bool:
    """Does a word of the plain cut hide its characters (a stopword or a question word)?"""
    return word in stop or word.startswith(ASKING)


def word_term(word: str, stop: frozenset[str]) -> bool:
    """Is a word of jieba's search mode a term (if a character of it is not masked)?"""
    return WORD_FIRST[0] <= ord(word[0]) <= WORD_FIRST[1] and word not in stop


@lru_cache(maxsize=1)
def han_table() -> np.ndarray:
    """True at the code points of ``HAN_RANGES``, over the Basic Multilingual Plane."""
    table = np.zeros(0x10000, dtype=bool)
    for low, high in HAN_RANGES:
        table[low:high + 1] = True
    return table


def is_han(ch: str) -> bool:
    """One character in ``HAN_RANGES`` (``han`` does the same over an array of code points)."""
    return any(low <= ord(ch) <= high for low, high in HAN_RANGES)


HAN_CLASS = "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in HAN_RANGES)  # for a regex [...]


def han(cp: np.ndarray) -> np.ndarray:
    return (cp < 0x10000) & han_table()[cp & 0xFFFF]


def grams_of(cp: np.ndarray, keep: np.ndarray, stop: frozenset[str], settings: "AnalysisSettings"):
    """Han bigrams and single characters of code points ``cp`` where ``keep`` (not masked):
    ([codes], [starts], [lengths]) by kind, bigrams of two kept Han characters side by side,
    characters kept and no stopword alone."""
    kept = han(cp) & keep
    codes, starts, lengths = [], [], []
    if settings.bigrams:
        at = np.flatnonzero(kept[:-1] & kept[1:])
        codes.append(grams.bigram_codes(cp[at], cp[at + 1]))
        starts.append(at)
        lengths.append(2)
    if settings.unigrams:
        at = np.flatnonzero(kept & ~stop_chars(stop)[np.where(kept, cp, 0)])
        codes.append(cp[at])
        starts.append(at)
        lengths.append(1)
    return codes, starts, lengths


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


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


LIBRARIES = ("rjieba", "jieba", "opencc", "PyStemmer")  # their versions can change the terms


def rules_fingerprint(settings: AnalysisSettings) -> dict:
    """What else the terms depend on: a digest of the rule files (``data/*.txt``) and of the user
    dictionary, and the versions of the analysis libraries. Part of the index's cache key, so a
    changed stopword list or an upgraded segmenter makes the saved index stale."""
    digest = hashlib.sha256()
    files = sorted(DATA.glob("*.txt")) + ([Path(settings.user_dict)] if settings.user_dict else [])
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with contextlib.suppress(OSError):  # an unreadable user dictionary is said when it is read
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return {"files": digest.hexdigest(), "libraries": library_versions()}


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


class Analyzer:
    """Turns text into terms; ``tokens`` keeps offsets, ``terms`` is what BM25 counts."""

    def __init__(self, settings: AnalysisSettings = AnalysisSettings()):
        self.settings = settings
        self.known: dict[str, tuple[bool, bool]] = {}  # ``rule`` of the words seen

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

    def rule(self, word: str) -> tuple[bool, bool]:
        """(``masks``, ``word_term``) of a word, remembered: words come back text after text."""
        known = self.known
        if len(known) > 200_000:
            known.clear()
        found = known[word] = (masks(word, self.stopwords), word_term(word, self.stopwords))
        return found

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

    def terms(self, text: str) -> list[str]:
        """The terms alone: what the index counts."""
        return [span[0] for span in self.spans(text)]

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """(term, start, end) of each term of one text. A question or a passage is analysed here,
        with few array operations, a few times faster on a short text than ``analyse``, which
        indexing uses; the rules are the same and so are the terms (tests/test_analysis.py)."""
        if len(text) > SHORT:
            found = self.analyse([text])
            return list(zip(found.term_list(), found.start.tolist(), found.end.tolist()))
        norm = self.normalise(text)
        found = self.jieba.tokenize(norm, mode="search", hmm=self.settings.hmm)
        keep = bytearray(b"\x01") * len(norm)  # 0 where a stopword or question word stands
        known, rule = self.known, self.rule
        for i in plain_cut([s for _, s, _ in found], [e for _, _, e in found], len(norm)).tolist():
            word, s, e = found[i]
            if (known.get(word) or rule(word))[0]:
                keep[s:e] = bytes(e - s)
        out = [(w, s, e) for w, s, e in found if (known.get(w) or rule(w))[1] and any(keep[s:e])]
        out += self.other_tokens(norm)
        codes, starts, lengths = grams_of(code_points(norm), np.frombuffer(keep, dtype=bool), self.stopwords,
                                          self.settings)
        for at, n in zip(starts, lengths):  # the grams' terms are the text there, marked
            marker = BIGRAM if n == 2 else UNIGRAM
            out += [(marker + norm[i:i + n], i, i + n) for i in at.tolist()]
        return out

    def analyse(self, texts: Sequence[str]) -> Analysed:
        """The terms of many texts at once: jieba words, Han bigrams and single characters
        found with array operations over the code points (they are most of the terms, and a
        Python loop per character was most of indexing time), numbers and Latin words.
        The texts are segmented as one, joined by line breaks, which no term crosses."""
        joined = self.normalise_joined(texts)
        cp = code_points(joined)
        vocab: dict[str, int] = {}
        word_ids, starts, ends, keep = self.words(joined, cp, vocab)
        others = self.others(joined, vocab)
        codes, gram_starts, lengths = grams_of(cp, keep, self.stopwords, self.settings)
        codes, gram_starts, lengths = [np.zeros(0, np.int64)] + codes, [np.zeros(0, np.int64)] + gram_starts, [0] + lengths
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
        known, rule = self.known, self.rule
        rules = [known.get(w) or rule(w) for w in unique]
        stopped = np.fromiter((r[0] for r in rules), dtype=bool, count=len(unique))
        cut = np.zeros(len(words), dtype=bool)
        cut[plain_cut(starts, ends, len(cp))] = True
        cut &= stopped[local]
        inside = np.cumsum(np.bincount(starts[cut], minlength=len(cp) + 1) - np.bincount(ends[cut], minlength=len(cp) + 1))
        keep = inside[:-1] == 0
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        is_term = np.fromiter((r[1] for r in rules), dtype=bool, count=len(unique))
        ok = is_term[local] & (kept_before[ends] > kept_before[starts])
        ids = np.full(len(unique), -1, dtype=np.int64)
        wanted = np.flatnonzero(np.bincount(local[ok], minlength=len(unique)))  # np.unique hashes: slower
        ids[wanted] = np.fromiter((vocab.setdefault(unique[i], len(vocab)) for i in wanted.tolist()), dtype=np.int64,
                                  count=len(wanted))
        return ids[local[ok]], starts[ok], ends[ok], keep

    def others(self, joined: str, vocab: dict[str, int]):
        """``other_tokens`` as (term ids in ``vocab``, starts, ends)."""
        found = self.other_tokens(joined)
        if not found:
            return empty()
        terms, starts, ends = zip(*found)
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), dtype=np.int64, count=len(terms))
        return ids, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)

    def other_tokens(self, text: str) -> list[tuple[str, int, int]]:
        """Numbers (13,600 → 13600) and Latin words, stemmed, with identifiers' parts."""
        found: list[tuple[str, int, int]] = []
        for match in OTHER.finditer(text):
            start, end = match.span()
            if match.lastgroup == "num":
                found.append((match.group().replace(",", ""), start, end))
            else:
                found += self.word_tokens(match.group(), start)
        return found + numerals.terms(text)  # 两万七千 → 27000, beside the characters

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
    from .errors import AnalysisError

    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"cannot read the user dictionary {path}: {exc}; give a UTF-8 file, "
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


def plain_cut(starts: Sequence[int], ends: Sequence[int], length: int) -> np.ndarray:
    """Which tokens of jieba's search mode are words of its plain cut: search mode gives each
    plain word after the shorter words inside it, so a plain word is one that no later token
    starts before the end of."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    later = np.minimum.accumulate(starts[::-1])[::-1]
    return np.flatnonzero(np.append(later[1:], length) >= ends)


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
