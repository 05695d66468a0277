"""The answer span over the bundled seeds, the batch record's contract, and the span metric."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bot.answer_metric import exact_match, segments, span_f1
from bot.answering import Answerer
from retrieval import AnswerSpan
from retrieval.qtype import kind_of, wh_span


def answer_of(searcher, question, context=()):
    result = searcher.search(question, 5, list(context))
    return result, result.answer


def check_contract(result, span: AnswerSpan):
    text = result.hits[span.rank - 1].passage.text
    assert span.text == text[span.start:span.end]
    assert span.sentence[0] <= span.start < span.end <= span.sentence[1] <= len(text)
    assert isinstance(span.confident, bool) and 0.0 <= span.score <= 1.0


def test_a_number_question_gets_the_amount_with_its_unit(seed_searcher):
    result, span = answer_of(seed_searcher, "影谱科技这轮融资拿了多少钱？")
    check_contract(result, span)
    assert span.text == "13.6亿元"  # the whole amount: no candidate parts 13.6 from 亿元 or ends at the D of D轮


@pytest.mark.xfail(strict=True, reason="jieba tags 智慧 nr and the Latin name is not in the linear model's best 30: docs/answers.md")
def test_a_who_question_gets_a_name(seed_searcher):
    result, span = answer_of(seed_searcher, "谁担任这个实验室的首席科学家？")
    check_contract(result, span)
    assert "Metaxas" in span.text and len(span.text) <= 20


def test_a_traditional_question_gets_a_span_verbatim_in_the_simplified_article(seed_searcher):
    result, span = answer_of(seed_searcher, "影譜科技這輪融資拿了多少錢？")
    check_contract(result, span)
    assert span.text == "13.6亿元"  # simplified, as the article has it
    article = seed_searcher.articles[result.hits[span.rank - 1].passage.article_id].text
    assert span.text in article


def test_a_follow_up_gets_its_amount_from_the_earlier_turn(seed_searcher):
    result, span = answer_of(seed_searcher, "金额是多少？", ["影谱科技完成了哪一轮融资？"])
    check_contract(result, span)
    assert span.text == "13.6亿元"


def test_an_off_topic_question_gets_no_confident_answer(seed_searcher):
    for question in ("怎么给猫剪指甲？", "北京今天的天气怎么样？", "法国大革命是哪一年爆发的？"):
        result, span = answer_of(seed_searcher, question)
        assert span is None or not span.confident
        if not result.answered:
            assert span is None


def test_the_batch_record_carries_the_answer_by_the_contract(seed_searcher):
    answerer = Answerer(seed_searcher)
    record = json.loads(json.dumps(answerer.ask("影谱科技这轮融资拿了多少钱？").record(1), ensure_ascii=False))
    answer = record["answer"]
    assert set(answer) == {"text", "rank", "start", "end", "sentence", "confident", "score"}
    text = record["passages"][answer["rank"] - 1]["text"]
    assert answer["text"] == text[answer["start"]:answer["end"]] == "13.6亿元"
    s, e = answer["sentence"]
    assert s <= answer["start"] < answer["end"] <= e
    off = answerer.ask("怎么给猫剪指甲？").record(2)
    assert off["answered"] is False and off["answer"] is None


@pytest.mark.parametrize("question, kind", [
    ("影谱科技这轮融资拿了多少钱？", "number"), ("谁担任首席科学家？", "person"), ("实验室在哪里成立？", "place"),
    ("哪一年成立的？", "time"), ("为什么要合作？", "reason"), ("如何提升成绩？", "manner"),
    ("什么是模型融合？", "definition"), ("有哪些子任务？", "list"), ("商汤是否参加了比赛？", "yesno"),
    ("由哪个机构举办？", "org"), ("金额", "other"),
])
def test_question_kinds(question, kind):
    assert kind_of(question) == kind


def test_the_question_word_is_found():
    q = "影谱科技这轮融资拿了多少钱？"
    s, e = wh_span(q)
    assert q[s:e] == "多少"
    assert wh_span("金额") == (2, 2)


# --- the CMRC 2018 metric -----------------------------------------------------------------

def test_segments_han_one_by_one_other_runs_as_words_punctuation_out():
    assert segments("Dimitri Metaxas教授，2018年") == ["dimitri", "metaxas", "教", "授", "2018", "年"]
    assert segments("13.6亿元") == ["13.6", "亿", "元"]
    assert segments("《月刊Comic Blade》") == ["月", "刊", "comic", "blade"]


def test_exact_match_ignores_case_and_punctuation():
    assert exact_match("《月刊Comic Blade》", ["月刊comic blade"])
    assert not exact_match("13.6亿", ["13.6亿元"])


def test_f1_from_the_longest_common_substring_best_over_answers():
    assert span_f1("13.6亿元", ["13.6亿元"]) == 1.0
    # prediction 宣布完成13.6亿元融资 (9 items), gold 13.6亿元 (3): p 3/9, r 1
    assert span_f1("宣布完成13.6亿元融资", ["13.6亿元"]) == pytest.approx(2 * (1 / 3) / (1 / 3 + 1))
    # the common items must be contiguous: 甲丙 shares only one run of length 1 with 甲乙丙
    assert span_f1("甲丙", ["甲乙丙"]) == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert span_f1("无关", ["甲乙", "无关的"]) == pytest.approx(0.8)
    assert span_f1("甲", []) == 0.0 and span_f1("", ["甲"]) == 0.0


# --- the re-ranking trees, walked in numpy -------------------------------------------------

def test_trees_from_lightgbms_dump_are_walked_to_the_sum_of_their_leaves():
    from retrieval.answer_trees import flatten, of, predict

    leaf = lambda v: {"leaf_value": v}  # noqa: E731
    dumped = {"tree_info": [
        {"tree_structure": {"split_feature": 0, "threshold": 0.5,
                            "left_child": leaf(1.0),
                            "right_child": {"split_feature": 1, "threshold": 2.0,
                                            "left_child": leaf(2.0), "right_child": leaf(3.0)}}},
        {"tree_structure": leaf(-0.5)},  # a tree of one leaf
    ]}
    trees = of(flatten(dumped))
    assert trees.depth == 2
    x = np.array([[0.0, 9.0], [0.5, 0.0], [1.0, 2.0], [1.0, 2.5]], dtype=np.float32)
    assert predict(trees, x).tolist() == [0.5, 0.5, 1.5, 2.5]  # a value equal to the threshold goes left
