"""Web pages, PDFs and Word files in a corpus folder: real files made in the test, read back
through the loader and asked through the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from retrieval import formats
from retrieval.articles import load_corpus, load_file

from tests.helpers import write_jsonl
from tests.documents import (AD, FOOTER, MENU, NEWS_PARAGRAPHS, NEWS_TITLE, NEWS_URL, PDF_HEADER, PDF_PARAGRAPHS,
                       WORD_PARAGRAPHS, WORD_TITLE, news_page, scanned_pdf, two_page_pdf, word_file)


def only(path: Path):
    (item,) = load_file(path)
    return item


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_news_page_main_text_title_date_and_canonical_url(tmp_path, encoding):
    path = tmp_path / "news.html"
    path.write_bytes(news_page(encoding))
    article = only(path)
    assert article.title == NEWS_TITLE  # og:title, not the <title> with the site's name
    assert article.text.split("\n") == NEWS_PARAGRAPHS  # the <h1> repeating the title is not a paragraph
    assert (article.date, article.url) == ("2018-08-07", NEWS_URL)
    for chrome in MENU + [AD, FOOTER]:
        assert chrome not in article.text
    assert only(path) == article  # read again (a reload) it is the same: no state kept between pages


def test_pdf_paragraphs_rebuilt_and_running_header_dropped(tmp_path):
    article = only(two_page_pdf(tmp_path / "report.pdf"))
    assert article.title == "医学影像的新进展"  # from the PDF's metadata
    # Chinese lines joined with no space, English with one, "an-/notated" mended, the paragraph cut
    # by the page break whole again; the header and "- 1 -" page numbers gone
    assert article.text.split("\n") == PDF_PARAGRAPHS
    assert PDF_HEADER not in article.text and "- 2 -" not in article.text


def test_docx_headings_paragraphs_and_table_rows(tmp_path):
    article = only(word_file(tmp_path / "annual.docx"))
    assert article.title == WORD_TITLE
    assert article.text.split("\n") == WORD_PARAGRAPHS


def test_format_decided_by_content_where_the_name_lies(tmp_path):
    (tmp_path / "lines.txt").write_text(json.dumps({"title": "长城", "text": "长城东起山海关。", "date": "2020-01-02"},
                                                   ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "plain.html").write_text("只是文字的网页\n这个文件里没有任何标记。", encoding="utf-8")
    two_page_pdf(tmp_path / "misnamed.txt")
    (tmp_path / "page.txt").write_bytes(news_page())
    jsonl, plain, pdf, page = (only(tmp_path / n) for n in ("lines.txt", "plain.html", "misnamed.txt", "page.txt"))
    assert (jsonl.title, jsonl.text, jsonl.date) == ("长城", "长城东起山海关。", "2020-01-02")
    assert (plain.title, plain.text) == ("只是文字的网页", "这个文件里没有任何标记。")
    assert pdf.text.split("\n") == PDF_PARAGRAPHS
    assert page.url == NEWS_URL


def test_bad_files_warn_with_the_reason_and_the_rest_loads(tmp_path, monkeypatch):
    two_page_pdf(tmp_path / "locked.pdf", encrypt="secret")
    scanned_pdf(tmp_path / "scan.pdf")
    (tmp_path / "cut.pdf").write_bytes(two_page_pdf(tmp_path / "whole.pdf").read_bytes()[:900])
    (tmp_path / "whole.pdf").unlink()
    (tmp_path / "links.html").write_text(
        "<html><body><ul>" + "".join(f"<li><a href=/{i}>频道{i}</a></li>" for i in range(30))
        + "</ul><script>render()</script></body></html>", encoding="utf-8")
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    word_file(tmp_path / "good.docx")
    limit = max(p.stat().st_size for p in tmp_path.iterdir())
    (tmp_path / "big.html").write_bytes(news_page() + b" " * limit)
    monkeypatch.setattr(formats, "MAX_FILE", limit)
    corpus = load_corpus([tmp_path])
    assert [a.title for a in corpus.articles] == [WORD_TITLE]
    said = {Path(p.path).name: p.message for p in corpus.problems}
    assert said["locked.pdf"].startswith("encrypted PDF")
    assert said["scan.pdf"].startswith("no text layer (a scanned PDF") and "OCR" in said["scan.pdf"]
    assert said["cut.pdf"].startswith("broken PDF")
    assert said["links.html"].startswith("no main text found")
    assert said["old.docx"].startswith("not a Word .docx file (an old .doc")
    assert said["big.html"].startswith(f"{formats.size_text(limit + len(news_page()))}, over the "
                                       f"{formats.size_text(limit)} a HTML file may have")
    assert all(m.endswith("skipped") for m in said.values())


def ask(capsys, folder: Path, question: str) -> dict:
    code = main(["--corpus", str(folder), "ask", "--json", question])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_questions_find_the_passages_of_each_format_with_date_and_url(tmp_path, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "news.html").write_bytes(news_page())
    two_page_pdf(folder / "report.pdf")
    word_file(folder / "annual.docx")
    write_jsonl(folder / "more.jsonl", [{"title": "熊猫", "text": "大熊猫生活在四川的竹林里。"}])
    best = ask(capsys, folder, "谁担任实验室医学影像分析首席科学家？")["passages"][0]
    assert (best["title"], best["date"], best["url"]) == (NEWS_TITLE, "2018-08-07", NEWS_URL)
    assert "Dimitri Metaxas" in best["text"]
    best = ask(capsys, folder, "实验室计划把系统推广到多少家医院？")["passages"][0]
    assert best["title"] == "医学影像的新进展" and "十家医院" in best["text"]
    assert "date" not in best and "url" not in best  # only what the article has
    assert "纽约大学医学院" in ask(capsys, folder, "实验室和哪个医学院合作心脏成像？")["passages"][0]["text"]
    # a second run reads the cached index: the date and URL come back from its stored articles
    again = ask(capsys, folder, "谁担任实验室医学影像分析首席科学家？")["passages"][0]
    assert (again["date"], again["url"]) == ("2018-08-07", NEWS_URL)
