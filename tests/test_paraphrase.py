"""Other words than the article's: synonyms, numerals in one form, and years the articles contradict."""
from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.helpers import SEEDS
from retrieval import numerals
from retrieval.contradiction import contradiction, years
from retrieval.search import SearchSettings
from retrieval.store import RetrievalSettings, open_searcher
from retrieval.synonyms import Synonyms


def searcher_with(index_dir, **search):
    return open_searcher([SEEDS], RetrievalSettings(search=SearchSettings(**search)), index_dir).searcher


def ask_json(capsys, question: str) -> dict:
    assert main(["ask", "--json", "--corpus", str(SEEDS), question]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_question_in_other_words_is_answered_through_synonyms(seed_searcher, index_dir):
    # the article: 商汤科技首届地产论坛在深圳成功举办
    question = "商汤第一届地产论坛是在哪座城市开的？"
    result = seed_searcher.search(question)
    assert result.answered
    best = result.hits[0]
    assert "首届地产论坛在深圳成功举办" in best.passage.text
    assert {"首届", "举办"} <= set(best.matched)
    start = best.passage.text.index("举办")
    assert (start, start + 2) in best.highlights or any(s <= start and start + 2 <= e for s, e in best.highlights)
    without = searcher_with(index_dir, synonym_weight=0.0).search(question)
    assert "首届" not in without.hits[0].matched


def test_synonyms_are_words_the_analyser_keeps_whole(analyzer, tmp_path):
    groups = tmp_path / "groups.txt"
    groups.write_text("# a comment line\n花 用于 花费\n冠军 获胜者 第一名\n孤单\n", encoding="utf-8")
    table = Synonyms(analyzer.terms, [groups]).table
    assert table["花"] == {"花费"}  # 用于 is cut into 用 and a stopword: its pieces are no synonyms
    assert {"获胜者", "获胜", "第一名"} <= table["冠军"] and "1" not in table["冠军"]
    assert "孤单" not in table
    expanded = Synonyms(analyzer.terms, [groups]).expand({"冠军": 1.0, "获胜": 1.0}, 0.5)
    assert expanded["获胜者"] == 0.5 and "获胜" not in expanded


@pytest.mark.parametrize("written, spelled", [
    ("第一届", "第1届"), ("两万七千余次", "27000余次"), ("三十亿元", "30亿元"), ("二〇一八年", "2018年"),
    ("一百零五人", "105人"),
])
def test_numerals_in_characters_and_digits_give_the_same_number(analyzer, written, spelled):
    number = [t for t in analyzer.terms(spelled) if t[0].isdigit()]
    assert number and set(number) <= set(analyzer.terms(written))


@pytest.mark.parametrize("text", ["一些", "统一", "十分", "万一", "哪一年", "一个"])
def test_numeral_characters_inside_words_are_no_numbers(text):
    assert numerals.terms(text) == []


def test_the_numeral_term_keeps_the_characters_offsets():
    assert numerals.terms("引用高达两万七千余次") == [("27000", 4, 8)]


def test_a_number_in_digits_finds_the_passage_that_writes_it_in_characters(seed_searcher):
    result = seed_searcher.search("Metaxas 的论文被引用过27000次以上吗？")  # the article: 两万七千余次
    assert result.answered
    assert "两万七千余次" in result.hits[0].passage.text and "27000" in result.hits[0].matched


def test_a_year_the_articles_contradict_abstains_and_says_what_they_cover(capsys):
    record = ask_json(capsys, "2020年 WIDER 挑战赛的冠军是谁？")  # the articles are about 2018
    assert record["answered"] is False
    assert "2018" in record["notice"] and "2020" in record["notice"]
    assert record["passages"]  # the closest passages are still shown
    capsys.readouterr()
    assert main(["ask", "--corpus", str(SEEDS), "2020年 WIDER 挑战赛的冠军是谁？"]) == 0
    out = capsys.readouterr().out
    assert "不是 2020 年" in out and "2018" in out  # what the articles cover, in the question's language


def test_a_year_the_articles_name_is_answered(capsys):
    record = ask_json(capsys, "2017年影谱完成了多少秒的工程处理？")
    assert record["answered"] is True and "notice" not in record


def test_a_year_inside_the_span_the_articles_cover_is_no_contradiction():
    article = "1750年建城。1759年城被攻陷。"
    assert contradiction("1755年时这里是什么？", article, [article]) is None
    assert contradiction("1790年时这里是什么？", article, [article]) == "the articles cover 1750, 1759, not 1790"
    assert contradiction("这里有2000多年历史吗？", article, [article]) is None  # a length of time, not a year
    assert years("二〇一八年") == {"2018"}
