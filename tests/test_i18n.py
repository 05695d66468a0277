"""The interface's languages: catalogs, the language chosen, and what each user sees.

Telegram runs for real against the fake Bot API; the REPL in a pseudo-terminal.
"""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest


from tests.fake_bot_api import LANGUAGES  # noqa: E402
from tests.telegram_harness import serving  # noqa: E402
from tests.telegram_harness import LAB, Chat  # noqa: E402
from tests.telegram_rules import parse_html  # noqa: E402

import bot.messages as m  # noqa: E402
from bot.config import ConfigError  # noqa: E402
from bot.i18n import ENGLISH, SIMPLIFIED, TRADITIONAL, Messages, normalise, script, telegram_language, ui_language  # noqa: E402

MSGIDS = {name: value for name, value in vars(m).items() if name.isupper() and isinstance(value, str)}
FIELDS = string.Formatter()


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in FIELDS.parse(text) if name}


@pytest.mark.parametrize("language", [SIMPLIFIED, TRADITIONAL])
def test_every_message_is_translated_with_the_same_placeholders(language):
    from babel.messages.pofile import read_po

    with open(Path(m.__file__).parent / "locale" / f"{language}.po", "rb") as po:
        catalog = read_po(po)
    translated = {msg.id: msg.string for msg in catalog if msg.id}
    assert set(translated) == set(MSGIDS.values())  # nothing missing, nothing stale
    for msgid, text in translated.items():
        assert text and fields(text) == fields(msgid), msgid
        assert ":more" not in msgid or ":more" in text  # commands stay as they are


def test_each_language_reads_as_itself():
    for language, words in ((SIMPLIFIED, "这些文章"), (TRADITIONAL, "這些文章"), (ENGLISH, "The articles")):
        assert Messages(language)(m.NOT_COVERED).startswith(words)
    assert Messages(TRADITIONAL)(m.PARAGRAPH, n=3) == "第3段" and Messages(ENGLISH)(m.PARAGRAPH, n=3) == "para. 3"


@pytest.mark.parametrize("code, language", [
    ("zh-hans", SIMPLIFIED), ("zh-CN", SIMPLIFIED), ("zh_Hans", SIMPLIFIED), ("zh-hant", TRADITIONAL),
    ("zh-TW", TRADITIONAL), ("zh-hk", TRADITIONAL), ("zh_HK.UTF-8", TRADITIONAL), ("en", ENGLISH), ("en-GB", ENGLISH),
    ("zh", None), ("ru", None), ("C.UTF-8", None), (None, None),
])
def test_language_tags(code, language):
    assert normalise(code) == language


def test_the_question_script_decides_when_nothing_else_does():
    assert script("商湯在哪裡成立了智慧醫療實驗室？") == TRADITIONAL
    assert script("商汤在哪里成立了智慧医疗实验室？") == SIMPLIFIED
    assert script("Where is the lab?") == ENGLISH and script("2018") is None
    assert script("고양이 발톱은 어떻게 자르나요?") == ENGLISH  # a script we don't speak: English, not Chinese
    assert telegram_language("zh-hant", "商汤在哪里？") == TRADITIONAL  # the user's setting first
    assert telegram_language("zh", "商湯在哪裡？") == TRADITIONAL  # a bare zh: the script
    assert telegram_language("ru", "Where?") == ENGLISH and telegram_language("ru", "在哪里？") == SIMPLIFIED
    assert telegram_language(None, "") == SIMPLIFIED  # Chinese first


