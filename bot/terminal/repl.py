"""``qabot repl``: ask questions in the terminal, with follow-ups, history and colour.

``run_repl`` picks the mode: on a terminal, an interactive prompt (prompt_toolkit:
line editing, persistent history, Ctrl-R); when piped, with NO_COLOR or --plain,
plain line-by-line I/O with no control codes, one answer block per input line,
so a session can be scripted and diffed. ``Session`` holds the conversation and
turns one input line into the text to show; it never reads or prints itself.
"""
from __future__ import annotations

import difflib
import os
import shutil
import sys
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable

from retrieval.safetext import printable

from ..answering import Answerer
from ..config import Settings, described, limit, read
from .format import COLOUR, PLAIN, Format, render_answer, render_more, render_opened

MAX_K = 50


@dataclass(frozen=True)
class ReplSettings:
    """The ``repl:`` section of config.yaml."""
    # history file; None: $XDG_STATE_HOME or ~/.local/state, then qabot/history
    history: Path | None = field(default=None, **described("a file path"))
    k: int | None = field(default=None, **limit(1, MAX_K))  # results shown per answer; None: search.k
    # wrap at most this many columns; None: the terminal width
    width: int | None = field(default=None, **limit(20, what="a whole number of at least 20 columns"))


def repl_settings(raw: object) -> ReplSettings:
    """Check the raw ``repl:`` section: unknown keys and wrong types are ``ConfigError``s."""
    return read(ReplSettings, raw, "repl")


def history_path(config: ReplSettings) -> Path:
    """Where the input history lives: $QABOT_HISTORY, else repl.history, else the XDG state folder."""
    if os.environ.get("QABOT_HISTORY"):
        return Path(os.environ["QABOT_HISTORY"]).expanduser()
    if config.history:
        return Path(config.history).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    return Path(state).expanduser() / "qabot" / "history"


class Quit(Exception):
    """The user asked to leave."""


def help_text(k: int) -> str:
    return "\n".join([
        "Ask a question in Chinese or English; a follow-up uses the questions before it.",
        "  :more        the next results",
        "  :open N      the whole paragraph of result N (:open N all: the whole article)",
        f"  :k N         show N results per answer (now {k})",
        "  :reset       forget the conversation: the next question starts afresh",
        "  :reload      re-read the articles (only changed ones are re-indexed)",
        "  :add SOURCE  add a file, folder or http(s) URL to the articles, then re-index",
        "  :help        this help",
        "  :quit        leave (or Ctrl-D); Ctrl-C cancels the line being typed",
    ])


def parse_command(line: str) -> tuple[str, list[str]] | None:
    """(name, arguments) when ``line`` is a command like ``:open 2`` (or ``：open 2`` typed with a Chinese IME)."""
    if line[:1] not in (":", "："):
        return None
    words = unicodedata.normalize("NFKC", line[1:]).split()
    if not words:
        return "", []
    return words[0].lower(), words[1:]


def one_line(line: str) -> str:
    """One line of input: pasted line breaks and runs of spaces become single spaces."""
    return " ".join(line.split())


class Session:
    """One conversation: earlier questions (the follow-up context) and the results last shown."""

    def __init__(self, answerer: Answerer, k: int, fmt: Format, add: Callable[[list[str]], str] | None = None):
        self.answerer, self.k, self.fmt, self.adder = answerer, k, fmt, add
        self.questions: list[str] = []
        self.last = None  # (question, context) of the last answered question, for :more
        self.hits: list = []  # results shown for it so far, best first
        self.commands = {"help": self.help, "h": self.help, "?": self.help, "more": self.more,
                         "open": self.open, "reset": self.reset, "k": self.set_k, "reload": self.reload,
                         "quit": self.quit, "q": self.quit, "exit": self.quit, "add": self.add}

    def handle(self, line: str) -> str:
        """The text to show for one input line (empty for a blank line); raises ``Quit``."""
        line = one_line(line)
        if not line:
            return ""
        command = parse_command(line)
        if command is None:
            return self.ask(line)
        name, args = command
        if name not in self.commands:
            return self.unknown(name)
        return self.commands[name](args)

    def ask(self, question: str) -> str:
        context = tuple(self.questions)
        answer = self.answerer.ask(question, context, self.k)
        if not answer.problem:
            self.questions.append(question)
            self.last = (question, context)
            self.hits = answer.hits[: self.k]
        return render_answer(answer, self.k, self.fmt)

    def more(self, args: list[str]) -> str:
        if args:
            return "Usage: :more (no arguments); :k N changes how many results each step shows."
        if self.last is None:
            return "Nothing to show more of yet: ask a question first."
        question, context = self.last
        answer = self.answerer.ask(question, context, len(self.hits) + self.k)
        new = answer.hits[len(self.hits):]
        if not new:
            return f"No more results: all {len(self.hits)} passages that match are shown."
        self.hits = answer.hits
        return render_more(new, self.fmt)

    def open(self, args: list[str]) -> str:
        usage = "Usage: :open N shows the whole paragraph of result N; :open N all the whole article."
        if not args or len(args) > 2 or not args[0].isdigit() or args[1:] not in ([], ["all"]):
            return usage
        if not self.hits:
            return "No results to open yet: ask a question first."
        n = int(args[0])
        if not 1 <= n <= len(self.hits):
            return f"No result {n}: results 1 to {len(self.hits)} are shown."
        hit = self.hits[n - 1]
        if args[1:] == ["all"]:
            return render_opened(hit, self.answerer.article_text(hit), hit.passage.start, self.fmt)
        paragraph = self.answerer.paragraph(hit)
        return render_opened(hit, paragraph, paragraph.find(hit.passage.text), self.fmt)

    def reset(self, args: list[str]) -> str:
        self.questions.clear()
        self.last, self.hits = None, []
        return "Conversation forgotten: the next question starts afresh."

    def set_k(self, args: list[str]) -> str:
        if not args:
            return f"Showing {self.k} results per answer; :k N changes it."
        if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_K:
            return f"Usage: :k N, with N a whole number from 1 to {MAX_K}."
        self.k = int(args[0])
        return f"Showing {self.k} results per answer."

    def reload(self, args: list[str]) -> str:
        self.hits = []  # results shown so far point into the old index
        return self.answerer.reload()

    def add(self, args: list[str]) -> str:
        if not args:
            return "Usage: :add PATH|URL … adds article files, folders or web pages to the corpus."
        if self.adder is None:
            return "Adding is not available here."
        self.hits = []  # results shown so far point into the old index
        return self.adder(args)

    def help(self, args: list[str]) -> str:
        return help_text(self.k)

    def quit(self, args: list[str]) -> str:
        raise Quit

    def unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, [c for c in self.commands if len(c) > 1], n=1)
        hint = f" Did you mean :{close[0]}?" if close else ""
        return f"Unknown command :{name}.{hint} Commands: :help :more :open N :k N :reset :reload :quit"


