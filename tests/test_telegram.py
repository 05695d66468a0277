"""The Telegram frontend end to end: the real ``qabot telegram`` against a fake Bot API on 127.0.0.1.

The fake is strict where Telegram is (length, callback data, HTML, no-op edits), so
every test also checks that the bot never sent anything Telegram would reject.
"""
from __future__ import annotations

import json
import signal

import pytest
from hypothesis import example, given, settings, strategies as st


from tests.fake_bot_api import LANGUAGES, FakeBotAPI, callback, inline, message  # noqa: E402
from tests.telegram_rules import BadRequest, parse_html, units  # noqa: E402
from tests.telegram_harness import serving  # noqa: E402
from tests.telegram_harness import buttons, visible  # noqa: E402
from tests.telegram_harness import DIRECTOR, LAB, TITLE, Chat, RunningBot, free_port, post_update, write_corpus  # noqa: E402
from tests.telegram_harness import quoted as without_answer  # noqa: E402

from bot.messages import NOT_COVERED  # noqa: E402
from bot.config import ConfigError  # noqa: E402
from bot.telegram.config import telegram_settings  # noqa: E402
from bot.telegram.format import split_html  # noqa: E402
from bot.telegram.state import parse_callback  # noqa: E402

GROUP = -1001
REFUSED = 666
LANGUAGES.update({user: "en" for user in (101, 102, 103, 104, 105, 106, 107, REFUSED)})  # English-speaking testers
CONFIG = """\
passages:
  target: 5000   # long passages, so one answer must be split
  max: 8000
telegram:
  allowed_users: [101, 102, 103, 104, 105, 106, 107]
  allowed_chats: [{group}]
  rate_limit_per_minute: 5
  feedback_log: {feedback}
"""


