"""The Telegram bot under load and faults: the real ``qabot telegram`` against the fake Bot API.

1,000 questions from 100 chats; the API failing (5xx, then refused connections) and
recovering; a 429 with retry_after; the bot SIGKILLed and restarted. Every question
is answered exactly once, in order within its chat. Everything runs on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest


from tests.fake_bot_api import FakeBotAPI, message  # noqa: E402
from tests.telegram_harness import serving  # noqa: E402
from tests.telegram_harness import Chat, RunningBot, quoted  # noqa: E402
from tests.telegram_rules import parse_html  # noqa: E402

from bot.telegram.config import telegram_settings  # noqa: E402

OUTAGE = 30.0  # seconds of failing Bot API: half 5xx, half refused connections
CONFIG = """\
telegram:
  rate_limit_per_minute: 0     # no per-user limit: one user asks ten times in a row
  max_sends_per_second: 0      # no client-side flood limit, or 1,000 answers take 33 s
  send_retry_seconds: 60
  state_file: {state}
"""


@pytest.fixture(scope="module")
def bot(api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("telegram-load")
    with serving(api, folder, CONFIG.format(state=folder / "state.json")) as running:
        running.state = folder / "state.json"
        yield running
    # after the module's tests, in whatever order: no token in any message, the state file or the log
    assert all(api.token not in c.params.get("text", "") for c in api.calls)
    assert api.token not in running.state.read_text(encoding="utf-8")
    assert running.returncode == 0 and api.token not in running.output()


def ask(api: FakeBotAPI, chat_id: int, text: str) -> int:
    """Push a question to the bot in group ``chat_id``; its message id (the answer replies to it)."""
    update = message(api, chat_id, -chat_id, f"@qa_test_bot {text}", "group")
    api.push(update)
    return update["message"]["message_id"]


def replies(api: FakeBotAPI, chat_id: int) -> list[int]:
    """The message ids the bot's delivered answers in ``chat_id`` reply to, in the order they came."""
    return [c.params["reply_parameters"]["message_id"] for c in api.sent(chat_id)]


def answered_ids(state: Path) -> set[int]:
    """The update ids the bot's snapshot and journal say were answered."""
    from bot.telegram.journal import Journal

    saved, records = Journal(state).load()
    return {entry[0] for entry in saved.get("answered", [])} | {r["u"] for r in records}


@pytest.mark.slow  # ~20 s: deselect locally with -m "not slow"; CI runs it
def test_a_thousand_questions_from_a_hundred_chats_are_answered_once_in_order(api, bot):
    chats = [-5000 - i for i in range(100)]
    asked: dict[int, list[int]] = {chat: [] for chat in chats}
    started = time.monotonic()
    for chat in chats:  # each chat's ten in a burst: handled concurrently, they would finish out of order
        for i in range(10):
            asked[chat].append(ask(api, chat, f"第{i + 1}号实验室发表了多少篇论文？" if i % 2 else "长城"))
    total = lambda: sum(len(api.sent(chat)) for chat in chats)  # noqa: E731
    api.until(lambda: total() >= 1000, timeout=90, what="1,000 answers")
    elapsed = time.monotonic() - started
    time.sleep(0.5)  # anything extra would come now
    assert total() == 1000
    for chat in chats:
        assert replies(api, chat) == asked[chat]  # each question once, in the order asked
    assert [(c.method, c.error) for c in api.errors()] == []
    answered = answered_ids(bot.state)  # every update answered and recorded
    assert set(api.pushed) <= answered
    print(f"1,000 answers in {elapsed:.1f} s")


@pytest.mark.slow  # ~35 s: a 30 s outage
def test_an_outage_then_recovery_loses_no_question(api, bot):
    """5xx for a while, then refused connections, then back: every question answered once, in order."""
    a, b = -6001, -6002
    api.fail_chat(a, 500)  # the first answer fails to send ...
    first = ask(api, a, "紫金山天文台在哪里？")
    api.wait(lambda c: c.method == "sendMessage" and c.injected and str(c.params["chat_id"]) == str(a),
             what="a failed answer")
    api.outage(502)  # ... then every call fails, getUpdates too
    api.fail_chat(a, None)
    during = [ask(api, a, "主任是谁？"), ask(api, b, "长城是什么？")]
    time.sleep(OUTAGE / 2)
    api.go_down()  # connections refused
    during.append(ask(api, b, "智慧医疗实验室在哪里？"))
    time.sleep(OUTAGE / 2)
    api.outage(None)
    api.come_up()
    api.until(lambda: len(api.sent(a)) >= 2 and len(api.sent(b)) >= 2, timeout=OUTAGE + 30,
              what="the answers after the outage")
    time.sleep(1.0)
    assert replies(api, a) == [first, during[0]] and replies(api, b) == during[1:]
    answer = quoted(parse_html(api.sent(a)[1].params["text"]))  # a confident answer may come first
    assert answer.startswith("[1] 紫金山天文台 · 第2段")  # the follow-up kept its context through it all
    log = bot.output()
    assert "sendMessage failed" in log and "retry" in log and api.token not in log


