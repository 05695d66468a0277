"""The smaller things users run into: removed articles, blocked bots, outages at shutdown,
replies in groups, photos, stickers and invisible questions. The real ``qabot telegram``
against the fake Bot API on 127.0.0.1.
"""
from __future__ import annotations

import json
import signal
import time

import pytest


from tests.fake_bot_api import DOCUMENT, PHOTO, STICKER, VOICE, LANGUAGES, FakeBotAPI, callback, message  # noqa: E402
from tests.telegram_harness import serving  # noqa: E402
from tests.telegram_harness import buttons, visible  # noqa: E402
from tests.telegram_harness import Chat, RunningBot, quoted  # noqa: E402

from bot import messages as m  # noqa: E402
from bot.i18n import Messages  # noqa: E402

ENGLISH = Messages("en")
ARTICLE_GONE, MEDIA_HINT = ENGLISH(m.ARTICLE_GONE), ENGLISH(m.MEDIA_HINT)
LANGUAGES.update({user: "en" for user in range(901, 907)})  # English-speaking testers

CONFIG = """\
telegram:
  rate_limit_per_minute: 0
  max_sends_per_second: 0
  send_retry_seconds: 60
  state_file: {state}
"""


@pytest.fixture(scope="module")
def bot(api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("telegram-edges")
    with serving(api, folder, CONFIG.format(state=folder / "state.json")) as running:
        yield running




def press(api, chat: Chat, call, data: str):
    update = callback(api, chat.user_id, call.result, data)
    api.push(update)
    query_id = update["callback_query"]["id"]
    return api.wait(lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id,
                    what=f"answer to callback {data}")[0]


def test_photos_and_files_with_a_caption_are_questions_others_get_a_hint(api, bot):
    chat = Chat(api, 901, 901)
    for media in ({"photo": PHOTO}, {"document": DOCUMENT}):
        before = len(chat.sent())
        api.push(message(api, 901, 901, None, caption="智慧医疗实验室在哪里？", **media))
        [reply] = chat.wait_new(before)
        assert quoted(visible(reply)).startswith("[1] 商汤")
    for media in ({"sticker": STICKER}, {"voice": VOICE}, {"photo": PHOTO}):
        before = len(chat.sent())
        api.push(message(api, 901, 901, None, **media))
        [reply] = chat.wait_new(before)
        assert visible(reply) == MEDIA_HINT
    group = Chat(api, -9001, 902, "supergroup")  # in a group a sticker is not addressed to the bot: quiet
    api.wait_delivered(api.push(message(api, -9001, 902, None, "supergroup", sticker=STICKER)))
    [reply] = group.say("@qa_test_bot 长城")
    assert quoted(visible(reply)).startswith("[1] 长城") and len(group.sent()) == 1


def test_a_question_of_only_invisible_characters_is_empty(api, bot):
    chat = Chat(api, 903, 903)
    [reply] = chat.say("\u200b\u200c\u2060\ufeff")
    assert visible(reply).startswith("Yes? Ask me a question")
    [reply] = chat.say("/ask \u200b\u200b")
    assert visible(reply).startswith("Put the question after /ask")


def test_a_reply_in_a_group_follows_up_that_answer(api, bot):
    group = Chat(api, -9002, 904, "supergroup")
    [observatory] = group.say("@qa_test_bot 紫金山天文台在哪里？")
    [lab] = group.say("@qa_test_bot 智慧医疗实验室在哪里？")  # the group's latest question
    [reply] = group.say("主任是谁？", reply_to=observatory.result)
    assert "天文台的主任是李教授" in quoted(visible(reply)).split("\n\n")[0]
    [reply] = group.say("主任是谁？", reply_to=lab.result)
    assert "实验室主任是王博士" in quoted(visible(reply)).split("\n\n")[0]


def test_a_blocked_bot_sends_no_apology_and_logs_one_line(api, bot):
    api.fail_next("sendMessage", "Forbidden: bot was blocked by the user", status=403, chat_id=905)
    uid = api.push(message(api, 905, 905, "长城是什么？"))
    api.until(lambda: f"update {uid} not answered" in bot.output(), what="the log line")
    time.sleep(0.5)
    attempts = [c for c in api.calls if c.method == "sendMessage" and str(c.params.get("chat_id")) == "905"]
    assert [c.status for c in attempts] == [403]  # no apology after it
    lines = [line for line in bot.output().splitlines() if f"update {uid}" in line]
    assert len(lines) == 1 and "blocked" in lines[0] and "Traceback" not in bot.output()


def test_the_article_button_after_a_reload_removed_the_article(api, bot):
    chat = Chat(api, 906, 906)
    [answer] = chat.say("智慧医疗实验室在哪里？")
    corpus = bot.folder / "corpus.jsonl"
    whole = corpus.read_text(encoding="utf-8")
    kept = [line for line in whole.splitlines() if json.loads(line)["id"] != "lab"]
    corpus.write_text("\n".join(kept) + "\n", encoding="utf-8")
    bot.proc.send_signal(signal.SIGHUP)
    try:
        api.until(lambda: "Reloaded: 12 articles" in bot.output(), timeout=30, what="the reload")
        for label in ("📰 Article 1", "¶ 1"):
            ack = press(api, chat, answer, buttons(answer)[label])
            assert ack.params["text"] == ARTICLE_GONE and ack.params["show_alert"] is True
        assert len(chat.sent()) == 1 and "error while handling" not in bot.output()
    finally:  # the other tests of this module (in any order) ask about the lab again
        corpus.write_text(whole, encoding="utf-8")
        bot.proc.send_signal(signal.SIGHUP)
        api.until(lambda: "Reloaded: 13 articles" in bot.output(), timeout=30, what="the reload back")


def test_shutdown_during_an_outage_logs_one_line_per_question_and_loses_none(tmp_path):
    """A bot and a fake API of its own: this test stops its bot, the others of the module share theirs."""
    api = FakeBotAPI().start()
    try:
        with serving(api, tmp_path / "bot", CONFIG.format(state=tmp_path / "bot" / "state.json")) as bot:
            stop_during_an_outage(api, bot)
    finally:
        api.stop()


def stop_during_an_outage(api, bot) -> None:
    chats = [-9100 - i for i in range(5)]
    for chat in chats:
        api.fail_chat(chat, 502)
    asked = [api.push(message(api, chat, 910, "@qa_test_bot 长城是什么？", "group")) for chat in chats]
    api.until(lambda: all(any(c.injected and str(c.params.get("chat_id")) == str(chat) for c in api.calls)
                          for chat in chats), what="the answers failing")
    assert bot.stop() == 0
    log = bot.output()
    for uid in asked:
        lines = [line for line in log.splitlines() if f"update {uid} " in line]
        assert len(lines) == 1 and "Telegram sends it again after the restart" in lines[0], lines
    assert "Traceback" not in log
    for chat in chats:
        api.fail_chat(chat, None)
    again = RunningBot(api, bot.folder, CONFIG.format(state=bot.folder / "state.json"), log="bot2.log")
    try:
        again.wait_ready()
        api.until(lambda: all(len(api.sent(chat)) == 1 for chat in chats), what="the answers after the restart")
        time.sleep(0.5)
        assert all(len(api.sent(chat)) == 1 for chat in chats)
    finally:
        again.stop()
