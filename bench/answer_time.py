"""What the answer span adds to a question's time: median search time with and without it.

Run: python bench/answer_time.py GOLD.jsonl CORPUS [N]  (first N questions, default 400)
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.evaluation import read_gold  # noqa: E402
from retrieval import search  # noqa: E402
from retrieval.errors import QuestionError  # noqa: E402
from retrieval.store import open_searcher  # noqa: E402


def median_ms(searcher, items) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        try:
            searcher.search(item["question"], 5, item.get("context") or [])
        except QuestionError:
            pass
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    gold, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    settings = load_settings(ROOT / "config.yaml")
    searcher = open_searcher([corpus], settings.retrieval(), settings.index_dir).searcher
    items = [item for _, item in read_gold(gold) if not isinstance(item, str)][:count]
    median_ms(searcher, items)  # warm: jieba, OpenCC, the page cache
    with_answer = min(median_ms(searcher, items) for _ in range(2))
    real = search.find_answer
    search.find_answer = lambda *args, **kwargs: None  # the search alone
    try:
        without = min(median_ms(searcher, items) for _ in range(2))
    finally:
        search.find_answer = real
    print(f"median per question: {with_answer:.2f} ms with the answer span, {without:.2f} ms without "
          f"(+{with_answer - without:.2f} ms)")


if __name__ == "__main__":
    main()
