"""The ``qabot`` command: add, ask, batch, eval, index, repl, telegram.

Library errors (``RetrievalError``), config errors and ``CliError`` (a file given on
the command line that cannot be read or written) become ``Error: …`` on stderr and
exit status 1; nothing else here prints tracebacks for bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from retrieval.errors import RetrievalError
from retrieval.safetext import json_line, printable, without_surrogates

from .config import MAX_K, ConfigError, Settings, load_settings

EPILOG = "Examples:\n  qabot ask \"商汤在哪里成立了智慧医疗实验室？\"\n  qabot batch questions.jsonl -o answers.jsonl\n  qabot eval gold.jsonl"


def common(parser: argparse.ArgumentParser, top: bool) -> None:
    # A subcommand's options go to their own dests (main() merges them): argparse copies the
    # subparser's namespace over the top-level one, so a shared dest would drop `qabot --corpus A`
    # from `qabot --corpus A index --corpus B`.
    prefix = "" if top else "sub_"
    parser.add_argument("--config", metavar="FILE", dest=f"{prefix}config",
                        help="settings file (default: the project's config.yaml)")
    parser.add_argument("--corpus", metavar="PATH", action="append", dest=f"{prefix}corpus",
                        help="article file or folder; repeat for several (default: corpus in config)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qabot", description="Answer questions from articles with cited passages.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(parser, top=True)
    parser.add_argument("--version", action="version", version=f"qabot {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+", help="the question (quote it, or give it as several words)")
    p.add_argument("--context", action="append", default=[], metavar="TEXT", help="an earlier question, oldest first; repeatable")
    p.add_argument("-k", type=whole(1, MAX_K), help="passages to show")
    p.add_argument("--json", action="store_true", help="print the batch JSON record instead of text")

    p = sub.add_parser("batch", help="answer a file of questions, one JSON line each")
    p.add_argument("questions", help=".jsonl ({\"id\"?, \"question\", \"context\"?}), text with one question a line, or - for stdin")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("-k", type=whole(1, MAX_K), help="passages per question")
    p.add_argument("--workers", type=whole(1, 64), metavar="N", help="processes answering a long run (default: one a core, up to 2)")

    p = sub.add_parser("eval", help="score retrieval against a gold set")
    p.add_argument("gold", help="gold .jsonl; a sibling NAME.corpus.jsonl of NAME.gold.jsonl is used as corpus")
    p.add_argument("--no-answer", action="store_true", help="count every question as one the articles do not answer (off-topic test)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")

    p = sub.add_parser("index", help="build or refresh the cached index and print its size")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the cache is current")
    p.add_argument("--shards", type=int, metavar="N", help="split it by article into N shards for a cluster (docs/cluster.md)")

    p = sub.add_parser("add", help="add article files, folders or web pages to the corpus and refresh the index")
    p.add_argument("sources", nargs="+", metavar="PATH|URL", help="a file (TSV, JSONL, txt/md, HTML, PDF, DOCX), a folder, or an http(s) URL")
    p.add_argument("--to", metavar="FOLDER", help="the corpus folder to put them in (default: the corpus's first folder)")

    sub.add_parser("repl", help="ask questions interactively in the terminal").add_argument(
        "--plain", action="store_true", help="no colours or control codes (also when piped or NO_COLOR is set)")
    sub.add_parser("telegram", help="run the Telegram bot (token from TELEGRAM_BOT_TOKEN)")
    for name, child in sub.choices.items():
        common(child, top=False)
        if name != "index":
            child.add_argument("--cluster", metavar="tcp://HOST:PORT",
                               help="search the sharded index on this Dask scheduler's workers (default: cluster.address in config)")
    return parser


def whole(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value
    return parse


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("qabot")
    except PackageNotFoundError:
        return "(not installed)"


class CliError(Exception):
    """A file the command was given cannot be read or written."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parsed arguments; --corpus before and after the subcommand add up, the later --config wins."""
    args = build_parser().parse_args(argv)
    args.corpus = (args.corpus or []) + (args.sub_corpus or []) or None
    args.config = args.sub_config or args.config
    del args.sub_corpus, args.sub_config
    return args


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # text that cannot be encoded is shown replaced, never a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = parse_args(argv)
    try:
        settings = load_settings(args.config)
        return COMMANDS[args.command](args, settings)
    except (RetrievalError, ConfigError, CliError) as exc:
        print(printable(f"Error: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `qabot batch … | head`: the reader has what it wanted
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), sys.stdout.fileno())  # so the interpreter's last flush stays quiet
        return 141


