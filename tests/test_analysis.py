"""Normalisation and tokenisation shared by passages and questions."""
from __future__ import annotations

import pytest

from retrieval.errors import AnalysisError
from hypothesis import given, settings, strategies as st

from retrieval.analysis import BIGRAM, AnalysisSettings, Analyzer


def words(analyzer, text: str) -> set[str]:
    """Non-bigram terms."""
    return {t for t in analyzer.terms(text) if not t.startswith(BIGRAM)}


def test_traditional_and_simplified_give_the_same_terms(analyzer):
    trad = analyzer.terms("商湯在哪裡成立了智慧醫療實驗室")
    simp = analyzer.terms("商汤在哪里成立了智慧医疗实验室")
    assert trad == simp
    assert {"商汤", "成立", "智慧", "医疗", "实验室"} <= set(simp)


def test_phrase_aware_conversion(analyzer):
    # OpenCC converts by phrase: 乾隆 is a name and stays, 乾燥 becomes 干燥
    assert analyzer.normalise("乾隆") == "乾隆"
    assert analyzer.normalise("乾燥") == "干燥"


def test_full_width_becomes_half_width_and_lowercase(analyzer):
    assert analyzer.normalise("ＡＢＣ１２３") == "abc123"
    assert analyzer.terms("ＲｏＩ－Ａｌｉｇｎ") == analyzer.terms("RoI-Align")
    assert analyzer.terms("ＧＰＵ") == ["gpu"]


def test_english_words_are_stemmed(analyzer):
    assert analyzer.terms("attention") == analyzer.terms("attentions") == analyzer.terms("Attention")
    assert analyzer.terms("detection detectors") == ["detect", "detector"]


def test_stemming_can_be_switched_off():
    plain = Analyzer(AnalysisSettings(stem=False))
    assert plain.terms("attentions") == ["attentions"]


def test_identifier_gives_parts_and_joined_form(analyzer):
    assert analyzer.terms("RoI-Align") == ["roi", "align", "roialign"]
    assert analyzer.terms("roialign") == ["roialign"]  # so the joined spelling still matches


def test_words_separated_by_space(analyzer):
    assert analyzer.terms("Faster RCNN") == ["faster", "rcnn"]
    assert analyzer.terms("Faster R-CNN")[-1] == "rcnn"


@pytest.mark.parametrize("text, number", [
    ("13.6亿元", "13.6"), ("营收40,000,000元", "40000000"), ("2018年", "2018"), ("增长3.5%", "3.5"),
])
def test_numbers_are_kept_whole(analyzer, text, number):
    assert number in analyzer.terms(text)


def test_number_with_thousands_separator_matches_plain_number(analyzer):
    assert analyzer.terms("40,000,000") == analyzer.terms("40000000") == ["40000000"]
    assert "13" not in analyzer.terms("13.6亿元") and "6" not in analyzer.terms("13.6亿元")


@pytest.mark.parametrize("question", ["什么", "多少", "哪", "谁", "怎么", "吗", "什么、多少、哪、谁、怎么、吗？",
                                      "是什么呢？", "為什麼", "What is it?", "how"])
def test_question_words_and_stopwords_give_no_terms(analyzer, question):
    assert analyzer.terms(question) == []


@pytest.mark.parametrize("question", ["哪一年", "哪一天"])
def test_which_year_is_a_question_word(analyzer, question):
    assert analyzer.terms(question) == []


def test_question_words_leave_only_the_topic(analyzer):
    assert words(analyzer, "商汤是谁创立的？") >= {"商汤", "创立"}
    assert not words(analyzer, "商汤是谁创立的？") & {"是", "谁", "的"}


def test_english_stopwords_give_no_terms_even_when_stemmed(analyzer):
    assert analyzer.terms("what does it do") == []


def test_bigrams_skip_stopwords(analyzer):
    bigrams = [t for t in analyzer.terms("什么问题") if t.startswith(BIGRAM)]
    assert BIGRAM + "么问" not in bigrams
    assert BIGRAM + "问题" in bigrams


def test_bigrams_can_be_switched_off():
    plain = Analyzer(AnalysisSettings(bigrams=False))
    terms = plain.terms("智慧医疗实验室")
    assert terms and not any(t.startswith(BIGRAM) for t in terms)


@pytest.mark.parametrize("text", [
    "商湯在哪裡成立了智慧醫療實驗室？", "ＲｏＩ－Ａｌｉｇｎ和Faster RCNN", "营收４０，０００，０００元，增长13.6%",
    "乾隆皇帝", "ﬁne İstanbul ½", "𠀀𠀁中文",
])
def test_normalised_text_keeps_the_length(analyzer, text):
    assert len(analyzer.normalise(text)) == len(text)