def banner(answerer: Answerer) -> str:
    articles, passages = answerer.article_count, answerer.passage_count
    return (f"qabot: {articles} article{'s' * (articles != 1)}, {passages} passage{'s' * (passages != 1)} loaded. "
            "Ask a question; :help for commands, Ctrl-D to quit.")


def interactive() -> bool:
    """A person at a terminal who wants colour: stdin and stdout are terminals, NO_COLOR unset, TERM not dumb."""
    return (sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def terminal_width(limit: int | None):
    def width() -> int:
        columns = shutil.get_terminal_size((80, 24)).columns
        return min(columns, limit) if limit else columns
    return width


def run_repl(answerer: Answerer, settings: Settings, plain: bool = False,
             add: Callable[[list[str]], str] | None = None) -> int:
    """Run the REPL until :quit or end of input; returns the exit status."""
    config = repl_settings(settings.extra.get("repl"))
    k = config.k or answerer.k
    if plain or not interactive():
        width = terminal_width(config.width) if sys.stdout.isatty() else (lambda: config.width)
        return run_plain(Session(answerer, k, Format(PLAIN, width), add), banner(answerer), sys.stdin, sys.stdout)
    session = Session(answerer, k, Format(COLOUR, terminal_width(config.width)), add)
    warm_up(answerer)
    return run_interactive(session, banner(answerer), history_path(config))


def warm_up(answerer: Answerer) -> None:
    """Load the tokenizers (jieba takes about a second) in the background while the first question is typed."""
    def load() -> None:
        try:
            answerer.warm_up()
        except Exception:  # the first question will meet, and report, the same problem
            pass

    threading.Thread(target=load, name="qabot-warm-up", daemon=True).start()


def run_plain(session: Session, greeting: str, stdin: IO[str], stdout: IO[str]) -> int:
    """Plain I/O: no prompt_toolkit, no control codes; piped input is echoed as ``> line`` above its block."""
    print(greeting, file=sys.stderr)
    person = stdin.isatty()
    prompt = "qabot> " if person and stdout.isatty() else ""
    while True:
        stdout.write(prompt)
        stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            if not person:
                raise
            stdout.write("\n")
            continue
        if not line:
            return 0
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            out = session.handle(line)
        except Quit:
            return 0
        stdout.write(("" if person else f"> {printable(line)}\n") + out + "\n\n")


def run_interactive(session: Session, greeting: str, history_file: Path) -> int:
    """The prompt_toolkit loop: Ctrl-C cancels the line (or a slow search), Ctrl-D on an empty line exits."""
    from prompt_toolkit import PromptSession  # loaded late: plain mode and the other commands don't need it

    prompt = PromptSession(history=open_history(history_file))
    print(greeting)
    while True:
        try:
            line = prompt.prompt("qabot> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        try:
            out = session.handle(line)
        except Quit:
            return 0
        except KeyboardInterrupt:
            out = "Cancelled."
        if out:
            print(out + "\n", flush=True)


def open_history(path: Path):
    """A FileHistory at ``path``; in memory, with a warning, when the folder can't be made."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError as exc:
        print(printable(f"Warning: history not saved: cannot write {path}: {exc.strerror}; set QABOT_HISTORY "
                        "to a writable file"), file=sys.stderr)
        return InMemoryHistory()
    return FileHistory(str(path))