def test_a_429_is_honoured(api, bot):
    chat = -6003
    api.fail_next("sendMessage", "Too Many Requests: retry after 2", status=429, retry_after=2, chat_id=chat)
    question = ask(api, chat, "长城")
    api.until(lambda: api.sent(chat), what="the answer after the 429")
    attempts = [c for c in api.calls if c.method == "sendMessage" and str(c.params["chat_id"]) == str(chat)]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].time - attempts[0].time >= 2.0
    time.sleep(0.5)
    assert replies(api, chat) == [question]


def test_no_token_in_what_the_bot_sends(api, bot):
    question = ask(api, -6004, "长城")
    api.until(lambda: api.sent(-6004), what="the answer")
    assert replies(api, -6004) == [question]
    assert all(api.token not in c.params.get("text", "") for c in api.calls) and api.token not in bot.output()


# --- kill and restart --------------------------------------------------------------------------

def test_killed_and_restarted_it_answers_nothing_twice_and_remembers(tmp_path):
    api = FakeBotAPI().start()
    state = tmp_path / "state.json"
    config = CONFIG.format(state=state)
    bot = RunningBot(api, tmp_path, config)
    try:
        bot.wait_ready()
        asker, waiter = Chat(api, 401, 401), Chat(api, 402, 402)
        asker.say("紫金山天文台在哪里？")
        answered = max(api.pushed)
        api.until(lambda: answered in answered_ids(state), what="the answer in the journal")
        api.fail_chat(402, 500)  # this answer cannot get through: the bot is retrying when it dies
        api.push(message(api, 402, 402, "长城是什么？"))
        api.wait(lambda c: c.injected and str(c.params.get("chat_id")) == "402", what="a failed answer")
        bot.kill()
        api.fail_chat(402, None)
        api.unconfirm([answered])  # as if killed before the next getUpdates confirmed it
        bot = RunningBot(api, tmp_path, config, log="bot2.log")
        bot.wait_ready()
        [late] = waiter.wait_new(0)  # the question it died on is answered after the restart
        assert "长城" in parse_html(late.params["text"])
        [follow] = asker.say("主任是谁？")  # the earlier question still steers the follow-up
        assert quoted(parse_html(follow.params["text"])).startswith("[1] 紫金山天文台 · 第2段")
        time.sleep(1.0)
        assert len(asker.sent()) == 2 and len(waiter.sent()) == 1  # nothing answered twice
        assert bot.stop() == 0  # a clean stop folds the journal into the state file
        saved = json.loads(state.read_text(encoding="utf-8"))
        assert saved["chats"]["401"] == ["紫金山天文台在哪里？", "主任是谁？"]
        assert set(api.pushed) <= answered_ids(state)
    finally:
        bot.stop()
        api.stop()
    assert api.token not in state.read_text(encoding="utf-8") + bot.output() + (tmp_path / "bot.log").read_text()


# --- pieces --------------------------------------------------------------------------------------

def test_searches_are_capped_and_the_loop_stays_free():
    from bot.telegram.handlers import Services

    class SlowAnswerer:
        k, running, most = 5, 0, 0
        lock = threading.Lock()

        def ask(self, question, context, k):
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            time.sleep(0.05)
            with self.lock:
                self.running -= 1
            return question

    async def scenario():
        qa = Services(SlowAnswerer(), telegram_settings({"max_concurrent_searches": 2}, environ={}), "corpus")
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.create_task(ticker())
        answers = await asyncio.gather(*(qa.ask(f"q{i}", ()) for i in range(8)))
        tick.cancel()
        return qa.answerer.most, answers, ticks

    most, answers, ticks = asyncio.run(scenario())
    assert most == 2 and answers == [f"q{i}" for i in range(8)] and ticks >= 10


