"""Delivery as Telegram's own server makes it hard: ids that go down, kill -9 mid-burst, floods.

The real ``qabot telegram`` runs in a subprocess against the fake Bot API, which serves
updates as tdlib's ``telegram-bot-api`` does (see tests/fake_bot_api.py).
"""
from __future__ import annotations

import collections
import time
from pathlib import Path


from tests.fake_bot_api import LANGUAGES, FakeBotAPI, message  # noqa: E402
from tests.telegram_harness import Chat, RunningBot, free_port, post_update  # noqa: E402
from tests.telegram_rules import parse_html  # noqa: E402

from bot.telegram.journal import Journal  # noqa: E402

LANGUAGES.update({user: "en" for user in (701, 702, 703, 704)})  # English-speaking testers
CONFIG = """\
telegram:
  rate_limit_per_minute: {rate}
  max_sends_per_second: {sends}
  send_retry_seconds: 30
  state_file: {state}
"""


def config(folder: Path, rate: int = 0, sends: int = 0) -> str:
    return CONFIG.format(rate=rate, sends=sends, state=folder / "state.json")


def question(api: FakeBotAPI, chat_id: int, text: str = "长城是什么？", update_id: int | None = None) -> int:
    """Push a question in group ``chat_id`` (update id ``update_id``: a new sequence); its message id.
    In groups the bot's answers quote the question, so they can be counted per question."""
    update = group_message(api, chat_id, text)
    api.push(update, update_id)
    return update["message"]["message_id"]


def group_message(api: FakeBotAPI, chat_id: int, text: str) -> dict:
    return message(api, chat_id, -chat_id, f"@qa_test_bot {text}", "group")


def answered(api: FakeBotAPI, chats) -> collections.Counter:
    """How many answers each question (by message id) got in ``chats``."""
    return collections.Counter(c.params["reply_parameters"]["message_id"]
                               for chat in chats for c in api.sent(chat) if c.params.get("reply_parameters"))


def journaled(folder: Path) -> set[int]:
    saved, records = Journal(folder / "state.json").load()
    return {entry[0] for entry in saved.get("answered", [])} | {r["u"] for r in records}


# --- update ids going down -----------------------------------------------------------------------

def test_polling_follows_ids_that_go_down_mid_run_and_across_a_restart(tmp_path):
    """Ids 100-110 answered, then a new sequence from 17 that grows past 110: every one answered."""
    api, chats = FakeBotAPI().start(), [-600 - i for i in range(8)]
    bot = RunningBot(api, tmp_path, config(tmp_path))
    try:
        bot.wait_ready()
        asked = [question(api, chats[0], update_id=100)] + [question(api, chats[i % 8]) for i in range(1, 11)]
        api.until(lambda: sum(answered(api, chats).values()) == 11, what="the first sequence")
        # a quiet week later: ids restart below the offset the bot confirms (111)
        asked += [question(api, chats[1], update_id=17), question(api, chats[2]), question(api, chats[3])]
        api.until(lambda: sum(answered(api, chats).values()) == 14, timeout=10, what="17, 18 and 19")
        asked += [question(api, chats[i % 8]) for i in range(96)]  # 20 … 115: past the old offset
        api.until(lambda: sum(answered(api, chats).values()) == 110, timeout=60, what="20 … 115")
        assert bot.stop() == 0
        # while the bot is down, yet another sequence starts (another Bot API server, say)
        asked += [question(api, chats[4], update_id=5), question(api, chats[5])]
        bot = RunningBot(api, tmp_path, config(tmp_path), log="bot2.log")
        bot.wait_ready()
        api.until(lambda: sum(answered(api, chats).values()) == 112, what="5 and 6 after the restart")
        time.sleep(1.0)
        counts = answered(api, chats)
        assert sorted(counts) == sorted(asked) and set(counts.values()) == {1}  # all answered, none twice
        assert (tmp_path / "bot.log").read_text().count("update ids went down") == 1  # logged once
        assert "update ids went down since the last run (115, now 5)" in bot.output()
    finally:
        bot.stop()
        api.stop()


def webhook_bot(api: FakeBotAPI, folder: Path, port: int, log: str = "bot.log") -> RunningBot:
    webhook = f"telegram:\n  webhook_url: http://127.0.0.1:{port}/tg/hook\n  webhook_port: {port}\n"
    bot = RunningBot(api, folder, config(folder).replace("telegram:\n", webhook), log=log,
                     env={"TELEGRAM_WEBHOOK_SECRET": "hook-secret"})
    bot.wait_ready()
    return bot


