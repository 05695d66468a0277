"""qabot's benchmark: build, load, memory, latency and scoring speed against rank-bm25 and bm25s.

    .venv/bin/python bench/run.py [--sizes 10000,100000] [--real] [--out bench/results/latest.json]

Synthetic corpora (``synth.py``) of each size in passages, and with ``--real`` the CMRC
and DRCD corpora with their gold questions. Prints a table, writes the JSON.
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


def gold_questions(path: Path, count: int, seed: int) -> list[str]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [g["question"] for g in lines if not g.get("context")]
    pick = np.random.default_rng(seed).choice(len(qs), size=min(count, len(qs)), replace=False)
    return [qs[i] for i in sorted(pick)]


def bench_corpus(name: str, paths: list[str], make_questions, work: Path, settings: RetrievalSettings,
                 probe: bool = True, cli: bool = True) -> dict:
    """Every measure for one corpus; ``work`` holds the index and, in ``work/code``, retrieval/ as imported."""
    index_dir = work / f"index-{name}"
    build, opened = measure.build(paths, index_dir, settings)
    del opened  # the server's view is the saved index, memory-mapped: reopen it
    gc.collect()
    load_s, reopened = measure.timed(open_searcher, paths, settings, index_dir)
    searcher = reopened.searcher
    bags = refs.Bags(searcher.index)  # each passage's terms, for the questions and the references
    questions = make_questions(bags)
    searcher.analyzer.terms("预热 warm up")  # the segmenter loads here, not in the first timed question
    out = {"name": name, "passages": len(searcher.passages), "articles": len(searcher.articles),
           "questions": len(questions), "build": build, "disk": measure.disk(reopened.folder),
           "load": {"in_process_s": load_s, "reused_cache": not reopened.built}}
    out["build"]["tokens"] = bags.tokens()
    out["build"]["window_overlap"] = sum(len(p.text) for p in searcher.passages) / max(
        1, sum(len(a.text) for a in searcher.articles.values()))
    if probe:
        out["load"]["fresh_process"] = measure.probe(paths, index_dir, questions, work, work / "code")
        if not out["load"]["fresh_process"].get("reused_cache", True):
            out.setdefault("notes", []).append("the fresh process rebuilt the index instead of loading it: "
                                               "its load time and memory are not a load's")
    out["latency"] = measure.latency(searcher, questions)
    out["batch_qps"] = measure.batch_qps(searcher, questions)
    if cli:
        out["batch_cli"] = measure.batch_cli(paths, index_dir, questions, work, settings, work / "code")
        if out["batch_cli"].get("rebuilt") or out["batch_cli"].get("skipped"):
            out.setdefault("notes", []).append(f"qabot batch: {out['batch_cli']}")
    queries = []
    for q in questions:
        try:
            queries.append(searcher.query(q)[1])
        except Exception:  # noqa: BLE001 — a question with no terms is simply not scored
            continue
    out["scoring"] = refs.compare(searcher.index, bags, [w for w in queries if w], settings.bm25)
    del searcher, reopened, bags
    gc.collect()
    shutil.rmtree(index_dir, ignore_errors=True)
    return out


def fresh(r: dict) -> dict:
    f = r["load"].get("fresh_process", {})
    return f if f.get("reused_cache", False) else {}  # it rebuilt (or failed): no load to report


def row(r: dict) -> list[str]:
    b, s, lat = r["build"], r["scoring"], r["latency"]["search_ms"]
    fp, cli = fresh(r), r.get("batch_cli", {})
    ratio = s["ratios"]
    f = lambda v, fmt: "-" if v is None else format(v, fmt)  # noqa: E731
    return [r["name"], f"{r['passages']:,}", f(b["text_mb"], ".1f"), f(b["total_s"], ".1f"), f(b["mb_per_s"], ".2f"),
            f(b["analyse_mb_per_s"], ".2f"), f(r["disk"]["total_mb"], ".0f"), f(fp.get("load_s"), ".2f"),
            f(fp.get("maxrss_mb"), ".0f"), f"{lat['p50']:.1f}/{lat['p95']:.1f}/{lat['p99']:.1f}",
            f(r["latency"]["analysis_ms"].get("p50"), ".2f"), f(r["batch_qps"], ".0f"), f(cli.get("qps_wall"), ".0f"),
            f(s["qabot"]["p50"], ".3f"), f(s["bm25s"]["p50"], ".3f"), f(s["rank_bm25"].get("p50"), ".1f"),
            f(ratio["bm25s_over_qabot"], ".1f"), f(ratio["rank_bm25_over_qabot"], ".0f")]


HEADER = ["corpus", "passages", "MB", "build s", "build MB/s", "analyse MB/s", "disk MB", "load s", "RSS MB",
          "search ms p50/95/99", "analysis ms", "batch q/s", "CLI q/s", "top ms", "bm25s ms", "rank ms",
          "bm25s/qabot", "rank/qabot"]


def table(results: list[dict]) -> str:
    rows = [HEADER] + [row(r) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


TARGET_SIZE = 1_000_000


def targets(results: list[dict]) -> list[dict]:
    """The targets, checked on the biggest synthetic corpus (they are stated for 1M passages)."""
    synth_runs = [r for r in results if r["name"].startswith("synth-")]
    if not synth_runs:
        return []
    r = max(synth_runs, key=lambda x: x["passages"])
    at = f"{r['name']} ({r['passages']:,} passages)" + ("" if r["passages"] >= TARGET_SIZE else
                                                          f"; the targets are stated for {TARGET_SIZE:,}")
    s, fp = r["scoring"], fresh(r)
    out = []

    def check(name, value, goal, holds, how="", unit=""):
        out.append({"target": name, "value": value, "goal": goal, "holds": None if value is None else holds(value),
                    "how": how, "unit": unit, "at": at})

    rank = s["ratios"]["rank_bm25_over_qabot"]
    how = "measured"
    if rank is None:  # skipped at this size: extrapolate rank-bm25 linearly in passages from the biggest run of it
        timed_runs = [x for x in synth_runs if x["scoring"]["rank_bm25"].get("n")]
        if timed_runs:
            base = max(timed_runs, key=lambda x: x["passages"])
            rank_ms = base["scoring"]["rank_bm25"]["p50"] * r["passages"] / base["passages"]
            rank = rank_ms / s["qabot"]["p50"]
            how = (f"rank-bm25 not run at this size: its {base['scoring']['rank_bm25']['p50']:.0f} ms at "
                   f"{base['passages']:,} passages scaled linearly to {rank_ms:.0f} ms")
    check("per question vs rank-bm25 (scoring, median)", rank, "≥ 100×", lambda v: v >= 100, how, "×")
    check("per question vs bm25s (scoring, median)", s["ratios"]["bm25s_over_qabot"], "≥ 1.5×",
          lambda v: v >= 1.5, "", "×")
    check("search p50 incl. analysis", r["latency"]["search_ms"]["p50"], "≤ 5 ms", lambda v: v <= 5, "", " ms")
    check("index build", r["build"]["mb_per_s"], "≥ 4 MB/s", lambda v: v >= 4, "open_searcher(rebuild=True)",
          " MB/s")
    check("load, fresh process", fp.get("load_s"), "≤ 2 s", lambda v: v <= 2, "", " s")
    check("resident memory, fresh process (peak)", fp.get("maxrss_mb"), "≤ 2048 MB", lambda v: v <= 2048,
          "VmHWM after load and 20 questions", " MB")
    return out


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
    own = work is None
    work = Path(tempfile.mkdtemp(prefix="qabot-bench-")) if own else work
    results = []
    load_before = os.getloadavg()
    code = work / "code"  # retrieval/ as imported, for the fresh-process probe
    shutil.copytree(ROOT / "retrieval", code / "retrieval", ignore=shutil.ignore_patterns("__pycache__"),
                    dirs_exist_ok=True)
    if source_digest(code / "retrieval") != IMPORTED:
        log("Warning: retrieval/ changed since it was imported; the fresh-process probe may run other code")
    try:
        for size in sizes:
            t = time.perf_counter()
            corpus = synth.write_corpus(work / f"synth-{size}.jsonl", size, seed, settings)
            log(f"synth-{size}: {corpus['articles']} articles, {corpus['passages']} passages "
                f"generated in {time.perf_counter() - t:.1f}s; measuring…")
            results.append(bench_corpus(
                f"synth-{size}", [corpus["path"]],
                lambda bags: synth.questions_from(bags, n_questions, seed + 1), work, settings, probe, cli))
            results[-1]["synth"] = corpus
            Path(corpus["path"]).unlink(missing_ok=True)
            log(table(results[-1:]))
        for name in REAL_SETS if real else ():
            log(f"{name}: measuring…")
            results.append(bench_corpus(
                name, [str(REAL / f"{name}.corpus.jsonl")],
                lambda bags, name=name: gold_questions(REAL / f"{name}.gold.jsonl", n_questions, seed + 1),
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
            "rank_bm25": _version("rank-bm25"), "rjieba": _version("rjieba"), "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(), "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            "settings": json.loads(json.dumps(dataclasses.asdict(settings), default=str))}


def machine(m: dict) -> str:
    return (f"Machine: {m['cpus']} CPUs ({m.get('cpu_model', '?')}), {m.get('mem_gb', 0):.0f} GB; "
            f"load {m['loadavg_before'][0]:.2f} before, {m['loadavg_after'][0]:.2f} after; "
            f"Python {m['python']}, numpy {m['numpy']}, bm25s {m['bm25s']}, rank-bm25 {m['rank_bm25']}, "
            f"rjieba {m.get('rjieba')}")


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
        for note in r["scoring"]["notes"] + r.get("notes", []):
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
