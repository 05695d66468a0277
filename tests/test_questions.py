"""Every kind of question gets a sensible reply, never a crash: the reliability cases."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.cli import main
from tests.helpers import SEEDS
from retrieval.errors import QuestionError
from retrieval.store import RetrievalSettings, open_searcher


@pytest.fixture(scope="module")
def searcher(index_dir):
    return open_searcher([SEEDS], RetrievalSettings(), index_dir).searcher


def ask_json(capsys, question: str) -> tuple[int, dict, str]:
    code = main(["ask", "--json", "--corpus", str(SEEDS), question])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("question", ["", "   \t ", "？？！。", "什么是吗", "...!!!", "the of and"])
def test_questions_with_nothing_to_search_are_told_why(capsys, question):
    code, record, _ = ask_json(capsys, question)
    assert code == 1
    assert record["answered"] is False and record["passages"] == []
    assert "empty" in record["error"] or "nothing to search for" in record["error"]


def test_a_huge_question_is_cut_with_a_notice(capsys):
    code, record, _ = ask_json(capsys, "商汤的合作伙伴有哪些" * 10_000)
    assert code == 0
    assert record["notice"] == "(question cut to its first 1000 characters)"
    assert record["passages"]


def test_a_huge_question_says_so_in_text_too(capsys):
    assert main(["ask", "--corpus", str(SEEDS), "商汤" * 50_000]) == 0
    assert capsys.readouterr().out.startswith("（问题太长，只用了前 1000 个字符）")  # in the question's language


def test_control_characters_nul_and_ansi_codes_are_ignored(capsys):
    code, record, _ = ask_json(capsys, "影谱\x00科技\x1b[31m的\x07融资")
    plain = ask_json(capsys, "影谱科技的融资")[1]
    assert code == 0 and record["answered"]
    assert record["passages"][0]["text"] == plain["passages"][0]["text"]


def test_html_and_markdown_in_a_question_are_searched_as_their_words(capsys):
    code, record, _ = ask_json(capsys, "<b>影谱</b> **融资** &amp;")
    assert code == 0 and record["answered"]
    assert "影谱" in record["passages"][0]["text"]
    assert record["question"] == "<b>影谱</b> **融资** &amp;"  # echoed as given, never altered


def test_markup_alone_is_not_an_answer(capsys):
    code, record, _ = ask_json(capsys, "<script>alert(1)</script>")
    assert code == 0 and record["answered"] is False


def test_emoji_and_mixed_scripts_still_find_the_words(capsys):
    code, record, _ = ask_json(capsys, "😀 Dimitri Metaxas 🚀 教授 가나다 加盟了哪里？")
    assert code == 0
    assert "Metaxas" in record["passages"][0]["text"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), st.lists(st.text(max_size=50), max_size=3))
def test_search_never_crashes_and_highlights_stay_inside_the_passage(searcher, question, context):
    try:
        result = searcher.search(question, 5, context)
    except QuestionError:
        return
    assert len(result.hits) <= 5
    assert isinstance(result.answered, bool)
    if result.answered:  # an answer needs a hit that holds enough of the question
        assert result.hits and result.coverage >= searcher.settings.min_coverage
    for hit in result.hits:
        assert all(0 <= s < e <= len(hit.passage.text) for s, e in hit.highlights)


@pytest.mark.parametrize("earlier, question, answered", [
    ("影谱科技的创始人是谁？", "他说这笔钱会用来做什么？", True),  # a pointer back: judged with the earlier turn
    ("影谱科技完成了哪一轮融资？", "金额是多少？", True),  # one word of its own: an ellipsis
    ("商汤在哪里成立了智慧医疗实验室？", "怎么给猫剪指甲？", False),  # words of its own, none in the articles
    ("商汤在哪里成立了智慧医疗实验室？", "今天天气怎么样？", False),
])
def test_follow_ups_lean_on_earlier_turns_but_a_new_topic_is_judged_alone(searcher, earlier, question, answered):
    assert searcher.search(question, 3, [earlier]).answered is answered


def test_a_new_topic_does_not_inherit_the_earlier_turns_words(searcher):
    earlier = "影谱科技这轮融资拿了多少钱？"
    result = searcher.search("怎么给猫剪指甲？", 5, [earlier])
    inherited = {"影谱", "科技", "融资", "影谱科技"}
    for hit in result.hits:
        assert not inherited & set(hit.matched)
        assert not any(hit.passage.text[s:e] in inherited for s, e in hit.highlights)
    # a follow-up that points back still leans on the earlier turn
    assert searcher.search("他们的投资方是谁？", 5, [earlier]).hits[0].matched


def test_on_a_big_index_common_characters_are_not_searched(searcher, monkeypatch):
    from retrieval import search
    from retrieval.analysis import UNIGRAM

    question = "商汤的人工智能实验室"
    kept = set(searcher.query(question)[0])
    assert UNIGRAM + "商" in kept  # a small index searches every character
    monkeypatch.setattr(search, "LARGE", 0)
    share = searcher.settings.unigram_max_share * searcher.index.size
    big = set(searcher.query(question)[0])
    dropped = {t for t in kept - big}
    assert dropped and all(t[0] == UNIGRAM and searcher.index.df_of(t) > share for t in dropped)
    assert all(searcher.index.df_of(t) <= share for t in big if t[0] == UNIGRAM)
