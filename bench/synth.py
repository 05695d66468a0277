"""A deterministic synthetic Chinese corpus, sized in passages, for the benchmark.

Words are drawn from jieba's own dictionary (``jieba/dict.txt``) in proportion to
their frequency, so the text has a realistic Zipf vocabulary and jieba segments it
about as it segments real text. Sentences of 10–46 words (a comma now and then) end
in 。！？; paragraphs hold 2–6 sentences; articles 2–6 paragraphs. Articles are
generated until ``retrieval.passages.split_article`` (with the passage settings
``open_searcher`` uses) makes ``passages`` passages,
so the count is exact, not estimated. Same (passages, seed): same bytes.
"""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from retrieval.articles import Article  # noqa: E402
from retrieval.passages import split_article  # noqa: E402

ENDS = np.array(["。", "！", "？"])
END_P = [0.8, 0.1, 0.1]
COMMA_P = 0.08  # per word: a ，after it


@lru_cache(maxsize=1)
def dictionary() -> tuple[np.ndarray, np.ndarray]:
    """(words, cumulative probability) from the dict.txt shipped inside the jieba package."""
    import jieba

    words, freqs = [], []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ")
            if len(parts) >= 2 and parts[0] and parts[1].isdigit() and int(parts[1]) > 0:
                words.append(parts[0])
                freqs.append(int(parts[1]))
    cum = np.cumsum(np.asarray(freqs, dtype=np.float64))
    return np.asarray(words, dtype=object), cum / cum[-1]


class Generator:
    """Articles from one seeded RNG; ``article()`` gives (title, text)."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.words, self.cum = dictionary()

    def draw(self, n: int) -> list[str]:
        # searchsorted on the cumulative distribution: one vectorised draw for many words
        return self.words[np.searchsorted(self.cum, self.rng.random(n), side="right")].tolist()

    def sentence(self) -> str:
        n = int(self.rng.integers(10, 47))
        words = self.draw(n)
        commas = self.rng.random(n - 1) < COMMA_P
        parts = [w + ("，" if c else "") for w, c in zip(words, commas)]
        return "".join(parts) + words[-1] + str(self.rng.choice(ENDS, p=END_P))

    def paragraph(self) -> str:
        return "".join(self.sentence() for _ in range(int(self.rng.integers(2, 7))))

    def article(self) -> tuple[str, str]:
        title = "".join(self.draw(int(self.rng.integers(2, 5))))
        text = "\n\n".join(self.paragraph() for _ in range(int(self.rng.integers(2, 7))))
        return title, text


def splitter(settings=None):
    """``split_article`` with the passage settings ``open_searcher`` uses (whichever it has)."""
    if settings is None:
        from retrieval.store import RetrievalSettings

        settings = RetrievalSettings()
    args = [settings.passage_target, settings.passage_max]
    if hasattr(settings, "passage_overlap"):
        args.append(settings.passage_overlap)
    return lambda article: split_article(article, *args)


def write_corpus(path: Path, passages: int, seed: int = 0, settings=None) -> dict:
    """Write a JSONL corpus ({"title", "text"}) that splits into ``passages`` passages or just over."""
    gen, split = Generator(seed), splitter(settings)
    made = articles = chars = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        while made < passages:
            title, text = gen.article()
            made += sum(1 for _ in split(Article(str(articles), title, "", text)))
            articles += 1
            chars += len(text)
            f.write(json.dumps({"title": title, "text": text}, ensure_ascii=False) + "\n")
    return {"path": str(path), "articles": articles, "passages": made, "chars": chars, "seed": seed}


def questions_from(terms: list[list[str]], count: int, seed: int = 1, low: int = 3, high: int = 6) -> list[str]:
    """Questions of 3–6 distinct words from random passages (jieba words, not bigram terms)."""
    from retrieval.analysis import BIGRAM

    rng = np.random.default_rng(seed)
    out: list[str] = []
    tries = 0
    while len(out) < count and tries < 100 * count:
        tries += 1
        words = list(dict.fromkeys(t for t in terms[int(rng.integers(len(terms)))] if not t.startswith(BIGRAM)))
        if len(words) < low:
            continue
        n = int(rng.integers(low, min(high, len(words)) + 1))
        picked = rng.choice(len(words), size=n, replace=False)
        out.append("".join(words[i] for i in sorted(picked)) + "？")
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("passages", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    print(json.dumps(write_corpus(parser.parse_args().out, parser.parse_args().passages, parser.parse_args().seed)))