def test_ui_language_setting(monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert ui_language(None) == TRADITIONAL and ui_language({"language": "auto"}) == TRADITIONAL  # the locale
    assert ui_language({"language": "en"}) == ENGLISH
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert ui_language({"language": "auto"}) is None  # then each question's script
    with pytest.raises(ConfigError, match=r"ui.language should be one of auto, zh_Hans, zh_Hant, en, not 'fr'"):
        ui_language({"language": "fr"})
    with pytest.raises(ConfigError, match="ui: unknown key 'lang'; valid keys: language"):
        ui_language({"lang": "en"})


# --- Telegram: each user in their language ---------------------------------------------------

USERS = {201: "zh-hans", 202: "zh-hant", 203: "en"}
CONFIG = "telegram:\n  allowed_users: [201, 202, 203, 204]\n  feedback_log: {feedback}\n"


@pytest.fixture(scope="module")
def bot(api, tmp_path_factory):
    LANGUAGES.update(USERS)
    folder = tmp_path_factory.mktemp("i18n")
    with serving(api, folder, CONFIG.format(feedback=folder / "feedback.jsonl")) as running:
        yield running


def said(chat: Chat, text: str) -> str:
    [reply] = chat.say(text)
    return parse_html(reply.params["text"])


def press_and_wait(api, chat: Chat, call, data: str):
    """Press a button under ``call``; the edited message."""
    from tests.fake_bot_api import callback

    api.push(callback(api, chat.user_id, call.result, data))
    return api.wait(lambda c: c.method == "editMessageText" and c.params["message_id"] == call.result["message_id"])[0]


def leading_answer(html: str) -> str | None:
    """The confident answer a reply leads with, checked to be marked in its quote too; None without one."""
    if html.startswith("<b>[1]</b>"):
        return None
    found = re.match(r"<b>([^<]+)</b>\n\n<b>\[\d+\]</b> ", html)
    assert found, html[:80]
    assert f"<u><b>{found.group(1)}</b></u>" in html.split("<blockquote>", 1)[1]
    return found.group(1)


@pytest.mark.parametrize("user, covered, not_covered, cant, helping, where", [
    (201, "商汤 <b>医疗</b> & AI · 第1段", "这些文章似乎没有谈到这个问题。", "无法搜索：", "我根据一批文章回答问题", r"第\d+[段句]$"),
    (202, "商汤 <b>医疗</b> & AI · 第1段", "這些文章似乎沒有談到這個問題。", "無法搜尋：", "我根據一批文章回答問題", r"第\d+[段句]$"),
    (203, "商汤 <b>医疗</b> & AI · para. 1", "The articles don't seem to cover this.", "Can't search that:",
     "I answer questions from a collection of articles", r"(para\.|sentence) \d+$"),
])
def test_each_user_is_answered_in_their_language(api, bot, user, covered, not_covered, cant, helping, where):
    chat = Chat(api, user, user)
    [reply] = chat.say("智慧医疗实验室在哪里？")  # the same Chinese question from each
    answer, lead = parse_html(reply.params["text"]), leading_answer(reply.params["text"])
    assert answer.startswith(f"{lead}\n\n[1] {covered}\n{LAB}" if lead else f"[1] {covered}\n{LAB}")
    chat.say("/reset")
    [light] = chat.say("火星上的实验室有多少个机器人？")
    text = parse_html(light.params["text"])
    assert text.startswith(not_covered) and text.count("\n[") == 2 and text.count("\n") == 6  # two one-line snippets
    assert "<b>" not in re.sub(r"<b>\[\d\]</b>", "", light.params["text"])  # no bold from earlier turns
    [button] = [b for row in light.params["reply_markup"]["inline_keyboard"] for b in row]  # one button
    assert button["callback_data"].endswith(":1")
    page = press_and_wait(api, chat, light, button["callback_data"])
    assert "<b>" not in re.sub(r"<b>\[\d+\]</b>", "", page.params["text"])  # nor on the pages after
    chat.say("/reset")
    assert said(chat, "是谁？").startswith(cant)
    assert said(chat, "/help").startswith(helping)
    cited = [line for line in answer.split("\n") if re.match(r"\[\d\] ", line)]
    assert cited and all(len(line) - 4 <= 40 and re.search(where, line) for line in cited)  # one phone line each


def test_without_a_language_code_the_question_script_decides(api, bot):
    chat = Chat(api, 204, 204)
    assert said(chat, "火星上的機器人有多少個？").startswith("這些文章")  # Traditional question, Traditional reply
    chat.say("/reset")
    assert said(chat, "How many robots are on Mars?").startswith("The articles")


def test_the_command_menu_is_registered_per_language(api, bot):
    menus = {c.params.get("language_code"): c.params["commands"] for c in api.calls if c.method == "setMyCommands"}
    assert {c["command"] for c in menus["en"]} == {c["command"] for c in menus["zh"]} == {"ask", "help", "reset", "start"}
    assert {c["command"]: c["description"] for c in menus["zh"]}["ask"] == "根据文章回答一个问题"
    assert {c["command"]: c["description"] for c in menus["en"]}["ask"] == "answer a question from the articles"
    assert None in menus  # the default menu, for every other language
