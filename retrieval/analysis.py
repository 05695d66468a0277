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
from typing import NamedTuple

DATA = Path(__file__).parent / "data"
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Han runs; Latin identifiers (RoI-Align, x86_64, 3.5-turbo); numbers with , or . inside.
TOKEN = re.compile(
    rf"(?P<han>[{HAN}]+)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![a-z])"
    r"|(?P<word>[a-z0-9]+(?:[-_.'][a-z0-9]+)*)"
)
BIGRAM = "\u00b7"  # marks Han-character bigram terms, kept apart from jieba words
UNIGRAM = "\u2022"  # marks single Han-character terms, kept apart from one-character words


class Token(NamedTuple):
    term: str
    start: int
    end: int


@dataclass(frozen=True)
class AnalysisSettings:
    bigrams: bool = True
    unigrams: bool = True  # single Han characters too: a finer recall net than bigrams
    stem: bool = True
    user_dict: str | None = None
    hmm: bool = False  # jieba's HMM guesses new words ("钱会"); bigrams already catch unknown words

    def key(self) -> dict:
        return {"bigrams": self.bigrams, "unigrams": self.unigrams, "stem": self.stem, "user_dict": self.user_dict, "hmm": self.hmm,
                "version": 5}


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
        text = text.translate(nfkc_table())
        text = same_length(text, self.converter.convert)
        return same_length(text, str.lower)

    def tokens(self, text: str) -> list[Token]:
        """Every term of ``text`` with its offsets, stopwords dropped."""
        return [Token(*span) for span in self.spans(text)]

    def terms(self, text: str) -> list[str]:
        """The terms alone: what the index counts (no Token records: indexing time is in here)."""
        return [span[0] for span in self.spans(text)]

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        norm = self.normalise(text)
        stop, hmm = self.stopwords, self.settings.hmm
        # the segmenter runs once over the whole text (a call per Han run costs more than the
        # segmenting); its Han words are kept, Latin words and numbers come from TOKEN below
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
        return out

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


def same_length(text: str, change) -> str:
    """``change(text)`` when it keeps the length (almost always), else applied char by char,
    keeping any char whose change would alter the length (ﬁ, İ, ½)."""
    changed = change(text)
    if len(changed) == len(text):
        return changed
    return "".join(c if len(c := change(ch)) == 1 else ch for ch in text)
