"""Run the real ``qabot telegram`` in a subprocess against ``FakeBotAPI``, and talk to it."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.fake_bot_api import Call, FakeBotAPI, message
from tests.telegram_rules import parse_html

TITLE = "商汤 <b>医疗</b> & AI"
LAB = "商汤科技在上海成立了智慧医疗实验室，与A&B医院合作研究<b>医学影像</b>。"
DIRECTOR = "实验室主任是王博士，他说 x < y & z > w 是常识。"


def write_corpus(path: Path) -> Path:
    """A small JSONL corpus with HTML-like characters, a very long article, and many 实验室 passages."""
    wall = "".join(f"长城第{i}段建于明朝，全长约{i}公里，沿线有许多关隘和城墙。" for i in range(1, 400))
    wall += "其中最著名的烽火台叫做狼烟台。" + "".join(f"长城第{i}段的砖石来自附近山区，工匠们世代守护。" for i in range(400, 700))
    articles = [
        {"id": "lab", "title": TITLE, "text": f"{LAB}\n{DIRECTOR}"},
        {"id": "obs", "title": "紫金山天文台", "text": "紫金山天文台位于南京，是中国人自己建立的第一个现代天文学研究机构。\n"
                                                    "天文台的主任是李教授，他研究小行星。"},
        {"id": "wall", "title": "长城", "text": f"长城是中国古代的军事防御工程。\n{wall}"},
    ] + [{"id": f"lab{i}", "title": f"实验室简讯{i}", "text": f"第{i}号实验室今年发表了{i}篇论文，实验室设备更新。"}
         for i in range(1, 11)]
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningBot:
    """``python -m bot --config CONFIG telegram --corpus CORPUS`` with the fake API's URL and token."""

    def __init__(self, api: FakeBotAPI, folder: Path, config: str, env: dict | None = None, log: str = "bot.log",
                 corpus: Path | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.yaml").write_text(config, encoding="utf-8")
        corpus = corpus or write_corpus(folder / "corpus.jsonl")
        self.api, self.log_path, self.folder = api, folder / log, folder
        self.started = sum(c.method == "setMyCommands" for c in api.calls)  # a restart registers them again
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        environ.update({"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
                        "QABOT_INDEX_DIR": str(folder / "index"), "XDG_STATE_HOME": str(folder / "state"),
                        "PYTHONUNBUFFERED": "1", **(env or {})})
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(folder / "config.yaml"),
                                          "telegram", "--corpus", str(corpus)],
                                         stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=folder)
        self.returncode: int | None = None

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until post_init has registered the commands (the bot is about to take updates)."""
        deadline = time.monotonic() + timeout
        while sum(c.method == "setMyCommands" for c in self.api.calls) <= self.started:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"bot did not start (exit {self.proc.poll()}):\n{self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop_when_exited(self, timeout: float = 60.0) -> int:
        """Wait for the bot to exit on its own (e.g. after a startup error)."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"bot kept running:\n{self.output()}") from None
        return self.returncode

    def kill(self) -> int:
        """SIGKILL: no shutdown, no last getUpdates, nothing flushed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.returncode = self.proc.wait(10)
        return self.returncode

    def stop(self, timeout: float = 20.0) -> int:
        """Interrupt like Ctrl-C and wait; kill if it does not stop in time (then fail)."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"bot did not stop within {timeout} s:\n{self.output()}")
        return self.returncode


@contextlib.contextmanager
def serving(api: FakeBotAPI, folder: Path, config: str, **kwargs):
    """A ``RunningBot`` that is ready to take updates, stopped when the block ends."""
    running = RunningBot(api, folder, config, **kwargs)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


class Chat:
    """One chat with the bot: push messages, collect what the bot sends back."""

    def __init__(self, api: FakeBotAPI, chat_id: int, user_id: int, chat_type: str = "private"):
        self.api, self.chat_id, self.user_id, self.chat_type = api, chat_id, user_id, chat_type

    def sent(self) -> list[Call]:
        return self.api.sent(self.chat_id)

    def say(self, text: str, expect: int = 1, reply_to: dict | None = None, user_id: int | None = None) -> list[Call]:
        """Send ``text``; the ``expect`` messages the bot answers with."""
        before = len(self.sent())
        update = message(self.api, self.chat_id, user_id or self.user_id, text, self.chat_type, reply_to)
        self.api.push(update)
        self.last_message = update["message"]
        return self.wait_new(before, expect)

    def wait_new(self, before: int, expect: int = 1, method: str = "sendMessage") -> list[Call]:
        self.api.until(lambda: len(self.api.sent(self.chat_id, method)) >= before + expect,
                       what=f"{expect} new {method} to chat {self.chat_id}")
        return self.api.sent(self.chat_id, method)[before:]

    def message_json(self, call: Call) -> dict:
        """The bot's message as a client sees it, e.g. for reply_to or a callback."""
        return call.result


def post_update(port: int, update: dict, secret: str | None) -> int:
    """POST ``update`` to the bot's webhook as Telegram would; the HTTP status it answers with."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/tg/hook", json.dumps(update).encode(), headers)
    deadline = time.monotonic() + 10
    while True:  # PTB calls setWebhook just before its server listens; Telegram retries too
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def quoted(text: str) -> str:
    """A reply's visible text from the quoted passage on: a confident answer, in bold, comes first."""
    return text[text.index("\n\n[1] ") + 2:] if not text.startswith("[") and "\n\n[1] " in text else text


def visible(call: Call) -> str:
    """What a person sees of a sent message: its HTML as plain text."""
    return parse_html(call.params["text"])


def buttons(call: Call) -> dict[str, str]:
    """Button text → callback data of the keyboard under a sent message."""
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}
