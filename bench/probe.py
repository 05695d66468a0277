"""Run in a fresh process: open a built index, report load time and resident memory as JSON.

Usage: probe.py INDEX_DIR QUESTIONS_JSON CORPUS... (QUESTIONS_JSON: a JSON list of strings).
Memory is VmRSS from /proc/self/status: after the imports, after ``open_searcher``
(arrays are memory-mapped, so only pages touched count), and after the questions;
``maxrss`` is the peak (VmHWM).
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# QABOT_BENCH_CODE: a copy of retrieval/ taken when the benchmark started, so this process
# runs the code the benchmark measured even when retrieval/ is edited meanwhile
for p in (str(ROOT), os.environ.get("QABOT_BENCH_CODE")):
    if p and p not in sys.path:
        sys.path.insert(0, p)


def status_mb(field: str) -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def rss_mb() -> float:
    return status_mb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def maxrss_mb() -> float:
    # VmHWM, not ru_maxrss: after fork+exec Linux keeps the parent's peak in ru_maxrss
    return status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> dict:
    index_dir, questions, corpus = Path(argv[0]), json.loads(Path(argv[1]).read_text()), argv[2:]
    t = time.perf_counter()
    from retrieval.store import RetrievalSettings, open_searcher

    out = {"import_s": time.perf_counter() - t, "rss_base_mb": rss_mb()}
    t = time.perf_counter()
    opened = open_searcher(corpus, RetrievalSettings(), index_dir)
    out.update(load_s=time.perf_counter() - t, rss_loaded_mb=rss_mb(), maxrss_loaded_mb=maxrss_mb(),
               reused_cache=not opened.built)
    t = time.perf_counter()
    opened.searcher.search(questions[0])  # jieba and OpenCC load here, on the first question
    out.update(first_question_s=time.perf_counter() - t, maxrss_first_question_mb=maxrss_mb())
    for q in questions[1:]:
        opened.searcher.search(q)
    out["rss_after_questions_mb"] = rss_mb()
    out["maxrss_mb"] = maxrss_mb()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
