"""bot/layout.py: one decision of what an answer shows, rendered plain, in colour and as Telegram HTML."""
from __future__ import annotations

from types import SimpleNamespace

import pytest


from tests.telegram_rules import parse_html  # noqa: E402

from bot.answering import Answer, Answerer  # noqa: E402
from bot.layout import ANSWER, MATCH, SENTENCE, Segment, bracketed, layout, opening, segments  # noqa: E402
from bot.i18n import Messages  # noqa: E402
from bot.telegram.format import answer_html, inline_items  # noqa: E402
from bot.terminal.format import COLOUR, Format, plain_text, render_answer  # noqa: E402

from retrieval import AnswerSpan  # noqa: E402

Q = "商汤在哪里成立了智慧医疗实验室？"


def with_span(answer: Answer, rank: int, word: str, confident: bool) -> Answer:
    """``answer`` as the extractor would leave it, with ``word`` of passage ``rank`` as its answer."""
    if word is None:
        return Answer(answer.question, answer.result._replace(answer=None), places=answer.places)
    text = answer.hits[rank - 1].passage.text
    start = text.index(word)
    stop = text.find("。", start) + 1 or len(text)
    begin = text.rfind("。", 0, start) + 1
    span = AnswerSpan(word, rank, start, start + len(word), (begin, stop), confident, 0.9)
    return Answer(answer.question, answer.result._replace(answer=span), places=answer.places)


@pytest.fixture(scope="module")
def asked(seed_searcher) -> Answer:
    """The library's answer to Q, without an answer span: each test sets the span it shows."""
    answer = Answerer(seed_searcher, k=5).ask(Q)
    return with_span(answer, 1, None, False)


def test_segments_cut_matches_at_the_answer_and_fill_the_sentence():
    assert segments([(0, 2), (4, 8)], (6, 10), ANSWER) == (
        Segment(0, 2, (MATCH,)), Segment(4, 6, (MATCH,)), Segment(6, 10, (ANSWER,)))
    assert segments([(0, 2), (4, 8)], (3, 10), SENTENCE) == (
        Segment(0, 2, (MATCH,)), Segment(3, 4, (SENTENCE,)), Segment(4, 8, (SENTENCE, MATCH)),
        Segment(8, 10, (SENTENCE,)))
    brackets = {MATCH: ("[", "]"), ANSWER: ("【", "】"), SENTENCE: ("〔", "〕")}
    text = "abcdefghijkl"
    assert bracketed(text, segments([(0, 2), (4, 8)], (6, 10), ANSWER), brackets) == "[ab]cd[ef]【ghij】kl"
    assert bracketed(text, segments([(0, 2), (4, 8)], (3, 10), SENTENCE), brackets) == "[ab]c〔d[efgh]ij〕kl"


def test_a_confident_answer_leads_and_is_marked_in_the_quote(asked):
    answer = with_span(asked, 1, "美国新泽西", True)
    lines = plain_text(answer).splitlines()
    assert lines[0] == "→ 美国新泽西"
    assert lines[1].startswith("[1] ") and "在【美国新泽西】[成立智慧医疗实验室]" in lines[2]
    coloured = render_answer(answer, 5, Format(COLOUR))
    assert coloured.startswith("\x1b[1;32m→ 美国新泽西\x1b[0m")
    assert "\x1b[1;32m美国新泽西\x1b[0m" in coloured and "\x1b[1;31m成立智慧医疗实验室\x1b[0m" in coloured


def test_an_unsure_answer_marks_only_its_sentence(asked):
    answer = with_span(asked, 1, "美国新泽西", False)
    text = plain_text(answer)
    assert "→" not in text and "【" not in text
    assert "〔近日，全球领先的人工智能平台公司[商汤]科技SenseTime宣布在美国新泽西[成立智慧医疗实验室]" in text
    assert "〕此前" in text  # the sentence ends where it does
    coloured = render_answer(answer, 5, Format(COLOUR))
    assert "\x1b[4m\x1b[1;31m成立智慧医疗实验室\x1b[0m" in coloured  # a match inside the underlined sentence


def test_an_answer_from_a_lower_passage_quotes_that_passage(asked):
    second = asked.hits[1]
    word = second.passage.text[5:9]
    shown = layout(with_span(asked, 2, word, True), Messages(), 5)
    assert shown.answer == word and shown.quote.hit is second
    assert [s.hit.rank for s in shown.snippets] == [1, 3, 4, 5]