def corpus_paths(args, settings: Settings) -> list[Path]:
    return [Path(c) for c in args.corpus] if args.corpus else list(settings.corpus)


def open_corpus(args, settings: Settings, paths=None, rebuild: bool = False, thorough: bool = False):
    from retrieval.store import open_searcher

    from .progress import Progress

    def say(message: str) -> None:
        print(printable(f"qabot: {message}…"), file=sys.stderr)

    bar = Progress(0, "passages")
    opened = open_searcher(paths or corpus_paths(args, settings), settings.retrieval(), settings.index_dir,
                           rebuild=rebuild, progress=say, steps=bar.update, thorough=thorough)
    bar.close()
    for problem in opened.problems[:20]:
        print(printable(f"Warning: {problem}"), file=sys.stderr)
    if len(opened.problems) > 20:
        print(f"Warning: … and {len(opened.problems) - 20} more problems", file=sys.stderr)
    return opened


def answerer_for(args, settings: Settings, paths=None):
    from .answering import Answerer

    address = getattr(args, "cluster", None) or settings.cluster.address

    def reopen():
        if address:
            from .cluster import open_cluster

            return open_cluster(address, paths or corpus_paths(args, settings), settings)
        return open_corpus(args, settings, paths).searcher

    return Answerer(reopen(), settings.search.k, reopen)


def cmd_ask(args, settings: Settings) -> int:
    from .i18n import Messages, choose, ui_language
    from .terminal.format import plain_text

    question = without_surrogates(" ".join(args.question))  # undecodable bytes in argv arrive as surrogates
    answer = answerer_for(args, settings).ask(question, [without_surrogates(c) for c in args.context], args.k)
    if args.json:
        print(json_line(answer.record()))
    else:
        # plain_text's every line is already printable (terminal/format.block)
        print(plain_text(answer, msgs=Messages(choose(ui_language(settings.extra.get("ui")), question))))
    return 1 if answer.problem else 0