def test_token_offsets_index_the_original_text(analyzer):
    text = "商湯在哪裡成立了智慧醫療實驗室？RoI-Align用了４０，０００元"
    tokens = analyzer.spans(text)
    norm = analyzer.normalise(text)
    by_term = {term: text[start:end] for term, start, end in tokens}
    assert by_term["商汤"] == "商湯"
    assert by_term["实验室"] == "實驗室"
    assert by_term["roialign"] == "RoI-Align"
    assert by_term["roi"] == "RoI"
    assert by_term["40000"] == "４０，０００"
    for term, start, end in tokens:
        if term.startswith(BIGRAM):
            assert BIGRAM + norm[start:end] == term
        elif "\u4e00" <= term[0] <= "\u9fff":
            assert norm[start:end] == term


def test_document_and_query_analysis_agree(analyzer):
    passage = "近日，商汤科技SenseTime宣布在美国新泽西成立智慧医疗实验室。"
    question = "商湯在哪裡成立了智慧醫療實驗室？"
    assert set(words(analyzer, question)) <= set(analyzer.terms(passage))


def test_user_dict_words_without_a_frequency_are_kept_whole(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("# a comment\n影谱科技\n", encoding="utf-8")
    custom = Analyzer(AnalysisSettings(user_dict=str(path)))
    assert "影谱科技" in custom.terms("影谱科技获得融资")


def test_an_unreadable_user_dict_is_a_clear_error(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_bytes("智慧案场".encode("gbk"))
    with pytest.raises(AnalysisError, match="user dictionary"):
        Analyzer(AnalysisSettings(user_dict=str(path))).terms("商汤")


def test_user_dict(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("智慧案场 1000 n\n", encoding="utf-8")
    custom = Analyzer(AnalysisSettings(user_dict=str(path)))
    assert "智慧案场" in custom.terms("商汤发布智慧案场解决方案")


def test_settings_key_changes_with_settings():
    assert AnalysisSettings().key() != AnalysisSettings(bigrams=False).key()
    assert AnalysisSettings().key() != AnalysisSettings(stem=False).key()


any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("商湯汤實验室ＡＢＣ１２３，。-_.'0123456789abcXYZ "))
    , max_size=200)


@settings(max_examples=200, deadline=None)
@given(text=any_text)
def test_tokens_never_crash_and_offsets_stay_in_range(analyzer, text):
    assert len(analyzer.normalise(text)) == len(text)
    for term, start, end in analyzer.spans(text):
        assert 0 <= start < end <= len(text)
        assert term


def bulk_spans(analyzer, texts):
    """Sorted (term, start, end) of each text, from the array analysis indexing uses."""
    found = analyzer.analyse(texts)
    out = [[] for _ in texts]
    for t, term, s, e in zip(found.text.tolist(), found.term_list(), found.start.tolist(), found.end.tolist()):
        out[t].append((term, s, e))
    return [sorted(spans) for spans in out]


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(any_text, min_size=1, max_size=6))
def test_indexing_and_question_analysis_give_the_same_terms(analyzer, texts):
    """Passages are indexed by ``analyse`` (many texts in one call, array operations); questions
    and highlights use ``spans`` (one text, Python). Both must find the same terms at the same places."""
    assert bulk_spans(analyzer, texts) == [sorted(analyzer.spans(t)) for t in texts]


def test_both_analyses_agree_on_real_sentences(analyzer):
    from pathlib import Path

    from retrieval.articles import load_corpus
    from retrieval.counting import pieces
    from retrieval.passages import sentence_ends

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    texts = [s for a in load_corpus([seeds]).articles for s in [a.title] + pieces(a.text, 0, len(a.text), sentence_ends(a.text))]
    texts += ["商湯在哪一年成立？RoI-Align 與 x86_64，售價 13,600 元。", "ﬁnance İstanbul ½ 乾隆乾燥", "的了吗"]
    assert bulk_spans(analyzer, texts) == [sorted(analyzer.spans(t)) for t in texts]


# stopwords, question words and the characters around them, Latin stopwords, numbers, punctuation
STOPWORD_HEAVY = st.lists(st.sampled_from(
    list("的了是在和与哪一年国个这那也都不有很商汤實验室医疗北京大学，。？！ 0123456789.,-") +
    ["哪一年", "哪里", "是否", "the ", "does ", "and ", "RoI-Align ", "running ", "13,600 "]), max_size=60).map("".join)
ALL_SETTINGS = [AnalysisSettings(bigrams=b, unigrams=u, stem=s) for b in (True, False) for u in (True, False)
                for s in (True, False)]
ANALYZERS: dict[AnalysisSettings, Analyzer] = {}


@pytest.mark.parametrize("settings_", ALL_SETTINGS, ids=lambda s: f"bigrams={s.bigrams},unigrams={s.unigrams},stem={s.stem}")
@settings(max_examples=60, deadline=None)
@given(texts=st.lists(STOPWORD_HEAVY, min_size=1, max_size=4))
def test_both_paths_agree_under_every_setting(settings_, texts):
    """One rule set read by both paths: the same terms whatever is switched on or off."""
    analyzer = ANALYZERS.setdefault(settings_, Analyzer(settings_))
    assert bulk_spans(analyzer, texts) == [sorted(analyzer.spans(t)) for t in texts]