def test_telegram_puts_the_answer_in_bold_first_then_the_marked_quote(asked):
    html = answer_html(with_span(asked, 1, "美国新泽西", True))
    assert html.startswith("<b>美国新泽西</b>\n\n<b>[1]</b> 商汤科技成立北美智慧医疗实验室 · sentence 1\n")
    assert "<u><b>美国新泽西</b></u><b>成立智慧医疗实验室</b>" in html
    assert parse_html(html).startswith("美国新泽西\n\n[1] ")
    unsure = answer_html(with_span(asked, 1, "美国新泽西", False))
    assert unsure.startswith("<b>[1]</b> ") and "<i>近日，" in unsure
    sentence = unsure[unsure.index("<i>近日，"): unsure.index("</i>")]  # one <i>, the matches bold inside it
    assert "<b>成立智慧医疗实验室</b>" in sentence and sentence.endswith("首席科学家。")
    parse_html(unsure)


def test_inline_titles_are_the_answer_or_distinct_opening_words(asked):
    items = inline_items(with_span(asked, 1, "美国新泽西", True))
    assert items[0][0] == "美国新泽西"
    titles = [title for title, _, _ in items]
    assert len(set(titles)) == len(titles) and all(len(t) <= 100 for t in titles)
    assert parse_html(items[0][2]).startswith("美国新泽西\n")
    plain = inline_items(asked)
    assert plain[0][0] == opening(asked.hits[0].passage.text)


def test_opening_is_the_first_clause_that_says_something():
    assert opening("商汤科技成立北美智慧医疗实验室 全球一流科研资源打造AI医疗“旗舰”") == "商汤科技成立北美智慧医疗实验室"
    assert opening("近日，商汤科技宣布在美国新泽西成立智慧医疗实验室，人工智能医疗领域") == "近日，商汤科技宣布在美国新泽西成立智慧医疗实验室"
    assert opening("甲" * 50, 10) == "甲" * 9 + "…"


def test_citations_fit_a_phone_line_and_carry_date_and_link(asked):
    from bot.answering import place_of
    from bot.layout import CITATION_WIDTH, cite, full_citation
    from bot.telegram.format import cite_html

    hit = asked.hits[0]
    article = SimpleNamespace(text="第一段。\n" + hit.passage.text, date="2018-05-20", url="https://example.org/a?b=1&c=2")
    place = place_of(article, hit._replace(passage=hit.passage._replace(paragraph=2, start=5)))
    assert (place.paragraph, place.date, place.url) == (2, "2018-05-20", "https://example.org/a?b=1&c=2")
    dated = Answer(asked.question, asked.result, places=(place,) + asked.places[1:])
    for msgs, where in ((Messages("zh_Hans"), "第2段"), (Messages("en"), "para. 2")):
        line = cite(dated, hit, msgs).line
        assert line == f"商汤科技成立北美智慧医疗实验室 · {where} · 2018-05-20" and len(line) <= CITATION_WIDTH
    assert cite_html(cite(dated, hit, Messages())).startswith('<a href="https://example.org/a?b=1&amp;c=2">商汤科技')
    full = full_citation(dated, hit, Messages())
    assert hit.passage.title in full and hit.source in full and "https://example.org" in full
    one_paragraph = place_of(SimpleNamespace(text="甲。乙。" + hit.passage.text), hit._replace(passage=hit.passage._replace(start=4)))
    assert (one_paragraph.paragraph, one_paragraph.sentence) == (None, 3)  # the passage starts at sentence 3


def test_lost_characters_are_skipped_in_citations_and_snippets_but_quoted_as_they_are():
    from bot.layout import snippet_end, without_lost

    assert without_lost("要点；? 第一点 ?? 和What? yes", [(5, 8)]) == ("要点；第一点 和What? yes", [(3, 6)])
    text = "第一句很短。第二句要长得多，一直说下去，说到放不下为止，还在说。"
    end, ellipsis = snippet_end(text, [1] * len(text), 10)
    assert text[:end] == "第一句很短。" and not ellipsis  # a sentence end near: no ellipsis
    words = "The laboratory opened in New Jersey with Dimitri Metaxas as chief scientist"
    end, ellipsis = snippet_end(words, [1] * len(words), 30)
    assert ellipsis and words[:end] in ("The laboratory opened in New ", "The laboratory opened in New")  # not mid-word
