"""``qabot add PATH|URL``: files copied, pages fetched from a web server on 127.0.0.1, the index
refreshed, questions answered from what was added; bad input warns and the rest goes on."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import fetching
from bot.adding import add_sources
from bot.cli import main
from bot.fetching import FetchError, fetch, refuse_private
from retrieval import formats

from tests.helpers import SEEDS, write_jsonl
from tests.documents import NEWS_PARAGRAPHS, NEWS_TITLE, NEWS_URL, news_page, two_page_pdf, web_server, word_file

ROOT = Path(__file__).resolve().parent.parent
PAGE_LINKS = "<html><body><ul>" + "".join(f"<li><a href=/{i}>频道{i}</a></li>" for i in range(30)) + "</ul></body></html>"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """A web server on 127.0.0.1: a news page, a PDF (also as octet-stream), redirects, errors."""
    pdf = two_page_pdf(tmp_path_factory.mktemp("web") / "report.pdf").read_bytes()
    routes = {
        "/news.html": (200, "text/html; charset=utf-8", news_page()),
        "/report": (200, "application/pdf", pdf),
        "/download.bin": (200, "application/octet-stream", pdf),
        "/blob.bin": (200, "application/octet-stream", bytes(range(256)) * 8),
        "/photo.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
        "/links.html": (200, "text/html", PAGE_LINKS.encode()),
        "/big.html": (200, "text/html", news_page() + b" " * 5000),
        "/hop1": (302, "/hop2", b""), "/hop2": (301, "news.html", b""), "/loop": (302, "/loop", b""),
    }
    with web_server(routes) as base:
        yield base


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "tea.jsonl", [{"title": "茶", "text": "龙井茶产于杭州西湖。"}])
    return folder


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ask(capsys, folder: Path, question: str) -> dict:
    code, out, err = run(capsys, "--corpus", str(folder), "ask", "--json", question)
    assert code == 0, err
    return json.loads(out)["passages"][0]


def test_add_url_saves_the_article_refreshes_the_index_and_answers_from_it(web, corpus, capsys):
    assert run(capsys, "--corpus", str(corpus), "index")[0] == 0
    code, out, err = run(capsys, "--corpus", str(corpus), "add", f"{web}/news.html")
    assert code == 0, err
    (saved,) = corpus.glob("web-127.0.0.1-*.jsonl")
    assert out.splitlines()[0] == f"Added: {NEWS_TITLE} (2018-08-07), 3 passages → {saved}"
    assert "Index refreshed: 2 articles, 4 passages." in out
    assert "indexing 2 articles, 4 passages, 1 unchanged" in err  # incremental: the tea article is not analysed again
    record = json.loads(saved.read_text(encoding="utf-8"))
    assert (record["title"], record["date"], record["url"]) == (NEWS_TITLE, "2018-08-07", NEWS_URL)
    assert record["text"].split("\n") == NEWS_PARAGRAPHS
    best = ask(capsys, corpus, "谁担任实验室医学影像分析首席科学家？")
    assert (best["title"], best["date"], best["url"], best["source"]) == (NEWS_TITLE, "2018-08-07", NEWS_URL, NEWS_URL)


def test_add_pdf_by_url_also_when_served_as_octet_stream(web, corpus, capsys):
    code, out, err = run(capsys, "--corpus", str(corpus), "add", f"{web}/report", f"{web}/download.bin")
    assert code == 0, err
    assert out.count("Added: 医学影像的新进展, 4 passages") == 2
    best = ask(capsys, corpus, "实验室计划把系统推广到多少家医院？")
    assert "十家医院" in best["text"] and best["url"] in (f"{web}/report", f"{web}/download.bin")


def test_bad_urls_each_warn_with_the_reason_and_the_rest_is_added(web, corpus, capsys, monkeypatch):
    monkeypatch.setattr(fetching, "MAX_BYTES", len(news_page()) + 1000)
    bad = {"/missing": "HTTP 404 Not Found", "/photo.png": "image/png is not a web page, PDF, Word or text file",
           "/blob.bin": "binary content that is not a PDF or Word file; not added",
           "/links.html": "no main text found", "/loop": "more than 5 redirects",
           "/big.html": f"over the {formats.size_text(fetching.MAX_BYTES)} limit"}
    code, out, err = run(capsys, "--corpus", str(corpus), "add", *(web + path for path in bad), f"{web}/news.html",
                         "ftp://example.org/x")
    assert code == 0
    assert out.startswith(f"Added: {NEWS_TITLE}")
    warnings = [line for line in err.splitlines() if line.startswith("Warning: ")]
    for path, reason in bad.items():
        assert any(line.startswith(f"Warning: {web}{path}: ") and reason in line for line in warnings), (path, err)
    assert "Warning: ftp://example.org/x: only http:// and https:// addresses are fetched" in err
    assert len(list(corpus.glob("web-*.jsonl"))) == 1


def test_redirects_are_followed_and_the_guard_sees_every_hop(web):
    seen = []
    fetched = fetch(f"{web}/hop1", guard=seen.append)
    assert seen == [f"{web}/hop1", f"{web}/hop2", f"{web}/news.html"]
    assert (fetched.url, fetched.kind, fetched.data) == (f"{web}/news.html", "html", news_page())


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://localhost/", "http://[::1]/", "http://10.1.2.3/",
                                 "http://192.168.0.1/", "http://169.254.169.254/latest/", "http://[::ffff:127.0.0.1]/",
                                 "http://[fe80::1]/", "http://0.0.0.0/"])
def test_private_addresses_are_refused_after_resolution(url):
    with pytest.raises(FetchError, match="is a loopback, private or link-local address"):
        refuse_private(url)


def test_public_address_passes_the_guard_and_a_refused_redirect_is_a_warning(web, corpus):
    refuse_private("http://8.8.8.8/")  # a literal address: resolved without asking DNS, nothing sent
    report = add_sources([f"{web}/news.html"], corpus, guard=refuse_private)
    assert report.added == [] and "127.0.0.1 is a loopback, private or link-local address" in report.warnings[0]


def test_add_files_and_a_folder_copies_what_loads_and_warns_about_the_rest(tmp_path, corpus, capsys, monkeypatch):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    two_page_pdf(inbox / "report.pdf")
    word_file(inbox / "sub" / "annual.docx")
    (inbox / "sub" / "news.html").write_bytes(news_page())
    two_page_pdf(tmp_path / "locked.pdf", encrypt="secret")
    (tmp_path / "tea.jsonl").write_text(json.dumps({"title": "绿茶", "text": "碧螺春产于苏州。"}, ensure_ascii=False),
                                        encoding="utf-8")
    limit = max(p.stat().st_size for p in [*inbox.rglob("*.*"), tmp_path / "locked.pdf"])
    (tmp_path / "huge.txt").write_text("大" * limit, encoding="utf-8")
    (tmp_path / "notes.rtf").write_text("{\\rtf1 不是文章}", encoding="utf-8")
    monkeypatch.setattr(formats, "MAX_FILE", limit)
    code, out, err = run(capsys, "--corpus", str(corpus), "add", str(inbox / "report.pdf"), str(inbox / "sub"),
                         str(tmp_path / "locked.pdf"), str(tmp_path / "tea.jsonl"), str(tmp_path / "huge.txt"),
                         str(tmp_path / "nowhere.pdf"), str(tmp_path / "notes.rtf"))
    assert code == 0, err
    assert sorted(p.name for p in corpus.iterdir()) == ["annual.docx", "news.html", "report.pdf", "tea-2.jsonl", "tea.jsonl"]
    assert f"Added: 医学影像的新进展, 4 passages → {corpus / 'report.pdf'}" in out
    assert "Added: 智慧医疗实验室年度报告, 6 passages" in out and "Added: 绿茶, 1 passage →" in out
    assert f"Warning: {tmp_path / 'locked.pdf'}: encrypted PDF" in err and err.count("not added") == 3
    assert (f"Warning: {tmp_path / 'huge.txt'}: {formats.size_text(3 * limit)}, over the {formats.size_text(limit)} "
            "a file may have; not added") in err
    assert f"Warning: {tmp_path / 'nowhere.pdf'}: not found" in err
    assert f"Warning: {tmp_path / 'notes.rtf'}: .rtf is not an article format (.docx, .htm" in err
    assert "碧螺春" in ask(capsys, corpus, "碧螺春产于哪里？")["text"]
    code, out, err = run(capsys, "--corpus", str(corpus), "add", str(inbox / "report.pdf"))
    assert code == 1 and out == "Nothing was added.\n" and "already in" in err and "as report.pdf" in err


def test_add_to_a_folder_outside_the_corpus_says_how_to_use_it(tmp_path, corpus, capsys):
    other = tmp_path / "elsewhere"
    code, out, _ = run(capsys, "--corpus", str(corpus), "add", "--to", str(other), str(SEEDS / os.listdir(SEEDS)[0]))
    assert code == 0 and len(list(other.iterdir())) == 1
    assert f"Note: {other} is not in the corpus; ask with --corpus {other}" in out


def test_repl_add_then_ask(tmp_path, corpus):
    pdf = two_page_pdf(tmp_path / "report.pdf")
    script = f":add {pdf}\n实验室计划把系统推广到多少家医院？\n"
    shown = subprocess.run([sys.executable, "-m", "bot", "repl", "--plain", "--corpus", str(corpus)], input=script,
                           capture_output=True, text=True, cwd=ROOT, timeout=120).stdout
    assert f"Added: 医学影像的新进展, 4 passages → {corpus / 'report.pdf'}" in shown
    assert "Reloaded: 2 articles" in shown
    assert "东海岸的十" in re.sub(r"[【】〔〕]", "", shown.split("> 实验室计划")[1])  # answer marks aside