def test_webhook_follows_ids_that_go_down_and_skips_redeliveries_across_a_restart(tmp_path):
    api, port = FakeBotAPI().start(), free_port()
    updates = {uid: {"update_id": uid, **group_message(api, -610 - uid % 5, "长城是什么？")}
               for uid in [*range(1000, 1011), 17, 18, 19, 20, 3]}
    chats = range(-614, -609)
    post = lambda uid: post_update(port, updates[uid], "hook-secret")  # noqa: E731
    bot = webhook_bot(api, tmp_path, port)
    try:
        for uid in [*range(1000, 1011), 17, 18]:
            assert post(uid) == 200
        api.until(lambda: sum(answered(api, chats).values()) == 13, what="1000-1010, 17 and 18")
        assert post(1005) == 200  # Telegram delivers an answered update again
        bot.stop()
        bot = webhook_bot(api, tmp_path, port, log="bot2.log")
        assert post(18) == 200 and post(19) == 200 and post(20) == 200  # 18 again, after the restart
        assert post(3) == 200  # and down again: another sequence
        api.until(lambda: sum(answered(api, chats).values()) == 16, what="19, 20 and 3")
        time.sleep(1.0)
        assert set(answered(api, chats).values()) == {1}
        first, second = (tmp_path / "bot.log").read_text(), bot.output()
        assert first.count("update ids went down (update 17 came after 1010)") == 1
        assert "skipped update 1005: already answered" in first and "skipped update 18: already answered" in second
    finally:
        bot.stop()
        api.stop()


# --- kill -9 in the middle of a burst ------------------------------------------------------------

def test_kill_mid_burst_repeats_at_most_the_answers_in_flight_and_loses_nothing(tmp_path):
    api, chats = FakeBotAPI().start(), [-8000 - i for i in range(28)]
    asked = {}
    bot = RunningBot(api, tmp_path, config(tmp_path))
    try:
        bot.wait_ready()
        for i in range(60):
            chat = chats[i % 28]
            update = message(api, chat, 8000 + i, f"@qa_test_bot 第{i % 10 + 1}号实验室发表了多少篇论文？", "group")
            asked[update["message"]["message_id"]] = (api.push(update), chat)
        api.until(lambda: sum(answered(api, chats).values()) >= 20, what="a third of the answers")
        bot.kill()
        before = answered(api, chats)
        recorded = journaled(tmp_path)
        # in flight: delivered, but the kill came before the bot had recorded it
        in_flight = {m for m in before if asked[m][0] not in recorded}
        bot = RunningBot(api, tmp_path, config(tmp_path), log="bot2.log")
        bot.wait_ready()
        api.until(lambda: set(answered(api, chats)) == set(asked), timeout=60, what="every question answered")
        time.sleep(1.0)
        counts = answered(api, chats)
        repeated = {m for m, n in counts.items() if n > 1}
        assert set(counts.values()) <= {1, 2} and repeated <= in_flight  # nothing lost, at most one repeat each
        assert len({asked[m][1] for m in repeated}) == len(repeated)  # at most one answer in flight per chat
        print(f"{len(before)} answered before the kill, {len(in_flight)} in flight, {len(repeated)} repeated")
    finally:
        bot.stop()
        api.stop()


# --- floods --------------------------------------------------------------------------------------

def test_a_flood_gets_one_notice_and_does_not_hold_up_others(tmp_path):
    api = FakeBotAPI().start()
    bot = RunningBot(api, tmp_path, config(tmp_path, rate=5, sends=30))  # Telegram's send limits on
    flooder, other = Chat(api, 701, 701), Chat(api, 702, 702)
    group, other_group = Chat(api, -7001, 703, "supergroup"), Chat(api, -7002, 704, "supergroup")
    try:
        bot.wait_ready()
        for i in range(60):
            api.push(message(api, 701, 701, f"第{i % 10 + 1}号实验室发表了多少篇论文？"))
        started = time.monotonic()
        [reply] = other.say("紫金山天文台在哪里？")
        assert time.monotonic() - started < 5  # generous: it does not wait behind the flood's replies
        for i in range(60):
            api.push(message(api, -7001, 703, f"@qa_test_bot 第{i % 10 + 1}号实验室", "supergroup"))
        started = time.monotonic()
        other_group.say("@qa_test_bot 长城是什么？")
        assert time.monotonic() - started < 5
        api.until(lambda: bot.output().count("user=701 chat=701 outcome=") == 60
                  and bot.output().count("user=703 chat=-7001 outcome=") == 60, what="both floods handled")
        time.sleep(1.0)
        for chat in (flooder, group):
            texts = [parse_html(c.params["text"]) for c in chat.sent()]
            assert len(texts) == 6 and "faster than 5 questions a minute" in texts[-1]  # 5 answers, 1 notice
            assert all("实验室" in t for t in texts[:5])
        assert bot.output().count("outcome=rate_limited_unanswered") == 2 * 54  # each one logged
        assert "紫金山天文台" in parse_html(reply.params["text"])
    finally:
        bot.stop()
        api.stop()


def test_the_rate_limit_tells_once_per_window():
    from bot.telegram.access import RateLimit

    now = [0.0]
    rate = RateLimit(2, clock=lambda: now[0])
    assert rate.wait(1) == rate.wait(1) == 0.0
    waits = [rate.wait(1) for _ in range(3)]
    assert all(w > 0 for w in waits) and [rate.notice(1, w) for w in waits] == [True, False, False]
    assert rate.wait(2) == 0.0  # another user is not affected
    now[0] = 61.0  # the window has passed: they may ask again, and a new flood gets a new notice
    assert rate.wait(1) == rate.wait(1) == 0.0 and rate.notice(1, rate.wait(1)) is True