class Upd:
    """Just what the ledger reads of an update served by getUpdates."""

    def __init__(self, update_id: int):
        self.update_id = update_id


def test_ledger_confirms_only_what_is_done_and_follows_ids_down():
    from bot.telegram.persistence import Ledger

    clock = [1000.0]
    ledger = Ledger([(12, 990.0, "")], clock=lambda: clock[0])
    assert ledger.offset is None  # a fresh start: from the oldest pending update, whatever ids it had
    fresh = ledger.admit([Upd(i) for i in (11, 12, 13, 14)], None)
    assert [u.update_id for u in fresh] == [11, 13, 14]  # 12 was answered (logged as skipped)
    assert ledger.admit([Upd(11), Upd(13)], 11) == []  # re-sent while in hand: not taken twice
    assert ledger.begin(13, "") is None and ledger.begin(13, "") == "it is being answered"
    ledger.begin(11, ""), ledger.begin(14, "")
    ledger.finish(13)  # done out of order: 11 is still in hand
    assert ledger.offset == 11
    ledger.finish(11)
    assert ledger.offset == 14
    ledger.finish(14, ok=False)  # abandoned at shutdown: Telegram must send it again
    assert ledger.offset == 14
    ledger.taken.clear()
    assert ledger.offset == 15
    # a quiet week later Telegram starts again from a random id, below the offset we ask for
    fresh = ledger.admit([Upd(3), Upd(4)], 15)
    assert [u.update_id for u in fresh] == [3, 4] and ledger.offset == 3
    for uid in (3, 4):
        ledger.begin(uid, "")
        ledger.finish(uid)
    assert ledger.offset == 5
    clock[0] += 27 * 3600  # answered ids are kept for a bounded window
    ledger.finish(5)
    assert list(ledger.answered) == [5]


def test_webhook_ids_going_down_are_a_new_sequence_and_redeliveries_are_skipped():
    from bot.telegram.persistence import Ledger

    ledger = Ledger()
    for uid in range(1000, 1011):
        assert ledger.begin(uid, f"m1:{uid}") is None
        ledger.finish(uid)
    assert ledger.begin(1005, "m1:1005").startswith("already answered")  # Telegram delivered it again
    assert ledger.begin(17, "m1:17") is None and ledger.epoch == 1  # far below: a new sequence
    assert ledger.begin(18, "m1:18") is None and ledger.epoch == 1  # logged once, not per update
    assert ledger.begin(1005, "m2:77") is None  # the same id for another message: a new update


def test_journal_survives_torn_lines_and_compacts(tmp_path):
    from bot.telegram.journal import Journal
    from bot.telegram.persistence import Durable
    from bot.telegram.state import History

    path = tmp_path / "deep" / "state.json"
    durable = Durable(Journal(path, every=3), History(2))
    for uid, question in ((1, "a"), (2, "b"), (3, "c")):
        durable.history.add(-7, question)
        durable.ledger.begin(uid, "")
        durable.done(durable.ledger.finish(uid), -7)
    assert durable.journal.path.read_text() == ""  # the third record compacted it into the snapshot
    durable.ledger.begin(4, "")
    durable.done(durable.ledger.finish(4), None)
    with durable.journal.path.open("a") as f:
        f.write('{"u": 5, "t"')  # torn by a kill
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.journal", "state.json"]  # no temporary file
    again = Durable(Journal(path), History(2))
    assert again.history.context(-7) == ("b", "c") and set(again.ledger.answered) == {1, 2, 3, 4}
    assert oct(path.stat().st_mode & 0o777) == oct(again.journal.path.stat().st_mode & 0o777) == "0o600"
    path.write_text("{not json")
    assert Journal(path).load()[0] == {}


def test_new_settings_and_their_defaults(tmp_path):
    tg = telegram_settings({"feedback_log": str(tmp_path / "fb.jsonl")}, environ={})
    assert tg.state_file == tmp_path / "telegram-state.json" and tg.max_concurrent_searches == 4
    assert tg.max_sends_per_second == 30 and tg.send_retry_seconds == 120
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="telegram.max_concurrent_searches should be a whole number from 1"):
        telegram_settings({"max_concurrent_searches": 0}, environ={})
