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

from .. import messages as m
from ..answering import Answer, Answerer
from ..config import Settings, described, limit, read
from ..i18n import Messages, choose, ui_language
from ..layout import shown_count
from .format import COLOUR, PLAIN, Format, render_answer, render_more, render_opened, render_source

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
    """One conversation: earlier questions (the follow-up context), the results last shown, and
    the language it speaks (``preferred``, else the script of the latest question)."""

    def __init__(self, answerer: Answerer, k: int, fmt: Format, preferred: str | None = None,
                 add: Callable[[list[str]], str] | None = None):
        self.answerer, self.k, self.fmt, self.preferred, self.adder = answerer, k, fmt, preferred, add
        self.msgs = Messages(choose(preferred))
        self.questions: list[str] = []
        self.last = None  # (question, context) of the last answered question, for :more
        self.answer: Answer | None = None  # its answer, holding the results shown so far
        self.hits: list = []  # results shown for it so far, best first
        self.commands = {"help": self.help, "h": self.help, "?": self.help, "more": self.more,
                         "open": self.open, "source": self.source, "reset": self.reset, "k": self.set_k,
                         "reload": self.reload, "add": self.add, "quit": self.quit, "q": self.quit,
                         "exit": self.quit}

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
        self.msgs = Messages(choose(self.preferred, question, self.msgs.language))
        context = tuple(self.questions)
        answer = self.answerer.ask(question, context, self.k)
        if not answer.problem:
            self.questions.append(question)
            self.last, self.answer = (question, context), answer
            self.hits = answer.hits[: shown_count(answer, self.k)]  # what :more and :open N go on from
        return render_answer(answer, self.k, self.fmt, self.msgs)

    def more(self, args: list[str]) -> str:
        if args:
            return self.msgs(m.MORE_USAGE)
        if self.last is None:
            return self.msgs(m.NOTHING_YET)
        question, context = self.last
        answer = self.answerer.ask(question, context, len(self.hits) + self.k)
        new = answer.hits[len(self.hits):]
        if not new:
            return self.msgs(m.NO_MORE, shown=len(self.hits))
        self.hits, self.answer = answer.hits, answer
        return render_more(answer, new, self.fmt, self.msgs)

    def result(self, args: list[str], usage: str, extra: list[list[str]]):
        """Result N of ``args`` (``extra``: the words allowed after N), or the message saying why not."""
        if not args or not args[0].isdigit() or args[1:] not in extra:
            return self.msgs(usage)
        if not self.hits:
            return self.msgs(m.NO_RESULTS_YET)
        n = int(args[0])
        if not 1 <= n <= len(self.hits):
            return self.msgs(m.NO_RESULT, n=n, shown=len(self.hits))
        return self.hits[n - 1]

    def open(self, args: list[str]) -> str:
        hit = self.result(args, m.OPEN_USAGE, [[], ["all"]])
        if isinstance(hit, str):
            return hit
        if args[1:] == ["all"]:
            text, offset = self.answerer.article_text(hit), hit.passage.start
        else:
            text = self.answerer.paragraph(hit)
            offset = text.find(hit.passage.text)
        return render_opened(self.answer, hit, text, offset, self.fmt, self.msgs)

    def source(self, args: list[str]) -> str:
        hit = self.result(args, m.SOURCE_USAGE, [[]])
        return hit if isinstance(hit, str) else render_source(self.answer, hit, self.fmt, self.msgs)

    def reset(self, args: list[str]) -> str:
        self.questions.clear()
        self.last, self.answer, self.hits = None, None, []
        return self.msgs(m.FORGOTTEN)

    def set_k(self, args: list[str]) -> str:
        if not args:
            return self.msgs(m.K_NOW, k=self.k)
        if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_K:
            return self.msgs(m.K_USAGE, most=MAX_K)
        self.k = int(args[0])
        return self.msgs(m.K_SET, k=self.k)

    def reload(self, args: list[str]) -> str:
        self.hits = []  # results shown so far point into the old index
        return self.answerer.reload(self.msgs)

    def add(self, args: list[str]) -> str:
        if not args:
            return self.msgs(m.ADD_USAGE)
        if self.adder is None:
            return self.msgs(m.ADD_UNAVAILABLE)
        self.hits = []  # results shown so far point into the old index
        return self.adder(args)

    def help(self, args: list[str]) -> str:
        return self.msgs(m.REPL_HELP, k=self.k)

    def quit(self, args: list[str]) -> str:
        raise Quit

    def unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, [c for c in self.commands if len(c) > 1], n=1)
        if close:
            return self.msgs(m.UNKNOWN_COMMAND_HINT, name=name, close=close[0])
        return self.msgs(m.UNKNOWN_COMMAND, name=name)

    def banner(self) -> str:
        return self.msgs(m.REPL_BANNER, articles=self.answerer.article_count, passages=self.answerer.passage_count)


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
    k, preferred = config.k or answerer.k, ui_language(settings.extra.get("ui"))
    if plain or not interactive():
        width = terminal_width(config.width) if sys.stdout.isatty() else (lambda: config.width)
        session = Session(answerer, k, Format(PLAIN, width), preferred, add)
        return run_plain(session, session.banner(), sys.stdin, sys.stdout)
    session = Session(answerer, k, Format(COLOUR, terminal_width(config.width)), preferred, add)
    warm_up(answerer)
    return run_interactive(session, session.banner(), history_path(config))


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
            out = session.msgs(m.CANCELLED)
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
