"""Splitting articles into paragraphs and passages of whole sentences, with exact offsets."""
from __future__ import annotations

import re

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from retrieval.articles import Article
from retrieval.passages import Passage, split_article, split_articles

END = re.compile(r"[。！？；!?;….][”’」』）)\]】》\"'〉]*$")


def article(text: str, title: str = "标题") -> Article:
    return Article("a1", title, "src", text)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]


def check_offsets(art: Article, passages: list[Passage]) -> None:
    for p in passages:
        assert art.text[p.start:p.end] == p.text
        assert p.text and p.text == p.text.strip()
    assert all(a.end <= b.start for a, b in zip(passages, passages[1:])), "passages overlap or go backwards"


SENTENCES = [
    "人工智能是计算机科学的一个分支。",
    "它试图理解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器！",
    "该领域的研究包括机器人、语言识别、图像识别、自然语言处理和专家系统等？",
    "他说：“今天的天气非常好。”",
    "（这是一个括号里的句子。）",
    "The model uses attention. It works well!",
    "短句；",
    "研究者们认为，随着算力的提升和数据规模的扩大，深度学习模型的性能还将继续提高……",
]


def long_article() -> Article:
    para1 = "".join(SENTENCES * 3)
    para2 = "".join(reversed(SENTENCES)) * 2
    return article(para1 + "\n\n" + para2 + "\n最后一段没有句号")


def test_offsets_point_at_the_exact_text():
    art = long_article()
    passages = list(split_article(art, target=80, hard_max=200, overlap=False))
    assert len(passages) > 5
    check_offsets(art, passages)


def test_no_passage_ends_mid_sentence():
    art = long_article()
    paragraph_ends = {e for _, e in paragraph_spans(art.text)}
    for p in split_article(art, target=80, hard_max=200):
        assert END.search(p.text) or p.end in paragraph_ends, p.text


def test_passages_stay_within_target_unless_one_sentence_is_longer():
    art = long_article()
    longest_sentence = max(len(s) for s in SENTENCES)
    for target in (40, 80, 160):
        for p in split_article(art, target=target, hard_max=400):
            assert len(p.text) <= max(target, longest_sentence), (target, p.text)


def test_sentences_are_packed_up_to_the_target():
    art = article("一二三四五。" * 10)  # ten 6-character sentences
    passages = list(split_article(art, target=20, hard_max=400, overlap=False))
    assert [len(p.text) for p in passages] == [18, 18, 18, 6]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    text = "他说：“今天很好。”然后他离开了。（这句在括号里。）下一句开始了！」还有『引号。』"
    passages = list(split_article(article(text), target=1, hard_max=400))
    texts = [p.text for p in passages]
    assert texts[0] == "他说：“今天很好。”"
    assert texts[1] == "然后他离开了。"
    assert texts[2] == "（这句在括号里。）"
    assert not any(t[0] in "”’」』）)]】》" for t in texts), texts


def test_a_decimal_point_does_not_end_a_sentence():
    text = "Version 3.5 is out. It costs 13.6 yuan. 营收为13.6亿元。"
    texts = [p.text for p in split_article(article(text), target=1)]
    assert texts == ["Version 3.5 is out.", "It costs 13.6 yuan.", "营收为13.6亿元。"]


def test_paragraph_and_part_numbering():
    text = "第一段第一句。第一段第二句。\n\n\n第二段只有一句。\n   \n第三段第一句。第三段第二句。第三段第三句。"
    passages = list(split_article(article(text), target=8))
    assert [(p.paragraph, p.part) for p in passages] == [(1, 1), (1, 2), (2, 1), (3, 1), (3, 2), (3, 3)]
    assert passages[2].text == "第二段只有一句。"
    assert all(p.article_id == "a1" and p.title == "标题" for p in passages)


def test_paragraphs_are_never_joined():
    text = "甲。\n乙。\n丙。"
    passages = list(split_article(article(text), target=1000))
    assert [p.text for p in passages] == ["甲。", "乙。", "丙。"]


