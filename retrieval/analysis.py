"""Text analysis shared by passages and questions: normalise, then tokenise.

The only module that imports jieba, OpenCC and the stemmer (all loaded late).
Normalisation keeps the length of the text, so a token's offsets in the
normalised text are its offsets in the original: that is what highlighting uses.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
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


class Token(NamedTuple):
    term: str
    start: int
    end: int


@dataclass(frozen=True)
class AnalysisSettings:
    bigrams: bool = True
    stem: bool = True
    user_dict: str | None = None
    hmm: bool = False  # jieba's HMM guesses new words ("钱会"); bigrams already catch unknown words

    def key(self) -> dict:
        return {"bigrams": self.bigrams, "stem": self.stem, "user_dict": self.user_dict, "hmm": self.hmm,
                "version": 4}


class Analyzer:
    """Turns text into terms; ``tokens`` keeps offsets, ``terms`` is what BM25 counts."""

    def __init__(self, settings: AnalysisSettings = AnalysisSettings(), extra_words: tuple[str, ...] = ()):
        self.settings = settings
        self.extra_words = extra_words

    @cached_property
    def converter(self):
        import opencc  # heavy: loaded on first use

        return opencc.OpenCC("t2s")

    @cached_property
    def jieba(self):
        import jieba

        jieba.setLogLevel(60)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        if self.settings.user_dict:
            tokenizer.load_userdict(self.settings.user_dict)
        for word in self.extra_words:
            tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, False), 200))
        return tokenizer

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
        text = "".join(keep_length(ch, unicodedata.normalize("NFKC", ch)) for ch in text)
        simple = self.converter.convert(text)
        if len(simple) != len(text):  # a phrase mapping changed the length: convert char by char
            simple = "".join(keep_length(ch, self.converter.convert(ch)) for ch in text)
        return "".join(keep_length(ch, ch.lower()) for ch in simple)

    def tokens(self, text: str) -> list[Token]:
        """Every term of ``text`` with its offsets, stopwords dropped."""
        norm = self.normalise(text)
        out: list[Token] = []
        stop = self.stopwords
        for match in TOKEN.finditer(norm):
            start = match.start()
            if match.lastgroup == "han":
                out.extend(self.han_tokens(match.group(), start))
            elif match.lastgroup == "num":
                out.append(Token(match.group().replace(",", ""), start, match.end()))
            else:
                out.extend(t for t in self.word_tokens(match.group(), start) if t.term not in stop)
        return out

    def is_stop(self, term: str) -> bool:
        """Stopwords, and every word that starts with 哪 (哪一年, 哪国): they ask, they don't say."""
        return term in self.stopwords or term.startswith("哪")

    def terms(self, text: str) -> list[str]:
        return [t.term for t in self.tokens(text)]

    def han_tokens(self, run: str, offset: int) -> list[Token]:
        """jieba's search-mode words and the bigrams of a Han run, none inside a stopword:
        哪一年 is a question word, so neither 一年 nor ·一年 may come out of it."""
        keep = [True] * len(run)
        for word, s, e in self.jieba.tokenize(run, HMM=self.settings.hmm):
            if self.is_stop(word):
                keep[s:e] = [False] * (e - s)
        out = [Token(w, offset + s, offset + e)
               for w, s, e in self.jieba.tokenize(run, mode="search", HMM=self.settings.hmm)
               if any(keep[s:e]) and not self.is_stop(w)]
        if self.settings.bigrams:
            out += [Token(BIGRAM + run[i:i + 2], offset + i, offset + i + 2)
                    for i in range(len(run) - 1) if keep[i] and keep[i + 1]]
        return out

    def word_tokens(self, word: str, offset: int) -> list[Token]:
        """An identifier gives its parts and, when it has several, the parts joined (RoI-Align → roialign)."""
        parts = [(m.group(), m.start(), m.end()) for m in re.finditer(r"[a-z]+|\d+(?:\.\d+)?", word)]
        if len(parts) == 1 and parts[0][0] in self.stopwords:
            return []  # checked before stemming: "does" would stem to "doe" and slip through
        out = [Token(self.stem(p), offset + s, offset + e) for p, s, e in parts]
        if len(parts) > 1:
            out.append(Token("".join(p for p, _, _ in parts), offset, offset + len(word)))
        return out

    def stem(self, word: str) -> str:
        if not self.settings.stem or not word.isalpha():
            return word
        return self.stemmer.stemWord(word)


def keep_length(original: str, changed: str) -> str:
    return changed if len(changed) == len(original) else original
