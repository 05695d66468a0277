"""The re-rank by best sentence: a window keeps its sentence's neighbours, and a sentence holding
the kind of thing asked for (a year for 哪一年, a name for 谁) is preferred."""
from __future__ import annotations

import pytest

from retrieval.search import SearchSettings, asked_for
from retrieval.store import RetrievalSettings, open_searcher

from tests.helpers import write_jsonl

FILLER = "园区里还有一座小型博物馆，陈列着历年收集的标本和照片，供来访的学生参观学习。"


def searcher_over(tmp_path, index_dir, articles, **search):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", articles)
    settings = RetrievalSettings(search=SearchSettings(**search))
    return open_searcher([corpus], settings, index_dir).searcher


@pytest.mark.parametrize("question, kind", [
    ("這座鐵橋在哪一年時完工？", "time"),
    ("這間博物館創立於何時?", "time"),
    ("這條河的全長約有多少公里？", "number"),
    ("一任校長最多只能當多久？", "number"),
    ("蒸汽機是誰改良的？", "person"),
    ("登山隊從哪裡出發?", "place"),
    ("哪一國家的森林覆蓋率最高？", "place"),
    ("商汤和几乎所有银行都合作吗", None),  # 几乎 is "almost", not "how many"
    ("很多大学有医学院吗", None),  # 多大 inside 很多大学 asks nothing
    ("智慧医疗实验室在做什么？", None),
])
def test_what_a_question_asks_for(analyzer, question, kind):
    assert asked_for(analyzer.normalise(question)) == kind


def test_a_window_that_cuts_the_sentence_before_its_echo_loses_to_one_that_keeps_it(tmp_path, index_dir):
    # the echo of the question starts with 这套法规: the answer is the sentence before it
    text = ("《国际动物命名规约》由国际生物学会负责修订和解释。"
            "这套法规还规定了管理和仲裁动物命名的专门机构及其权力。" + FILLER + FILLER[:30] + "。")
    articles = [{"title": "动物命名", "text": text}]
    question = "管理和仲裁动物命名的专门机构由什么规定？"
    plain = searcher_over(tmp_path, index_dir, articles, edge_weight=0.0).search(question, 1)
    assert "国际动物命名规约" not in plain.hits[0].passage.text  # BM25 likes the shorter window
    best = searcher_over(tmp_path, index_dir, articles).search(question, 1)
    assert "国际动物命名规约" in best.hits[0].passage.text
    assert best.hits[0].passage.text.startswith("《国际动物命名规约》")


def test_a_sentence_with_a_year_wins_a_when_question(tmp_path, index_dir):
    articles = [
        {"title": "研究机构", "text": "星海研究所成立于上海，专门研究海洋生物。"},
        {"title": "研究机构", "text": "星海研究所成立于1998年，总部设在厦门，设有三个实验室和一个观测站。"},
    ]
    question = "星海研究所成立于哪一年？"
    plain = searcher_over(tmp_path, index_dir, articles, answer_kind_weight=0.0).search(question, 1)
    assert "1998" not in plain.hits[0].passage.text
    best = searcher_over(tmp_path, index_dir, articles).search(question, 1)
    assert "1998" in best.hits[0].passage.text


def test_a_number_already_in_the_question_is_not_an_answer(analyzer, tmp_path, index_dir):
    s = searcher_over(tmp_path, index_dir, [{"title": "t", "text": "一。"}])
    question = analyzer.normalise("1998年成立的研究所有多少个实验室？")
    assert not s.holds_kind("研究所成立于1998年。", "number", question)
    assert s.holds_kind("研究所成立于1998年，设有三个实验室。", "number", question)


def test_who_and_where_are_told_by_part_of_speech(analyzer, tmp_path, index_dir):
    s = searcher_over(tmp_path, index_dir, [{"title": "t", "text": "一。"}])
    question = analyzer.normalise("谁发明了温度计？")
    assert s.holds_kind(analyzer.normalise("华伦海特的温度计由朱立伦改良。"), "person", question)
    assert not s.holds_kind(analyzer.normalise("温度计是一种测量温度的仪器。"), "person", question)
    assert s.holds_kind(analyzer.normalise("它产于上海。"), "place", analyzer.normalise("它产于哪里？"))

