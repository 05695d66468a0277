"""Admins add articles from Telegram: the real ``qabot telegram`` against the fake Bot API on
127.0.0.1, documents fetched through its getFile and file download, links from a local web
server; non-admins are refused, and links to private addresses are not fetched by default."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


from tests.documents import NEWS_TITLE, news_page, two_page_pdf, web_server  # noqa: E402
from tests.fake_bot_api import FakeBotAPI, document  # noqa: E402
from tests.telegram_harness import Chat, RunningBot  # noqa: E402
from tests.telegram_rules import parse_html  # noqa: E402

ADMIN, MEMBER = 201, 202
CONFIG = """\
telegram:
  allowed_users: [201, 202]
  admins: [201]
  allow_private_urls: {private}
  feedback_log: {folder}/feedback.jsonl
"""
QUESTION = "实验室计划把系统推广到多少家医院？"


def start_bot(api, folder: Path, private: bool) -> RunningBot:
    corpus = folder / "articles"
    corpus.mkdir(parents=True)
    (corpus / "tea.jsonl").write_text(json.dumps({"title": "茶", "text": "龙井茶产于杭州西湖。"}, ensure_ascii=False),
                                      encoding="utf-8")
    bot = RunningBot(api, folder, CONFIG.format(private=str(private).lower(), folder=folder), corpus=corpus)
    bot.corpus = corpus
    bot.wait_ready()
    return bot


@pytest.fixture(scope="module")
def bot(api, tmp_path_factory):
    running = start_bot(api, tmp_path_factory.mktemp("telegram-add"), private=False)
    yield running
    running.stop()


def send_document(api, chat: Chat, name: str, data: bytes, user_id: int | None = None) -> str:
    """Send a document; the text of the bot's one reply."""
    before = len(chat.sent())
    api.push(document(api, chat.chat_id, user_id or chat.user_id, name, data))
    (reply,) = chat.wait_new(before, 1)
    return reply.params["text"]


def shown(calls) -> str:
    return "\n".join(parse_html(c.params["text"]) if c.params.get("parse_mode") else c.params["text"] for c in calls)


def test_admin_adds_a_pdf_through_getfile_and_questions_find_it(api, bot, tmp_path):
    chat = Chat(api, ADMIN, ADMIN)
    assert "东海岸的十家医院" not in shown(chat.say(QUESTION))
    said = send_document(api, chat, "report.pdf", two_page_pdf(tmp_path / "report.pdf").read_bytes())
    assert said.startswith(f"Added: 医学影像的新进展, 4 passages → {bot.corpus / 'report.pdf'}")
    assert "Reloaded: 2 articles" in said
    assert [c.method for c in api.calls if c.method in ("getFile", "download")][-2:] == ["getFile", "download"]
    assert (bot.corpus / "report.pdf").read_bytes() == (tmp_path / "report.pdf").read_bytes()
    member = Chat(api, MEMBER, MEMBER)
    assert "东海岸的十家医院" in shown(member.say(QUESTION))  # everyone's answers come from the new index

    said = chat.say("/remove report.pdf")[0].params["text"]
    assert said.startswith("Removed report.pdf.") and "Reloaded: 1 articles" in said
    assert not (bot.corpus / "report.pdf").exists()
    assert "东海岸的十家医院" not in shown(member.say(QUESTION))
    assert api.errors() == []


def test_non_admins_are_told_they_may_not_and_nothing_is_fetched(api, bot, tmp_path):
    member = Chat(api, MEMBER, MEMBER)
    downloads = sum(c.method == "getFile" for c in api.calls)
    said = send_document(api, member, "report.pdf", two_page_pdf(tmp_path / "report.pdf").read_bytes())
    assert said == f"Only this bot's admins may add or remove articles. Ask its owner to add your user id ({MEMBER}) to telegram.admins."
    assert member.say("https://example.org/news.html")[0].params["text"] == said
    assert member.say("/remove tea.jsonl")[0].params["text"] == said
    assert sum(c.method == "getFile" for c in api.calls) == downloads
    assert sorted(p.name for p in bot.corpus.iterdir()) == ["tea.jsonl"]


def test_bad_documents_and_private_links_are_explained(api, bot, tmp_path):
    chat = Chat(api, ADMIN, ADMIN)
    locked = two_page_pdf(tmp_path / "locked.pdf", encrypt="secret").read_bytes()
    said = send_document(api, chat, "locked.pdf", locked)
    assert said.startswith("Warning: locked.pdf: encrypted PDF") and "qabot-upload" not in said
    assert send_document(api, chat, "notes.rtf", b"{\\rtf1 x}") == (
        "notes.rtf: not an article format; send PDF, HTML, DOCX, TXT, MD, TSV or JSONL.")
    with web_server({"/news.html": (200, "text/html", news_page())}) as base:
        said = chat.say(f"{base}/news.html")[0].params["text"]
    assert "127.0.0.1 is a loopback, private or link-local address" in said and "not fetched" in said
    assert chat.say("/remove nothing.pdf")[0].params["text"].startswith("No article file nothing.pdf in ")
    assert sorted(p.name for p in bot.corpus.iterdir()) == ["tea.jsonl"]
    assert api.errors() == []


def test_with_allow_private_urls_an_admin_adds_a_link(tmp_path):
    api = FakeBotAPI().start()  # its own: the module's bot keeps polling the shared one
    running = start_bot(api, tmp_path / "bot", private=True)
    try:
        chat = Chat(api, ADMIN, ADMIN)
        with web_server({"/news.html": (200, "text/html", news_page())}) as base:
            said = chat.say(f"{base}/news.html")[0].params["text"]
        assert said.startswith(f"Added: {NEWS_TITLE} (2018-08-07), 3 passages → ")
        assert "Dimitri Metaxas" in shown(chat.say("谁担任实验室医学影像分析首席科学家？"))
    finally:
        running.stop()
        api.stop()