@pytest.fixture(scope="module")
def bot(api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("telegram")
    with serving(api, folder, CONFIG.format(group=GROUP, feedback=folder / "feedback.jsonl")) as running:
        running.feedback = folder / "feedback.jsonl"
        running.state = folder / "telegram-state.json"  # by default beside the feedback log
        yield running
    stopped_cleanly(api, running)


def stopped_cleanly(api, bot) -> None:
    """After the module's tests, in whatever order they ran: nothing rejected, a clean stop, every
    update served was handled, and no token in the log or the state file."""
    assert [(c.method, c.error) for c in api.errors()] == []
    assert bot.returncode == 0
    log = bot.output()
    assert api.token not in log and "HTTP Request" not in log
    state = json.loads(bot.state.read_text(encoding="utf-8"))  # the follow-ups and answered updates, no token
    assert api.token not in bot.state.read_text(encoding="utf-8") and state["high"] == max(api.pushed)
    assert {uid for uid, _, _ in state["answered"]} == api.served
    assert oct(bot.state.stat().st_mode & 0o777) == "0o600"


def quoted(call) -> str:
    """The reply from the quoted passage on: a confident answer, in bold, comes first (tests/test_i18n.py)."""
    return without_answer(visible(call))



def press(api: FakeBotAPI, chat: Chat, call, data: str, user_id: int | None = None):
    """Press a button (or send forged data) under the bot's message; the answerCallbackQuery call."""
    update = callback(api, user_id or chat.user_id, call.result, data)
    api.push(update)
    query_id = update["callback_query"]["id"]
    return api.wait(lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id,
                    what=f"answer to callback {data}")[0]


# --- polling bot -------------------------------------------------------------------------------

def test_start_registers_commands_and_says_what_it_knows(api, bot):
    commands = api.wait(lambda c: c.method == "setMyCommands")[0].params["commands"]
    assert {c["command"] for c in commands} == {"start", "help", "ask", "reset"}
    [reply] = Chat(api, 101, 101).say("/start")
    text = visible(reply)
    assert "13 articles" in text and "from corpus.jsonl" in text and "/ask" in text and "@qa_test_bot" in text and "/reset" in text
    [reply] = Chat(api, 101, 101).say("/help")
    assert "13 articles" in visible(reply)


def test_answer_quotes_the_best_passage_cited_and_escaped(api, bot):
    [reply] = Chat(api, 101, 101).say("智慧医疗实验室在哪里？")
    text, html = quoted(reply), reply.params["text"]
    assert text.startswith(f"[1] {TITLE} · para. 1\n{LAB}")  # title and passage verbatim; file and line on demand
    assert "商汤 &lt;b&gt;医疗&lt;/b&gt; &amp; AI" in html and "&lt;b&gt;医学影像&lt;/b&gt;" in html
    assert "<b>智慧医疗实验室</b>" in html  # matched words in bold
    assert f"\n\n[2] {TITLE} · para. 2\n{DIRECTOR}" in text  # the next passages as short cited lines
    assert "[3] 实验室简讯1 · sentence 1\n" in text  # a one-paragraph article: the sentence the passage starts at
    assert "<i>商汤 &lt;b&gt;医疗&lt;/b&gt; &amp; AI · para. 2</i>" in html and "x &lt; y &amp; z &gt; w" in html
    keys = buttons(reply)
    assert {"¶ 1", "📰 Article 1", "More results ▶", "👍", "👎"} <= set(keys)
    assert all(len(data.encode()) <= 64 for data in keys.values())


def test_question_with_markup_characters_is_answered_safely(api, bot):
    [reply] = Chat(api, 102, 102).say("<b>医学影像</b> & 合作")
    assert LAB in visible(reply)
    # the passage's literal <b> stays text; only the matched words are bold
    assert "&lt;b&gt;<b>医学影像</b>&lt;/b&gt;" in reply.params["text"]


def test_not_covered_empty_and_unsearchable_questions(api, bot):
    chat = Chat(api, 107, 107)
    [reply] = chat.say("火星上的实验室有多少个机器人？")
    assert visible(reply).startswith(NOT_COVERED) and "实验室简讯" in visible(reply)
    chat.say("/reset")  # else the earlier question's words would find passages
    [reply] = chat.say("企鹅吃什么？")
    assert "don't say anything" in visible(reply) and not buttons(reply)
    [reply] = chat.say("是谁？")
    assert visible(reply).startswith("Can't search that: nothing to search for") and not buttons(reply)
    [reply] = chat.say("/ask")
    assert "Put the question after /ask" in visible(reply)


def test_long_answer_is_split_into_balanced_messages(api, bot):
    chat = Chat(api, 106, 106)
    # the 论文 passages of the 实验室简讯 articles come after the wall passage, as more results
    first, second = chat.say("最著名的烽火台叫做狼烟台和论文", expect=2)
    assert quoted(first).startswith("[1] 长城 · para. 2")
    assert first.params["text"].startswith("<b>") and first.params["text"].endswith("</blockquote>")
    assert second.params["text"].startswith("<blockquote>")  # the quote continues, reopened
    assert "狼烟台" in visible(first) + visible(second)
    assert not buttons(first) and "👍" in buttons(second)  # the keyboard goes under the last piece
    press(api, chat, second, buttons(second)["More results ▶"])
    [page] = api.wait(lambda c: c.method == "editMessageText" and c.params["message_id"] == second.result["message_id"])
    press(api, chat, second, buttons(page)["◀ Back"])
    api.until(lambda: api.messages[(106, second.result["message_id"])].html == second.params["text"], what="back")
    # the whole article: many messages, each under the limit
    before = len(chat.sent())
    press(api, chat, second, buttons(second)["📰 Article 1"])
    api.until(lambda: any("工匠们世代守护" in visible(c) and "699" in visible(c) for c in chat.sent()[before:]),
              what="the end of the article")
    pieces = chat.sent()[before:]
    assert len(pieces) >= 5 and all(units(visible(p)) <= 4096 for p in pieces)
    assert visible(pieces[0]).startswith("长城 · corpus.jsonl:3")


def test_more_results_paragraph_and_forged_buttons(api, bot):
    chat = Chat(api, 102, 102)
    [answer] = chat.say("智慧医疗实验室在哪里？")
    keys = buttons(answer)
    ack = press(api, chat, answer, keys["More results ▶"])
    edit = api.wait(lambda c: c.method == "editMessageText" and c.params["message_id"] == answer.result["message_id"])[0]
    assert visible(edit).startswith("More passages for 智慧医疗实验室在哪里？")
    assert "◀ Back" in buttons(edit) and "[5] 实验室简讯" in visible(edit)
    press(api, chat, answer, keys["More results ▶"])  # a double tap: nothing to edit
    assert len([c for c in api.calls if c.method == "editMessageText"
                and c.params["message_id"] == answer.result["message_id"]]) == 1
    assert ack.status == 200

    before = len(chat.sent())
    press(api, chat, answer, keys["¶ 1"])
    [para] = chat.wait_new(before)
    assert visible(para) == f"{TITLE} · para. 1 · corpus.jsonl:1\n{LAB}" and "📰 Whole article" in buttons(para)

    ident = keys["¶ 1"].split(":")[1]
    for forged in ("p:AAAAAAAA:1", "zzz", "p:" + ident + ":1;drop", "a:" + ident + ":1" + "9" * 60):
        assert "expired" in press(api, chat, answer, forged).params["text"]
    assert "No such passage" in press(api, chat, answer, f"p:{ident}:99").params["text"]
    other = Chat(api, 105, 105)  # the same id pressed from another chat names nothing there
    [theirs] = other.say("/start")
    assert "expired" in press(api, other, theirs, keys["¶ 1"]).params["text"]
    assert len(chat.sent()) == before + 1 and len(other.sent()) == 1


def test_follow_ups_feedback_and_reset(api, bot):
    chat = Chat(api, 103, 103)
    chat.say("紫金山天文台在哪里？")
    [follow] = chat.say("主任是谁？")
    # the earlier question steers it to the observatory's director (alone, 主任 finds the lab's)
    assert quoted(follow).startswith("[1] 紫金山天文台 · para. 2\n天文台的主任是李教授")
    press(api, chat, follow, buttons(follow)["👍"])
    api.wait(lambda c: c.method == "editMessageReplyMarkup" and c.params["message_id"] == follow.result["message_id"])
    assert "Already noted" in press(api, chat, follow, buttons(follow)["👍"]).params["text"]
    press(api, chat, follow, buttons(follow)["👎"])
    api.until(lambda: bot.feedback.exists() and len(bot.feedback.read_text().splitlines()) >= 2, what="feedback")
    up, down = [json.loads(line) for line in bot.feedback.read_text(encoding="utf-8").splitlines()[:2]]
    assert up["vote"] == "up" and down["vote"] == "down"
    assert up["question"] == "主任是谁？" and up["context"] == ["紫金山天文台在哪里？"]
    assert up["passages"][0] == {"article_id": "obs", "paragraph": 2, "part": 1, "rank": 1}
    # the bot logs a vote before it edits the keyboard: wait for the second edit, don't race it
    api.until(lambda: len([c for c in api.calls if c.method == "editMessageReplyMarkup"]) >= 2, what="the 👎 mark")
    marks = [c for c in api.calls if c.method == "editMessageReplyMarkup"]
    assert len(marks) == 2 and "👎 ✓" in buttons(marks[-1])

    [reply] = chat.say("/reset")
    assert "Forgot" in visible(reply)
    [fresh] = chat.say("主任是谁？")
    assert quoted(fresh).startswith(f"[1] {TITLE} · para. 2") and DIRECTOR in visible(fresh)


def test_groups_answer_only_when_addressed(api, bot):
    group = Chat(api, GROUP, 110, "supergroup")  # user 110 is not listed, but the chat is
    quiet = api.push(message(api, GROUP, 110, "实验室在哪里？大家知道吗", "supergroup"))
    api.wait_delivered(quiet)
    [reply] = group.say("@qa_test_bot 智慧医疗实验室在哪里？")
    assert reply.params["reply_parameters"]["message_id"] == group.last_message["message_id"]
    assert quoted(reply).startswith(f"[1] {TITLE}")
    [reply] = group.say("主任是谁？", reply_to=reply.result)  # a reply to the bot's answer
    assert DIRECTOR in visible(reply)
    [reply] = group.say("/ask@qa_test_bot 紫金山天文台")
    assert quoted(reply).startswith("[1] 紫金山天文台")
    for text in ("/ask@other_bot 实验室", "@qa_test_botanist 实验室", "实验室"):
        api.wait_delivered(api.push(message(api, GROUP, 110, text, "supergroup")))
    [last] = group.say("@QA_TEST_BOT 智慧医疗实验室")
    assert quoted(last).startswith(f"[1] {TITLE}")
    assert len(group.sent()) == 4  # nothing for the messages not addressed to the bot


def test_unlisted_users_are_refused_before_any_search(api, bot):
    chat = Chat(api, REFUSED, REFUSED)
    for text in ("智慧医疗实验室在哪里？", "/start", "/ask 实验室"):
        [reply] = chat.say(text)
        assert visible(reply).startswith("Sorry, this bot answers only its listed users") and "实验室" not in visible(reply)
    outsiders = Chat(api, -2002, REFUSED, "group")
    api.wait_delivered(api.push(message(api, -2002, REFUSED, "实验室", "group")))
    [reply] = outsiders.say("@qa_test_bot 实验室")
    assert visible(reply).startswith("Sorry") and len(outsiders.sent()) == 1
    update = inline(api, REFUSED, "实验室")
    api.push(update)
    answered = api.wait(lambda c: c.method == "answerInlineQuery"
                        and c.params["inline_query_id"] == update["inline_query"]["id"])[0]
    assert answered.params["results"] == [] and "private" in answered.params["button"]["text"]
    [mine] = Chat(api, 101, 101).say("/start")
    assert "Sorry" in press(api, chat, mine, "p:AAAAAAAA:1", user_id=REFUSED).params["text"]
    log = bot.output()
    assert "refused user=666" in log and "user=666 chat=666 outcome" not in log


def test_rate_limit_per_user(api, bot):
    chat = Chat(api, 104, 104)
    before = len(chat.sent())
    for i in range(6):  # six questions at once: handled concurrently
        api.push(message(api, 104, 104, f"第{i + 1}号实验室", "private"))
    replies = [visible(c) for c in chat.wait_new(before, 6)]
    assert sum("faster than 5 questions a minute" in r for r in replies) == 1


def test_inline_mode_offers_cited_passages(api, bot):
    update = inline(api, 105, "智慧医疗实验室")
    api.push(update)
    answered = api.wait(lambda c: c.method == "answerInlineQuery"
                        and c.params["inline_query_id"] == update["inline_query"]["id"])[0]
    results = answered.params["results"]
    message = parse_html(results[0]["input_message_content"]["message_text"])
    lead = message.split("\n")[0]  # the confident answer, when there is one, else the citation
    assert results[0]["type"] == "article"
    assert results[0]["title"] == (lead if not lead.startswith(TITLE) else "商汤科技在上海成立了智慧医疗实验室")
    assert results[0]["description"] == f"{TITLE} · para. 1"
    assert len({r["title"] for r in results}) == len(results)
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML" and LAB in parse_html(content["message_text"])
    empty = inline(api, 105, "  ")
    api.push(empty)
    answered = api.wait(lambda c: c.method == "answerInlineQuery"
                        and c.params["inline_query_id"] == empty["inline_query"]["id"])[0]
    assert answered.params["results"] == []


def test_an_error_is_logged_and_told_and_the_bot_goes_on(api, bot):
    chat = Chat(api, 101, 101)
    api.fail_next("sendMessage")  # the answer itself fails to send
    [sorry] = chat.say("紫金山天文台在哪里？")
    assert visible(sorry) == "Sorry, something went wrong while answering. Please try again."
    [reply] = chat.say("/reset")
    assert "Forgot" in visible(reply)
    assert "error while handling update" in bot.output() and "chat not found" in bot.output().lower()
    assert all(api.token not in c.params.get("text", "") for c in api.calls)  # nor in the error reply


def test_sighup_reloads_changed_articles_while_running(api, bot, tmp_path):
    chat = Chat(api, 106, 106)
    before = chat.say("普洱茶产于哪里？")[-1]
    assert "云南" not in visible(before)
    corpus = bot.folder / "corpus.jsonl"
    whole = corpus.read_text(encoding="utf-8")
    with open(corpus, "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "tea", "title": "普洱茶", "text": "普洱茶产于云南，是一种发酵茶。"}, ensure_ascii=False) + "\n")
    bot.proc.send_signal(signal.SIGHUP)
    try:
        api.until(lambda: "Reloaded: 14 articles" in bot.output(), timeout=30, what="the reload")
        after = chat.say("普洱茶产于哪里？")[-1]
        assert quoted(after).startswith("[1] 普洱茶 · sentence 1\n普洱茶产于云南")
    finally:  # the module's other tests, in any order, know the 13 articles
        corpus.write_text(whole, encoding="utf-8")
        bot.proc.send_signal(signal.SIGHUP)
        api.until(lambda: "Reloaded: 13 articles" in bot.output(), timeout=30, what="the reload back")


def test_the_log_says_what_was_answered(api, bot):
    Chat(api, 107, 107).say("智慧医疗实验室在哪里？")
    log = bot.output()
    assert "outcome=answered" in log and "question='智慧医疗实验室在哪里？'" in log and "latency_ms=" in log
    assert api.token not in log


# --- webhook bot -------------------------------------------------------------------------------

def test_webhook_mode_checks_the_secret(tmp_path):
    api, port, secret = FakeBotAPI().start(), free_port(), "s3cret-Token_1"
    config = (f"telegram:\n  webhook_url: http://127.0.0.1:{port}/tg/hook\n  webhook_port: {port}\n"
              f"  log_text: false\n  feedback_log: {tmp_path / 'fb.jsonl'}\n")
    bot = RunningBot(api, tmp_path, config, env={"TELEGRAM_WEBHOOK_SECRET": secret})
    try:
        bot.wait_ready()
        api.until(lambda: api.webhook, what="setWebhook")
        assert api.webhook == {"url": f"http://127.0.0.1:{port}/tg/hook", "secret_token": secret}
        assert post_update(port, {"update_id": 1, **message(api, 5, 5, "长城")}, None) == 403
        assert post_update(port, {"update_id": 2, **message(api, 5, 5, "长城")}, "wrong") == 403
        assert post_update(port, {"update_id": 3, **message(api, 5, 5, "智慧医疗实验室在哪里？")}, secret) == 200
        [reply] = Chat(api, 5, 5).wait_new(0)
        assert quoted(reply).startswith(f"[1] {TITLE}")
        assert bot.stop() == 0
    finally:
        bot.stop()
        api.stop()
    log = bot.output()
    assert len(api.sent(5)) == 1 and api.token not in log and secret not in log
    assert "outcome=answered" in log and "智慧医疗" not in log and "chars=11" in log


# --- the CLI's errors, in-process --------------------------------------------------------------

def run_cli(tmp_path, capsys, monkeypatch, config: str, token: str | None = "1:x") -> tuple[int, str]:
    from bot.cli import main

    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    if token:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("QABOT_INDEX_DIR", str(tmp_path / "index"))
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    code = main(["--config", str(tmp_path / "config.yaml"), "telegram", "--corpus", str(corpus)])
    return code, capsys.readouterr().err


def test_a_rejected_token_stops_with_a_clear_error(tmp_path):
    api = FakeBotAPI().start()
    try:
        bot = RunningBot(api, tmp_path, "search:\n  k: 5\n", env={"TELEGRAM_BOT_TOKEN": "42:not-the-token"})
        assert bot.stop_when_exited() == 1
    finally:
        api.stop()
    assert "Error: Telegram rejected the token in TELEGRAM_BOT_TOKEN" in bot.output()
    assert "42:not-the-token" not in bot.output()


def test_without_a_token_it_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    code, err = run_cli(tmp_path, capsys, monkeypatch, "search:\n  k: 5\n", token=None)
    assert code == 1 and "Error: no Telegram bot token: set TELEGRAM_BOT_TOKEN" in err and "@BotFather" in err


def test_config_errors_name_the_key(tmp_path, capsys, monkeypatch):
    code, err = run_cli(tmp_path, capsys, monkeypatch, "telegram:\n  rate_limit: 3\n")
    assert code == 1 and "Error: telegram: unknown key 'rate_limit'; valid keys: admins, allow_private_urls, allowed_chats" in err
    assert "rate_limit_per_minute" in err
    code, err = run_cli(tmp_path, capsys, monkeypatch, "telegram:\n  webhook_url: https://example.org/hook\n")
    assert code == 1 and "no webhook secret: set TELEGRAM_WEBHOOK_SECRET" in err


@pytest.mark.parametrize("raw, message", [
    ({"allowed_users": ["alice"]}, "telegram.allowed_users should be a list of numeric Telegram ids"),
    ({"rate_limit_per_minute": "many"}, "telegram.rate_limit_per_minute should be a whole number"),
    ({"log_text": "no"}, "telegram.log_text should be true or false"),
    ({"webhook_port": 70000}, "telegram.webhook_port should be a whole number from 1 to 65535"),
    ({"webhook_url": "https://x/h", "webhook_secret": "has space"}, "should be 1-256 characters"),
    ([1, 2], "telegram should be a mapping"),
])
def test_bad_values_are_config_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        telegram_settings(raw, environ={})


def test_settings_defaults_and_environment():
    tg = telegram_settings(None, environ={"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
                                          "TELEGRAM_WEBHOOK_SECRET": "abc"})
    assert tg.api_base_url == "http://127.0.0.1:8081/bot" and tg.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert tg.webhook_secret == "abc" and tg.feedback_log.name == "feedback.jsonl" and not tg.restricted
    tg = telegram_settings({"allowed_users": 5, "webhook_secret": "x"}, environ={})
    assert tg.allowed_users == (5,) and tg.webhook_secret == "x"


# --- pure pieces ---------------------------------------------------------------------------------

def test_callback_data_is_parsed_strictly():
    assert parse_callback("p:Ab3_-xyz:12") == ("p", "Ab3_-xyz", "12")
    assert parse_callback("f:Ab3_-xyz:u").arg == "u"
    for bad in (None, "", "p:short:1", "q:Ab3_-xyz:1", "p:Ab3_-xyz:123", "p:Ab3_-xyz:1:2", "p:Ab3_-xyz:x"):
        assert parse_callback(bad) is None


FRAGMENTS = st.sampled_from(["长城", "。", "\n", "a", "&amp;", "&lt;", "😀", " ", "！"])
BLOCKS = st.lists(st.tuples(st.sampled_from(["", "b", "i", "blockquote"]), st.lists(FRAGMENTS, max_size=40)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(BLOCKS, st.integers(min_value=64, max_value=200))  # room for a tag pair
@example([("b", []), ("b", ["长城"] * 12), ("blockquote", ["长城", "长城", "长城", "。", "长城"]),
          ("blockquote", []), ("blockquote", [])], 64)  # found by hypothesis: a 77-unit last piece
@example([("blockquote", []), ("blockquote", []), ("blockquote", ["长城"])], 64)  # empty tags never cut
def test_split_html_keeps_pieces_short_balanced_and_complete(blocks, limit):
    html = "".join(f"<{t}>{''.join(f)}</{t}>" if t else "".join(f) for t, f in blocks)
    pieces = split_html(html, limit)
    for piece in pieces:
        assert units(piece) <= limit
        parse_html(piece)  # balanced, known tags, whole entities
    squash = lambda s: "".join(s.split())  # noqa: E731 - cuts may drop whitespace at the edges only
    assert squash("".join(parse_html(p) for p in pieces)) == squash(parse_html(html))


def test_fake_api_rejects_what_telegram_rejects():
    for bad in ("<b>x", "<x>y</x>", "a & b", "<b><i>x</b></i>", "1 < 2"):
        with pytest.raises(BadRequest, match="can't parse entities"):
            parse_html(bad)
    assert parse_html("<b>&lt;b&gt;</b> &amp; <blockquote>q</blockquote>") == "<b> & q"
