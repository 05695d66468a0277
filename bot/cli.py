"""The ``qabot`` command: ask, batch, eval, index, repl, telegram.

Library errors (``RetrievalError``) and config errors become ``Error: …`` on
stderr and exit status 1; nothing else here prints tracebacks for bad input.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from retrieval.errors import RetrievalError

from .config import ConfigError, Settings, load_settings

EPILOG = "Examples:\n  qabot ask \"商汤在哪里成立了智慧医疗实验室？\"\n  qabot batch questions.jsonl -o answers.jsonl\n  qabot eval gold.jsonl"


def common(parser: argparse.ArgumentParser, top: bool) -> None:
    # on subcommands the default is SUPPRESS, so `qabot --config X ask` is not reset by the subparser
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--config", metavar="FILE", default=default, help="settings file (default: the project's config.yaml)")
    parser.add_argument("--corpus", metavar="PATH", action="append", default=default,
                        help="article file or folder; repeat for several (default: corpus in config)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qabot", description="Answer questions from articles with cited passages.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+", help="the question (quote it, or give it as several words)")
    p.add_argument("--context", action="append", default=[], metavar="TEXT", help="an earlier question, oldest first; repeatable")
    p.add_argument("-k", type=int, help="passages to show")
    p.add_argument("--json", action="store_true", help="print the batch JSON record instead of text")

    p = sub.add_parser("batch", help="answer a file of questions, one JSON line each")
    p.add_argument("questions", help=".jsonl ({\"id\"?, \"question\", \"context\"?}), text with one question a line, or - for stdin")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("-k", type=int, help="passages per question")

    p = sub.add_parser("eval", help="score retrieval against a gold set")
    p.add_argument("gold", help="gold .jsonl; a sibling NAME.corpus.jsonl of NAME.gold.jsonl is used as corpus")
    p.add_argument("--no-answer", action="store_true", help="count every question as one the articles do not answer (off-topic test)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")

    p = sub.add_parser("index", help="build or refresh the cached index and print its size")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the cache is current")

    sub.add_parser("repl", help="ask questions interactively in the terminal").add_argument(
        "--plain", action="store_true", help="no colours or control codes (also when piped or NO_COLOR is set)")
    sub.add_parser("telegram", help="run the Telegram bot (token from TELEGRAM_BOT_TOKEN)")
    for name, child in sub.choices.items():
        common(child, top=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        return COMMANDS[args.command](args, settings)
    except (RetrievalError, ConfigError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def corpus_paths(args, settings: Settings) -> list[Path]:
    return [Path(c) for c in args.corpus] if args.corpus else list(settings.corpus)


def open_corpus(args, settings: Settings, paths=None, rebuild: bool = False):
    from retrieval.store import open_searcher

    def say(message: str) -> None:
        print(f"qabot: {message}…", file=sys.stderr)

    opened = open_searcher(paths or corpus_paths(args, settings), settings.retrieval(), settings.index_dir,
                           rebuild=rebuild, progress=say)
    for problem in opened.problems[:20]:
        print(f"Warning: {problem}", file=sys.stderr)
    if len(opened.problems) > 20:
        print(f"Warning: … and {len(opened.problems) - 20} more problems", file=sys.stderr)
    return opened


def answerer_for(args, settings: Settings, paths=None):
    from .answering import Answerer

    return Answerer(open_corpus(args, settings, paths).searcher, settings.search.k)


def cmd_ask(args, settings: Settings) -> int:
    from .answering import plain_text

    answer = answerer_for(args, settings).ask(" ".join(args.question), args.context, args.k)
    if args.json:
        print(json.dumps(answer.record(), ensure_ascii=False))
    else:
        print(plain_text(answer))
    return 1 if answer.problem else 0


def cmd_batch(args, settings: Settings) -> int:
    from .batch import read_items, run_batch

    jsonl = args.questions.endswith(".jsonl")
    if args.questions == "-":
        items = list(read_items(sys.stdin, "<stdin>", jsonl=peek_jsonl(sys.stdin)))
    else:
        try:
            with open(args.questions, encoding="utf-8") as f:
                items = list(read_items(f, args.questions, jsonl))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read questions file {args.questions}: {exc}; give a UTF-8 .jsonl or text file") from None
    answerer = answerer_for(args, settings)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        answered, errors = run_batch(answerer, items, out, args.k)
    finally:
        if args.output:
            out.close()
    print(f"{len(items)} questions, {answered} answered, {errors} with errors", file=sys.stderr)
    return 0


def peek_jsonl(stream) -> bool:
    """stdin is JSONL when its first non-blank character is '{' (it is read into memory first)."""
    import io

    data = stream.read()
    sys.stdin = io.StringIO(data)
    return data.lstrip().startswith("{")


def cmd_eval(args, settings: Settings) -> int:
    from .evaluation import format_table, read_gold, tally_by_kind

    gold = Path(args.gold)
    if not gold.exists():
        raise ConfigError(f"gold file not found: {gold}")
    sibling = gold.with_name(gold.name.replace(".gold.jsonl", ".corpus.jsonl"))
    paths = None if args.corpus or sibling == gold or not sibling.exists() else [sibling]
    answerer = answerer_for(args, settings, paths)
    tallies = tally_by_kind()
    for _, item in read_gold(gold):
        if isinstance(item, str):
            print(f"Warning: {item}", file=sys.stderr)
            continue
        golds = item.get("gold") or []
        answer = answerer.ask(item["question"], item.get("context") or [], 10)
        no_answer = args.no_answer or not golds
        for kind in ("all", item.get("kind", "-")):
            tallies[kind].add(answer, golds, no_answer)
    rows = {kind: t.row() for kind, t in sorted(tallies.items(), key=lambda kv: kv[0] != "all")}
    print(json.dumps(rows, ensure_ascii=False, indent=2) if args.json else format_table(rows))
    return 0


def cmd_index(args, settings: Settings) -> int:
    start = time.perf_counter()
    opened = open_corpus(args, settings, rebuild=args.rebuild)
    searcher = opened.searcher
    size = sum(f.stat().st_size for f in opened.folder.iterdir())
    state = "built" if opened.built else "up to date"
    print(f"index {state}: {len(searcher.articles)} articles, {len(searcher.passages)} passages, "
          f"{len(searcher.index.vocab)} terms, {size / 1e6:.1f} MB in {opened.folder}, "
          f"{time.perf_counter() - start:.2f} s")
    return 0


def cmd_repl(args, settings: Settings) -> int:
    from .repl import run_repl

    return run_repl(answerer_for(args, settings), settings, plain=args.plain)


def cmd_telegram(args, settings: Settings) -> int:
    from .telegram_bot import run_telegram

    return run_telegram(answerer_for(args, settings), settings)


COMMANDS = {"ask": cmd_ask, "batch": cmd_batch, "eval": cmd_eval, "index": cmd_index,
            "repl": cmd_repl, "telegram": cmd_telegram}