def cmd_batch(args, settings: Settings) -> int:
    from .batch import blank_lines, read_items, run_batch

    data = read_questions(args.questions)
    if args.output:
        refuse_overwriting(args.questions, args.output)
    jsonl = args.questions.endswith(".jsonl") or (args.questions == "-" and data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{")
    items = list(read_items(data, "<stdin>" if args.questions == "-" else args.questions, jsonl))
    answerer = answerer_for(args, settings)
    out = open_output(args.output) if args.output else sys.stdout
    try:
        answered, errors = run_batch(answerer, items, out, args.k, args.workers)
    finally:
        if args.output:
            out.close()
    blank = blank_lines(data)
    skipped = f", {blank} blank lines skipped" if blank else ""
    print(f"{len(items)} questions, {answered} answered, {errors} with errors{skipped}", file=sys.stderr)
    return 0


def read_questions(name: str) -> bytes:
    """The bytes of the questions file, or of stdin for ``-``; lines are decoded one by one."""
    if name == "-":
        stdin = getattr(sys.stdin, "buffer", None)  # a text stream without one (a test's StringIO): its text
        return stdin.read() if stdin else sys.stdin.read().encode("utf-8", "surrogateescape")
    try:
        with open(name, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CliError(f"cannot read questions file {name}: {exc.strerror or exc}; give a .jsonl or text file") from None


def refuse_overwriting(questions: str, output: str) -> None:
    if questions != "-" and os.path.exists(output) and os.path.samefile(questions, output):
        raise CliError(f"-o {output} is the questions file; write the answers to another file")


def open_output(name: str):
    """``name`` opened for writing, before any question is answered."""
    try:
        return open(name, "w", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CliError(f"cannot write {name}: {exc.strerror or exc}; check the folder exists and is writable") from None


def cmd_eval(args, settings: Settings) -> int:
    from .evaluation import GoldError, format_table, gold_answers, read_gold, tally_by_kind

    gold = Path(args.gold)
    sibling = gold.with_name(gold.name.replace(".gold.jsonl", ".corpus.jsonl"))
    paths = None if args.corpus or sibling == gold or not sibling.exists() else [sibling]
    try:
        items = list(read_gold(gold))  # before indexing: a bad gold file fails fast
    except GoldError as exc:
        raise CliError(str(exc)) from None
    answerer = answerer_for(args, settings, paths)
    tallies = tally_by_kind()
    for _, item in items:
        if isinstance(item, str):
            print(printable(f"Warning: {item}"), file=sys.stderr)
            continue
        golds = item.get("gold") or []
        answer = answerer.ask(item["question"], item.get("context") or [], 10)
        no_answer = args.no_answer or not golds
        for kind in ("all", item.get("kind", "-")):
            tallies[kind].add(answer, golds, no_answer, gold_answers(item))
    rows = {kind: t.row() for kind, t in sorted(tallies.items(), key=lambda kv: kv[0] != "all")}
    print(json.dumps(rows, ensure_ascii=False, indent=2) if args.json else format_table(rows))
    return 0


def cmd_index(args, settings: Settings) -> int:
    start = time.perf_counter()
    if args.shards is not None:
        from retrieval.shards import find_layout

        layout, built = find_layout(corpus_paths(args, settings), settings.retrieval(), settings.index_dir,
                                    args.shards, args.rebuild, lambda m: print(f"qabot: {m}…", file=sys.stderr))
        print(f"sharded index {'built' if built else 'up to date'}: {layout.articles} articles, {layout.size} passages "
              f"in {layout.count} shards, statistics in {layout.folder}, {time.perf_counter() - start:.2f} s")
        return 0
    opened = open_corpus(args, settings, rebuild=args.rebuild, thorough=True)  # every byte checked
    searcher = opened.searcher
    size = sum(f.stat().st_size for f in opened.folder.iterdir())
    state = "built" if opened.built else "up to date"
    print(printable(f"index {state}: {len(searcher.articles)} articles, {len(searcher.passages)} passages, "
          f"{len(searcher.index.vocab)} terms, {size / 1e6:.1f} MB in {opened.folder}, "
          f"{time.perf_counter() - start:.2f} s"))
    return 0


def cmd_add(args, settings: Settings) -> int:
    from .adding import run_add

    return run_add(args.sources, args.to, corpus_paths(args, settings), settings.retrieval(),
                   lambda: open_corpus(args, settings).searcher)


def cmd_repl(args, settings: Settings) -> int:
    from .adding import Adder
    from .terminal.repl import run_repl

    answerer = answerer_for(args, settings)
    adder = Adder(corpus_paths(args, settings), settings.retrieval(), answerer.reload)
    return run_repl(answerer, settings, plain=args.plain, add=adder.add)


def cmd_telegram(args, settings: Settings) -> int:
    from .telegram.app import preflight, run_telegram

    from .adding import Adder

    preflight(settings)  # a missing token or bad telegram: section fails before indexing
    answerer = answerer_for(args, settings)
    return run_telegram(answerer, settings, Adder(corpus_paths(args, settings), settings.retrieval(), answerer.reload))


COMMANDS = {"add": cmd_add, "ask": cmd_ask, "batch": cmd_batch, "eval": cmd_eval, "index": cmd_index,
            "repl": cmd_repl, "telegram": cmd_telegram}
