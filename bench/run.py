"""qabot's benchmark: build, load, memory, question latency, against tantivy, bm25s and rank-bm25.

    .venv/bin/python bench/run.py [--sizes 10000,100000] [--real] [--out bench/results/latest.json]

Synthetic corpora (``synth.py``) of each size in passages, asked real questions (CMRC 2018
trial and DRCD dev, their words are dictionary words) and, as a second row, toy questions
(3–6 words of a passage); with ``--real`` the CMRC and DRCD corpora with their own questions.
Prints two tables (build; questions), the targets, writes the JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

import numpy as np  # noqa: E402

import measure  # noqa: E402
import refs  # noqa: E402
import synth  # noqa: E402
from retrieval.store import RetrievalSettings, open_searcher  # noqa: E402


def source_digest(folder: Path = ROOT / "retrieval") -> str:
    """Of retrieval/*.py: a run whose code changed under it measured two different programs."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


IMPORTED = source_digest()  # the code this process runs

REAL = ROOT.parent / "shared" / "eval" / "ext"
REAL_SETS = ("cmrc2018-trial", "drcd-dev")


def gold_questions(paths: list[Path], count: int, seed: int) -> list[str]:
    """``count`` questions drawn (seeded) from gold sets, those that stand alone (no context turns)."""
    qs = []
    for path in paths:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        qs += [g["question"] for g in lines if not g.get("context")]
    pick = np.random.default_rng(seed).choice(len(qs), size=min(count, len(qs)), replace=False)
    return [qs[i] for i in sorted(pick)]


def bench_corpus(name: str, paths: list[str], question_sets, work: Path, settings: RetrievalSettings,
                 probe: bool = True, cli: bool = True) -> dict:
    """Every measure for one corpus; ``question_sets(bags)``: {name: questions}, the first the
    headline; ``work`` holds the index and, in ``work/code``, retrieval/ as imported."""
    index_dir = work / f"index-{name}"
    build, opened = measure.build(paths, index_dir, settings)
    del opened  # the server's view is the saved index, memory-mapped: reopen it
    gc.collect()
    load_s, reopened = measure.timed(open_searcher, paths, settings, index_dir)
    searcher = reopened.searcher
    bags = refs.Bags(searcher.index)  # each passage's terms, for the questions and the references
    sets = question_sets(bags)
    headline = next(iter(sets.values()))
    searcher.analyzer.terms("预热 warm up")  # the segmenter loads here, not in the first timed question
    out = {"name": name, "passages": len(searcher.passages), "articles": len(searcher.articles),
           "build": build, "disk": measure.disk(reopened.folder),
           "load": {"in_process_s": load_s, "reused_cache": not reopened.built}}
    out["build"]["tokens"] = bags.tokens()
    out["build"]["window_overlap"] = sum(len(p.text) for p in searcher.passages) / max(
        1, sum(len(a.text) for a in searcher.articles.values()))
    if probe:
        out["load"]["fresh_process"] = measure.probe(paths, index_dir, headline, work, work / "code")
        if not out["load"]["fresh_process"].get("reused_cache", True):
            out.setdefault("notes", []).append("the fresh process rebuilt the index instead of loading it: "
                                               "its load time and memory are not a load's")
    if cli:
        out["batch_cli"] = measure.batch_cli(paths, index_dir, headline, work, settings, work / "code")
        if out["batch_cli"].get("rebuilt") or out["batch_cli"].get("skipped"):
            out.setdefault("notes", []).append(f"qabot batch: {out['batch_cli']}")
    references = refs.References(searcher, bags, settings.bm25)
    out["questions"] = {}
    for set_name, questions in sets.items():
        out["questions"][set_name] = {
            "n": len(questions), "latency": measure.latency(searcher, questions),
            "batch_qps": measure.batch_qps(searcher, questions),
            "engines": refs.compare(searcher, references, questions)}
    del searcher, reopened, bags, references
    gc.collect()
    shutil.rmtree(index_dir, ignore_errors=True)
    return out


def fresh(r: dict) -> dict:
    f = r["load"].get("fresh_process", {})
    return f if f.get("reused_cache", False) else {}  # it rebuilt (or failed): no load to report


def fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def build_row(r: dict) -> list[str]:
    b, fp, cli = r["build"], fresh(r), r.get("batch_cli", {})
    return [r["name"], f"{r['passages']:,}", fmt(b["text_mb"], ".1f"), fmt(b["total_s"], ".1f"),
            fmt(b["mb_per_s"], ".2f"), fmt(b["analyse_mb_per_s"], ".2f"), fmt(r["disk"]["total_mb"], ".0f"),
            fmt(fp.get("load_s"), ".2f"), fmt(fp.get("maxrss_mb"), ".0f"), fmt(cli.get("qps_wall"), ".0f")]


BUILD_HEADER = ["corpus", "passages", "MB", "build s", "build MB/s", "analyse MB/s", "disk MB", "load s",
                "RSS MB", "CLI q/s"]


def question_row(r: dict, set_name: str) -> list[str]:
    q = r["questions"][set_name]
    lat, e = q["latency"]["search_ms"], q["engines"]
    ratio = e["ratios"]

    def ms(name, *ps):
        return "/".join(fmt(e[name].get(p), ".1f" if e[name].get(p, 0) >= 10 else ".2f") for p in ps)

    def times(name, *ps):
        x = ratio.get(name)
        return "-" if x is None else "/".join(fmt(x[p], ".2f" if x[p] < 10 else ".0f") for p in ps)

    return [r["name"], set_name, str(q["n"]), f"{lat['p50']:.2f}/{lat['p95']:.1f}/{lat['p99']:.1f}",
            fmt(q["batch_qps"], ".0f"), ms("qabot_top", "p50", "p99"), ms("tantivy", "p50", "p99"),
            ms("bm25s_terms", "p50"), ms("bm25s_jieba", "p50", "p99"), ms("rank_bm25_jieba", "p50"),
            times("tantivy", "p50", "p99"), times("bm25s_jieba", "p50", "p99"), times("rank_bm25_jieba", "p50")]


QUESTION_HEADER = ["corpus", "questions", "n", "search ms p50/95/99", "batch q/s", "top ms p50/99",
                   "tantivy ms p50/99", "bm25s terms ms", "bm25s jieba ms p50/99", "rank jieba ms",
                   "tantivy/qabot p50/99", "bm25s jieba/qabot p50/99", "rank/qabot"]


def table(results: list[dict]) -> str:
    builds = [build_row(r) for r in results]
    questions = [question_row(r, name) for r in results for name in r["questions"]]
    return markdown(BUILD_HEADER, builds) + "\n\n" + markdown(QUESTION_HEADER, questions)


def markdown(header: list[str], rows: list[list[str]]) -> str:
    rows = [header] + rows
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


TARGET_SIZE = 1_000_000


def targets(results: list[dict]) -> list[dict]:
    """The targets (issue 19), checked on the biggest synthetic corpus with real questions."""
    synth_runs = [r for r in results if r["name"].startswith("synth-")]
    if not synth_runs:
        return []
    r = max(synth_runs, key=lambda x: x["passages"])
    at = f"{r['name']} ({r['passages']:,} passages), real questions" + (
        "" if r["passages"] >= TARGET_SIZE else f"; the targets are stated for {TARGET_SIZE:,}")
    q, fp = r["questions"]["real"], fresh(r)
    lat, ratio = q["latency"]["search_ms"], q["engines"]["ratios"]
    out = []

    def check(name, value, goal, holds, how="", unit=""):
        out.append({"target": name, "value": value, "goal": goal, "holds": None if value is None else holds(value),
                    "how": how, "unit": unit, "at": at})

    check("question p50, everything included", lat["p50"], "≤ 5 ms", lambda v: v <= 5, "", " ms")
    check("question p99, everything included", lat["p99"], "≤ 20 ms", lambda v: v <= 20, "", " ms")
    for name, label, goal in (("bm25s_jieba", "bm25s on jieba words", 1.5), ("tantivy", "tantivy-py on qabot's terms", 1.0)):
        for p in ("p50", "p99"):
            value = ratio[name][p] if ratio.get(name) else None
            check(f"vs {label} at {p}", value, f"≥ {goal}×", lambda v, g=goal: v >= g, "", "×")
    rank, how = rank_ratio(synth_runs, r)
    check("vs rank-bm25 on jieba words at p50", rank, "≥ 300×", lambda v: v >= 300, how, "×")
    check("index build", r["build"]["mb_per_s"], "≥ 6 MB/s", lambda v: v >= 6, "open_searcher(rebuild=True)", " MB/s")
    check("load, fresh process", fp.get("load_s"), "≤ 1 s", lambda v: v <= 1, "", " s")
    check("peak memory, fresh process", fp.get("maxrss_mb"), "≤ 1536 MB", lambda v: v <= 1536,
          "VmHWM after load and 20 questions", " MB")
    return out


def rank_ratio(synth_runs: list[dict], r: dict) -> tuple[float | None, str]:
    """rank-bm25 over qabot at ``r``; above the size rank-bm25 runs at, its time at the biggest
    run of it scaled linearly in passages."""
    ratio = r["questions"]["real"]["engines"]["ratios"].get("rank_bm25_jieba")
    if ratio:
        return ratio["p50"], "measured"
    timed_runs = [x for x in synth_runs if x["questions"]["real"]["engines"]["rank_bm25_jieba"].get("n")]
    if not timed_runs:
        return None, "rank-bm25 not run"
    base = max(timed_runs, key=lambda x: x["passages"])
    base_ms = base["questions"]["real"]["engines"]["rank_bm25_jieba"]["p50"]
    rank_ms = base_ms * r["passages"] / base["passages"]
    own = r["questions"]["real"]["engines"]["qabot_search"]["p50"]
    return rank_ms / own, (f"rank-bm25 not run at this size: its {base_ms:.0f} ms at {base['passages']:,} "
                           f"passages scaled linearly to {rank_ms:.0f} ms")


def target_lines(checks: list[dict]) -> list[str]:
    lines = [f"Targets at {checks[0]['at']}:"] if checks else []
    for c in checks:
        mark = {True: "HOLDS", False: "MISSED", None: "not measured"}[c["holds"]]
        value = "-" if c["value"] is None else f"{c['value']:.3g}{c['unit']}"
        lines.append(f"  {mark:12} {c['target']}: {value} (goal {c['goal']})" + (f" — {c['how']}" if c["how"] else ""))
    return lines


def run(sizes: list[int], real: bool, n_questions: int = 200, seed: int = 0, work: Path | None = None,
        probe: bool = True, cli: bool = True, log=print) -> dict:
    settings = RetrievalSettings()
    have_real = all((REAL / f"{name}.gold.jsonl").exists() for name in REAL_SETS)
    own = work is None
    work = Path(tempfile.mkdtemp(prefix="qabot-bench-")) if own else work
    results = []
    load_before = os.getloadavg()
    code = work / "code"  # retrieval/ as imported, for the fresh-process probe
    shutil.copytree(ROOT / "retrieval", code / "retrieval", ignore=shutil.ignore_patterns("__pycache__"),
                    dirs_exist_ok=True)
    if source_digest(code / "retrieval") != IMPORTED:
        log("Warning: retrieval/ changed since it was imported; the fresh-process probe may run other code")
    real_questions = [REAL / f"{name}.gold.jsonl" for name in REAL_SETS]
    try:
        for size in sizes:
            t = time.perf_counter()
            corpus = synth.write_corpus(work / f"synth-{size}.jsonl", size, seed, settings)
            log(f"synth-{size}: {corpus['articles']} articles, {corpus['passages']} passages "
                f"generated in {time.perf_counter() - t:.1f}s; measuring…")
            sets = lambda bags: {  # noqa: E731
                **({"real": gold_questions(real_questions, n_questions, seed + 1)} if have_real else {}),
                "toy": synth.questions_from(bags, n_questions, seed + 1)}
            results.append(bench_corpus(f"synth-{size}", [corpus["path"]], sets, work, settings, probe, cli))
            results[-1]["synth"] = corpus
            Path(corpus["path"]).unlink(missing_ok=True)
            log(table(results[-1:]))
        for name in REAL_SETS if real else ():
            log(f"{name}: measuring…")
            results.append(bench_corpus(
                name, [str(REAL / f"{name}.corpus.jsonl")],
                lambda bags, name=name: {"real": gold_questions([REAL / f"{name}.gold.jsonl"], n_questions, seed + 1)},
                work, settings, probe, cli))
            log(table(results[-1:]))
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    info = meta(settings, load_before)
    info["retrieval_changed_during_run"] = source_digest() != IMPORTED
    return {"meta": info, "corpora": results, "targets": targets(results)}


def meta(settings: RetrievalSettings, load_before) -> dict:
    import dataclasses

    import bm25s

    return {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": platform.python_version(),
            "numpy": np.__version__, "jieba": _version("jieba"), "bm25s": bm25s.__version__,
            "rank_bm25": _version("rank-bm25"), "rjieba": _version("rjieba"), "tantivy": _version("tantivy"), "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(), "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            "settings": json.loads(json.dumps(dataclasses.asdict(settings), default=str))}


def machine(m: dict) -> str:
    return (f"Machine: {m['cpus']} CPUs ({m.get('cpu_model', '?')}), {m.get('mem_gb', 0):.0f} GB; "
            f"load {m['loadavg_before'][0]:.2f} before, {m['loadavg_after'][0]:.2f} after; "
            f"Python {m['python']}, numpy {m['numpy']}, bm25s {m['bm25s']}, rank-bm25 {m['rank_bm25']}, "
            f"rjieba {m.get('rjieba')}, tantivy {m.get('tantivy')}")


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="synthetic corpus sizes in passages (0 for none)")
    parser.add_argument("--real", action="store_true", help="also the CMRC and DRCD corpora")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--no-probe", action="store_true", help="skip the fresh-process load/memory probe")
    parser.add_argument("--no-cli", action="store_true", help="skip `qabot batch` run as a subprocess")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip() and int(s) > 0]
    report = run(sizes, args.real, args.questions, args.seed, probe=not args.no_probe, cli=not args.no_cli,
                 log=lambda m: print(m, file=sys.stderr, flush=True))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(table(report["corpora"]))
    for r in report["corpora"]:
        notes = {n for q in r["questions"].values() for n in q["engines"]["notes"]}
        for note in sorted(notes) + r.get("notes", []):
            print(f"{r['name']}: {note}")
    if report["meta"]["retrieval_changed_during_run"]:
        print("Note: retrieval/*.py changed during the run (this process and its probes ran the code as it "
              "was at the start)")
    for line in target_lines(report["targets"]):
        print(line)
    print(machine(report["meta"]))
    print(f"JSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