def test_an_over_long_sentence_is_cut_at_commas_within_the_hard_max():
    clause = "这是一个相当长的分句用来测试切分，"
    text = clause * 30 + "结束。"
    passages = list(split_article(article(text), target=100, hard_max=120))
    assert len(passages) > 1
    check_offsets(article(text), passages)
    for p in passages:
        assert len(p.text) <= 120
    assert all(p.text.endswith("，") for p in passages[:-1])
    assert passages[-1].text.endswith("结束。")


def test_a_sentence_without_any_break_is_cut_at_the_hard_max():
    text = "字" * 1000
    passages = list(split_article(article(text), target=100, hard_max=300))
    assert [len(p.text) for p in passages] == [300, 300, 300, 100]
    assert "".join(p.text for p in passages) == text


def test_whitespace_around_sentences_is_trimmed_and_offsets_still_exact():
    text = "  \t开头有空格。   中间也有。  \n\n   Second para. Ends here.   "
    art = article(text)
    passages = list(split_article(art, target=1))
    assert [p.text for p in passages] == ["开头有空格。", "中间也有。", "Second para.", "Ends here."]
    check_offsets(art, passages)


def test_split_articles_keeps_article_order():
    arts = [Article("x", "X", "s", "一。\n二。"), Article("y", "Y", "s", "三。")]
    assert [(p.article_id, p.text) for p in split_articles(arts)] == [("x", "一。"), ("x", "二。"), ("y", "三。")]


def test_windows_line_endings():
    art = article("第一段。\r\n第二段。\r\n")
    passages = list(split_article(art))
    assert [p.text for p in passages] == ["第一段。", "第二段。"]
    check_offsets(art, passages)


text_strategy = st.text(
    alphabet=st.sampled_from(list("我们的中文字句子。，、！？；：“”（）《》…abc XYZ.,!?;'\"0123456789\n\t \r\u3000")) | st.characters(),
    max_size=600,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy, target=st.integers(1, 200), hard_max=st.integers(1, 300))
def test_split_never_crashes_and_offsets_are_valid(text, target, hard_max):
    art = article(text)
    passages = list(split_article(art, target=target, hard_max=hard_max, overlap=False))
    check_offsets(art, passages)
    # no non-space character is lost between passages
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert i in covered, (i, ch)
    numbers = [(p.paragraph, p.part) for p in passages]
    assert numbers == sorted(numbers)
    for p in passages:
        assert "\n" not in p.text
        # a piece longer than the hard max only when... never: hard_max is a hard limit
        assert len(p.text) <= max(target, hard_max)


def test_passage_table_rows_are_the_passages_split_articles_makes():
    from retrieval.counting import passage_table

    articles = [article("第一句很长。第二句也不短！\n\n第三段只有一句？", "甲"), article("", "空"),
                article("另一篇文章的第一句。然后第二句。" * 20, "乙")]
    for overlap in (False, True):
        made = split_articles(articles, 40, 100, overlap)
        rows = passage_table(articles, 40, 100, overlap).tolist()
        assert [(articles[a].id, articles[a].title, *rest) for a, *rest in rows] == [p[:6] for p in made]


def test_passage_sentences_from_the_article_equal_those_of_the_passage_alone():
    """Indexing cuts each passage into sentences with the sentence ends of its whole article."""
    from pathlib import Path

    from retrieval.articles import load_corpus
    from retrieval.counting import passage_table, pieces
    from retrieval.passages import sentence_ends

    root = Path(__file__).resolve().parent.parent
    articles = load_corpus([root / "seeds"]).articles + [
        article("他说：“好。”然后走了……又回来！！再见. Bye. 结束", "引号"),
        article("很长的一句，" * 80 + "终于结束。短句。", "长句")]
    for overlap in (True, False):
        for a, _, _, start, end in passage_table(articles, 200, 400, overlap).tolist():
            text, alone = articles[a].text, articles[a].text[start:end]
            assert pieces(text, start, end, sentence_ends(text)) == pieces(alone, 0, len(alone), sentence_ends(alone))


@pytest.mark.parametrize("target, hard_max", [(200, 0), (0, 400), (200, -5)])
def test_sizes_below_one_character_are_refused_not_looped_on(target, hard_max):
    article = Article("a", "t", "s", "一句很长的话，" * 100)
    with pytest.raises(ValueError, match="at least 1 character"):
        list(split_article(article, target, hard_max))
