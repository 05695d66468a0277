"""Loading articles: every format, folders, encodings, and each kind of bad input."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from retrieval.articles import Article, LoadProblem, load_corpus
from retrieval.errors import CorpusError, RetrievalError

from tests.helpers import SEEDS, write_jsonl


def only(corpus) -> Article:
    assert len(corpus.articles) == 1, corpus.articles
    return corpus.articles[0]


def messages(corpus) -> list[str]:
    return [str(p) for p in corpus.problems]


# --- formats -------------------------------------------------------------------------

def test_seed_tsv_in_a_txt_file(tiny_tsv):
    corpus = load_corpus([tiny_tsv])
    assert [a.title for a in corpus.articles] == ["熊猫保护", "量子计算"]
    first = corpus.articles[0]
    assert first.text == "大熊猫是中国特有的珍稀动物。成都大熊猫繁育研究基地成立于1987年。"
    assert first.source == "tiny.txt:1" and first.id == "tiny.txt:1"
    assert corpus.articles[1].source == "tiny.txt:2"
    assert corpus.problems == []
    assert corpus.files == [tiny_tsv]


def test_bundled_seeds_load_without_problems():
    corpus = load_corpus([SEEDS])
    assert len(corpus.articles) >= 5
    assert corpus.problems == []
    assert all(a.title and a.text and "\t" not in a.title for a in corpus.articles)


def test_tsv_file_with_escaped_paragraph_breaks(tmp_path):
    path = tmp_path / "news.tsv"
    path.write_text("标题一\t第一段。\\n第二段。\n\n标题二\t正文。\n", encoding="utf-8")
    corpus = load_corpus([path])
    assert [a.title for a in corpus.articles] == ["标题一", "标题二"]
    assert corpus.articles[0].text == "第一段。\n第二段。"
    assert corpus.articles[1].source == "news.tsv:3"  # the blank line still counts for line numbers


def test_jsonl_with_title_text_id_url_and_blank_line_paragraphs(tmp_path):
    path = write_jsonl(tmp_path / "wiki.jsonl", [
        {"title": "长城", "text": "长城是古代的军事工程。\n\n它东起山海关。", "id": "gw-1", "url": "https://example.org/gw"},
        {"title": "故宫", "text": "故宫位于北京。"},
        {"text": "没有标题的文章。"},
    ])
    corpus = load_corpus([path])
    great_wall, palace, untitled = corpus.articles
    assert great_wall == Article("gw-1", "长城", "https://example.org/gw", "长城是古代的军事工程。\n\n它东起山海关。",
                                 url="https://example.org/gw")
    assert (palace.id, palace.source) == ("wiki.jsonl:2", "wiki.jsonl:2")
    assert untitled.title == "wiki #3"
    assert corpus.problems == []


def test_jsonl_paragraphs_become_separate_passages(tmp_path):
    from retrieval.passages import split_articles

    path = write_jsonl(tmp_path / "a.jsonl", [{"title": "t", "text": "第一段。\n\n第二段。"}])
    passages = split_articles(load_corpus([path]).articles)
    assert [(p.paragraph, p.text) for p in passages] == [(1, "第一段。"), (2, "第二段。")]


@pytest.mark.parametrize("name, content, title, text", [
    # a markdown heading is the title
    ("note.md", "# 人工智能简介\n\n人工智能是计算机科学的一个分支。\n", "人工智能简介", "人工智能是计算机科学的一个分支。"),
    # a text file's first short line is the title
    ("story.txt", "春天的故事\n春天来了，花都开了。\n小鸟在唱歌。\n", "春天的故事", "春天来了，花都开了。\n小鸟在唱歌。"),
    # without a title line, the file name is
    ("单行文章.txt", "这是一篇只有一行的文章，没有标题。\n", "单行文章", "这是一篇只有一行的文章，没有标题。"),
])
def test_text_files_title_and_body(tmp_path, name, content, title, text):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    article = only(load_corpus([path]))
    assert (article.title, article.text, article.source) == (title, text, name)


def test_folder_loads_recursively_in_sorted_order(tmp_path):
    root = tmp_path / "library"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a.md").write_text("# 甲\n甲的正文。", encoding="utf-8")
    (root / "b" / "deep" / "c.txt").write_text("丙\n丙的正文。", encoding="utf-8")
    write_jsonl(root / "b" / "x.jsonl", [{"title": "乙", "text": "乙的正文。"}])
    (root / "ignored.csv").write_text("title,text\n", encoding="utf-8")
    (root / ".hidden.txt").write_text("隐藏\n不该加载。", encoding="utf-8")
    corpus = load_corpus([root])
    # a folder's own files come before its subfolders' (os.walk order), each level sorted
    assert [a.title for a in corpus.articles] == ["甲", "乙", "丙"]
    # citations name the file relative to the folder's parent
    assert corpus.articles[2].source == os.path.join("library", "b", "deep", "c.txt")
    assert corpus.problems == []


def test_several_paths_are_combined(tmp_path, tiny_tsv, tiny_corpus):
    corpus = load_corpus([tiny_tsv, tiny_corpus])
    assert len(corpus.articles) == 5


def test_utf8_bom_is_dropped(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeff标题\t正文内容。\n".encode("utf-8"))
    article = only(load_corpus([path]))
    assert article.title == "标题"


def test_utf8_bom_jsonl(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + '{"title": "标题", "text": "正文。"}\n'.encode("utf-8"))
    corpus = load_corpus([path])
    assert only(corpus).title == "标题" and corpus.problems == []


# --- bad input: reported, skipped, the rest still loads --------------------------------

def test_malformed_tsv_line_is_reported_and_skipped(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("好标题\t好正文。\n没有制表符的一行\n\t没有标题\n另一个标题\t另一段正文。\n", encoding="utf-8")
    corpus = load_corpus([path])
    assert [a.title for a in corpus.articles] == ["好标题", "另一个标题"]
    assert [(p.path, p.line) for p in corpus.problems] == [(str(path), 2), (str(path), 3)]
    assert messages(corpus)[0].startswith(f"{path}:2: ")
    assert "TAB" in messages(corpus)[0]


def test_malformed_line_in_seed_style_txt_is_reported_and_skipped(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("标题一\t正文一。\n坏掉的一行没有制表符\n标题二\t正文二。\n", encoding="utf-8")
    corpus = load_corpus([path])
    assert [a.title for a in corpus.articles] == ["标题一", "标题二"]
    assert [(p.path, p.line) for p in corpus.problems] == [(str(path), 2)]


def test_malformed_json_line_is_reported_and_skipped(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "一", "text": "第一篇。"}\n{"title": "二", "text": \n'
                    '["not", "an", "object"]\n{"title": "四", "text": ""}\n{"title": "五", "text": "第五篇。"}\n',
                    encoding="utf-8")
    corpus = load_corpus([path])
    assert [a.title for a in corpus.articles] == ["一", "五"]
    assert [p.line for p in corpus.problems] == [2, 3, 4]
    assert messages(corpus)[0].startswith(f"{path}:2: not JSON")


def test_gbk_file_is_refused_with_line_and_iconv_hint(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("title line\n第二行是中文。\n".encode("gbk"))
    other = tmp_path / "ok.md"
    other.write_text("# 好文章\n正文。", encoding="utf-8")
    corpus = load_corpus([path, other])
    assert [a.title for a in corpus.articles] == ["好文章"]
    (problem,) = corpus.problems
    assert (problem.path, problem.line) == (str(path), 2)
    assert "GBK" in problem.message and "iconv" in problem.message and "gbk.txt" in problem.message


def test_big5_file_is_told_to_convert_from_big5(tmp_path):
    path = tmp_path / "big5.txt"
    path.write_bytes("商湯科技在香港成立了智慧醫療實驗室\n這是一個重要的里程碑，臺灣的研究機構也參與其中。\n".encode("big5"))
    (problem,) = load_corpus([path, SEEDS]).problems
    assert "Big5" in problem.message and "iconv -f BIG5 -t UTF-8 big5.txt > fixed.txt" in problem.message


def test_the_iconv_hint_quotes_the_file_name(tmp_path):
    path = tmp_path / "a;touch PWNED;b.txt"
    path.write_bytes("标题\n正文是中文。\n".encode("gb18030"))
    (problem,) = load_corpus([path, SEEDS]).problems
    assert "iconv -f GB18030 -t UTF-8 'a;touch PWNED;b.txt' > fixed.txt" in problem.message


@pytest.mark.parametrize("name, text", [
    ("news.txt", "熊猫\t大熊猫是中国特有的动物。\n坏行\t有一个\x00字节。\n咖啡\t咖啡起源于埃塞俄比亚。\n"),
    ("news.jsonl", '{"title": "熊猫", "text": "大熊猫是中国特有的动物。"}\n{"title": "坏", "text": "\x00"}\n'
                   '{"title": "咖啡", "text": "咖啡起源于埃塞俄比亚。"}\n'),
    ("news.md", "# 熊猫\n大熊猫是中国特有的动物。\n坏行\x00。\n咖啡起源于埃塞俄比亚。\n"),
])
def test_one_nul_byte_skips_only_its_line(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    corpus = load_corpus([path])
    body = "\n".join(a.text for a in corpus.articles)
    assert "大熊猫" in body and "埃塞俄比亚" in body and "\x00" not in body
    (problem,) = corpus.problems
    assert problem.line == text[:text.index("\x00")].count("\n") + 1 and "NUL byte" in problem.message


def test_a_text_file_of_only_damaged_lines_is_said_not_a_crash(tmp_path):
    (tmp_path / "damaged.txt").write_bytes(b"abc\x00\n\n\n\n")
    (tmp_path / "good.md").write_text("# 熊猫\n大熊猫是中国特有的动物。\n", encoding="utf-8")
    corpus = load_corpus([tmp_path])
    assert [a.title for a in corpus.articles] == ["熊猫"]
    assert [(Path(p.path).name, p.line) for p in corpus.problems] == [("damaged.txt", 1)]


def test_utf16_file_is_refused(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes("标题\t正文。\n".encode("utf-16"))
    corpus = load_corpus([path, SEEDS])
    problems = [p for p in corpus.problems if p.path == str(path)]
    assert len(problems) == 1
    assert "UTF-16" in problems[0].message and "iconv" in problems[0].message
    assert all(a.source.startswith("seeds") for a in corpus.articles)


def test_binary_file_is_skipped(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"PK\x03\x04\x00\x00binary\x00data")
    corpus = load_corpus([path, SEEDS])
    (problem,) = corpus.problems
    assert problem.path == str(path) and "binary" in problem.message


def test_empty_file_is_reported(tmp_path, tiny_tsv):
    empty = tmp_path / "empty.md"
    empty.write_text("  \n\n", encoding="utf-8")
    corpus = load_corpus([empty, tiny_tsv])
    assert len(corpus.articles) == 2
    (problem,) = corpus.problems
    assert problem.path == str(empty) and "empty" in problem.message


def test_duplicate_articles_are_skipped(tmp_path, tiny_tsv):
    copy = tmp_path / "copy.tsv"
    copy.write_text(tiny_tsv.read_text(encoding="utf-8"), encoding="utf-8")
    corpus = load_corpus([tiny_tsv, copy])
    assert len(corpus.articles) == 2
    assert len(corpus.problems) == 2
    assert all("duplicate of tiny.txt:" in str(p) for p in corpus.problems)
    assert {p.path for p in corpus.problems} == {"copy.tsv:1", "copy.tsv:2"}


def test_explicit_duplicate_ids_keep_both_articles_and_are_reported(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "7", "title": "甲", "text": "第一篇。"},
                                           {"id": "7", "title": "乙", "text": "第二篇。"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "7", "title": "丙", "text": "第三篇。"}])
    corpus = load_corpus([a, b])
    assert [(x.id, x.title) for x in corpus.articles] == [("7", "甲"), ("7#2", "乙"), ("7#3", "丙")]
    assert [(p.path, p.line) for p in corpus.problems] == [(str(a), 0), (str(b), 0)]
    assert 'id "7" of a.jsonl:2 is already used by a.jsonl:1; loaded as "7#2"' in corpus.problems[0].message
    assert "b.jsonl:1" in corpus.problems[1].message and '"7#3"' in corpus.problems[1].message


def test_default_ids_from_two_folders_with_the_same_file_name_are_made_unique(tmp_path):
    one, two = tmp_path / "one" / "data", tmp_path / "two" / "data"
    for folder, text in [(one, "大熊猫生活在四川。"), (two, "咖啡起源于埃塞俄比亚。")]:
        folder.mkdir(parents=True)
        write_jsonl(folder / "x.jsonl", [{"title": "标题", "text": text}])
        (folder / "y.tsv").write_text(f"题目\t{text}\n", encoding="utf-8")
    corpus = load_corpus([one, two])
    assert [a.id for a in corpus.articles] == ["data/x.jsonl:1", "data/y.tsv:1", "data/x.jsonl:1#2", "data/y.tsv:1#2"]
    assert [a.source for a in corpus.articles] == ["data/x.jsonl:1", "data/y.tsv:1"] * 2  # citations unchanged
    assert corpus.problems == []  # default ids: renamed silently


def test_an_id_that_equals_a_renamed_one_is_made_unique_too(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"id": "k", "text": "一。"}, {"id": "k", "text": "二。"},
                                               {"id": "k#2", "text": "三。"}])
    corpus = load_corpus([path])
    assert [a.id for a in corpus.articles] == ["k", "k#2", "k#2#2"]
    assert len({a.id for a in corpus.articles}) == 3 and len(corpus.problems) == 2


def test_txt_with_a_tab_in_a_minority_of_lines_is_plain_text(tmp_path):
    path = tmp_path / "essay.txt"
    path.write_text("一篇文章\n第一段正文。\n表格\t一行\n第三段正文。\n", encoding="utf-8")
    corpus = load_corpus([path])
    assert only(corpus).title == "一篇文章" and "表格\t一行" in only(corpus).text
    assert corpus.problems == []


def test_txt_with_one_tab_line_among_two_is_plain_text(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("标题\t正文。\n没有制表符的一行\n", encoding="utf-8")
    corpus = load_corpus([path])
    assert only(corpus).text == "没有制表符的一行" and corpus.problems == []  # one plain article


def test_seed_style_txt_lines_without_a_tab_are_each_reported(tmp_path):
    path = tmp_path / "seeds.txt"
    lines = [f"标题{i}\t正文{i}。" for i in range(1, 9)]
    lines[2] = "断行一"
    lines[6] = "断行二"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = load_corpus([path])
    assert len(corpus.articles) == 6
    assert messages(corpus) == [f"{path}:3: expected title<TAB>body; line skipped",
                                f"{path}:7: expected title<TAB>body; line skipped"]


def test_missing_path_raises_corpus_error(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match="corpus path not found") as info:
        load_corpus([missing])
    assert str(missing) in str(info.value)
    assert isinstance(info.value, RetrievalError)


def test_nothing_loadable_raises_corpus_error_naming_the_problems(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "bin.md").write_bytes(b"\x00\x01\x02")
    with pytest.raises(CorpusError) as info:
        load_corpus([folder])
    message = str(info.value)
    assert "no articles" in message and "empty" in message and "binary" in message


def test_folder_without_article_files_raises_corpus_error(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no articles"):
        load_corpus([tmp_path])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_is_reported_not_followed_forever(tmp_path):
    root = tmp_path / "loop"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.md").write_text("# 文章\n正文。", encoding="utf-8")
    os.symlink(root, root / "sub" / "back")
    corpus = load_corpus([root])
    assert only(corpus).title == "文章"
    assert any("symlink loop" in p.message for p in corpus.problems)


def test_load_problem_str():
    assert str(LoadProblem("a.tsv", 3, "bad")) == "a.tsv:3: bad"
    assert str(LoadProblem("a.tsv", 0, "bad")) == "a.tsv: bad"


def test_a_50_mb_line_is_reported_and_the_rest_loads(tmp_path):
    corpus = tmp_path / "big.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        f.write(json.dumps({"title": "ok", "text": "第一篇。"}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"title": "huge", "text": "长" * 50_000_000}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"title": "ok too", "text": "第三篇。"}, ensure_ascii=False) + "\n")
    loaded = load_corpus([corpus])
    assert [a.title for a in loaded.articles] == ["ok", "ok too"]
    assert [(p.line, "split it" in p.message) for p in loaded.problems] == [(2, True)]
