"""Every command run in-process through bot.cli.main, asserting exit code and output."""
from __future__ import annotations

import io
import json
import re

import pytest

from bot.cli import main
from bot.config import load_settings
from retrieval.articles import load_corpus
from retrieval.passages import split_articles

from tests.helpers import SEEDS, TINY_ARTICLES, write_jsonl

SEED_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in SEEDS.iterdir())
LAB_QUESTION = "商湯在哪裡成立了智慧醫療實驗室？"
RECORD_KEYS = {"id", "question", "answered", "passages", "answer"}
PASSAGE_KEYS = {"rank", "score", "title", "paragraph", "text", "source"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_record(record: dict) -> None:
    assert set(record) - {"error"} == RECORD_KEYS
    for rank, passage in enumerate(record["passages"], 1):
        assert set(passage) == PASSAGE_KEYS
        assert passage["rank"] == rank
        assert isinstance(passage["paragraph"], int) and passage["paragraph"] >= 1
    scores = [p["score"] for p in record["passages"]]
    assert scores == sorted(scores, reverse=True)
    answer = record["answer"]
    if answer is not None:  # the answer span's contract (tests/test_answer.py checks what it holds)
        assert record["answered"]
        text = record["passages"][answer["rank"] - 1]["text"]
        assert answer["text"] == text[answer["start"]:answer["end"]]
        assert answer["sentence"][0] <= answer["start"] < answer["end"] <= answer["sentence"][1]


# --- ask ---------------------------------------------------------------------------

def test_ask_prints_cited_passages(capsys):
    code, out, err = run(capsys, "ask", LAB_QUESTION)
    assert code == 0
    lines = out.splitlines()
    if lines[0].startswith("→ "):  # a confident answer leads
        lines = lines[1:]
    assert re.match(r"\[\d\] .+ · 第\d+[段句]$", lines[0]), lines[0]  # a Chinese question: a Chinese citation
    assert "智慧医疗实验室" in lines[0]  # the article's title
    assert lines[1].startswith("    ") and "[" in lines[1]  # the quoted passage with highlights
    citations = [line for line in lines if re.match(r"\[\d\] ", line)]
    assert [c[:3] for c in citations] == ["[1]", "[2]", "[3]", "[4]"]
    assert "新泽西" in out


def test_ask_json_record(capsys):
    code, out, _ = run(capsys, "ask", "--json", LAB_QUESTION)
    assert code == 0
    (record,) = records(out)
    assert set(record) == RECORD_KEYS
    check_record(record)
    assert record["id"] is None and record["question"] == LAB_QUESTION and record["answered"] is True
    assert len(record["passages"]) == 5  # search.k in config.yaml
    for passage in record["passages"]:
        assert passage["text"] in SEED_TEXT  # verbatim from the source
        assert passage["source"].startswith("seeds/")
    assert any("新泽西" in p["text"] for p in record["passages"][:3])


def test_ask_k_and_question_in_several_words(capsys):
    code, out, _ = run(capsys, "ask", "--json", "-k", "2", "商汤", "智慧医疗实验室")
    assert code == 0
    (record,) = records(out)
    assert record["question"] == "商汤 智慧医疗实验室"
    assert [p["rank"] for p in record["passages"]] == [1, 2]


def test_ask_traditional_question_quotes_simplified_text_verbatim(capsys):
    _, out, _ = run(capsys, "ask", "--json", LAB_QUESTION)
    texts = [p["text"] for p in records(out)[0]["passages"]]
    assert all("實驗室" not in t for t in texts)  # the source is simplified; never converted


def test_ask_follow_up_with_context(capsys):
    code, out, _ = run(capsys, "ask", "--json", "--context", "影谱科技的创始人是谁？", "他说这笔钱会用来做什么？")
    assert code == 0
    assert any("募集的资金将用于" in p["text"] for p in records(out)[0]["passages"][:3])


@pytest.mark.parametrize("question, message", [
    ("", "问题是空的"),  # Chinese questions (and none at all) get Chinese messages
    ("   ", "问题是空的"),
    ("什么？", "没有可搜索的内容"),
    ("是谁，多少，怎么了吗？", "没有可搜索的内容"),
])
def test_ask_unsearchable_question(capsys, question, message):
    code, out, err = run(capsys, "ask", question)
    assert code == 1
    assert out.startswith("无法搜索：") and message in out
    assert "Traceback" not in err


def test_ask_unsearchable_question_json(capsys):
    code, out, _ = run(capsys, "ask", "--json", "什么？")
    assert code == 1
    (record,) = records(out)
    assert record["answered"] is False and record["passages"] == []
    assert "nothing to search for" in record["error"]


def test_ask_off_topic_is_not_answered(capsys):
    code, out, _ = run(capsys, "ask", "--json", "怎么给猫剪指甲？")
    assert code == 0
    assert records(out)[0]["answered"] is False
    code, out, _ = run(capsys, "ask", "怎么给猫剪指甲？")
    assert out.startswith("这些文章")  # "这些文章似乎没有谈到 / 里没有", in the question's language


# --- batch -------------------------------------------------------------------------

BATCH = [
    {"id": "q1", "question": LAB_QUESTION},
    {"id": 2, "question": "他说这笔钱会用来做什么？", "context": ["影谱科技的创始人是谁？"]},
    {"question": "怎么给猫剪指甲？"},
]


def batch_file(tmp_path, lines: list[str]):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_jsonl(capsys, tmp_path):
    path = batch_file(tmp_path, [json.dumps(r, ensure_ascii=False) for r in BATCH])
    code, out, err = run(capsys, "batch", str(path))
    assert code == 0
    got = records(out)
    assert [r["id"] for r in got] == ["q1", 2, 3]  # no id: the line number
    assert [r["question"] for r in got] == [r["question"] for r in BATCH]
    for record in got:
        check_record(record)
        assert "error" not in record
    assert got[0]["answered"] is True and got[2]["answered"] is False
    assert any("募集的资金将用于" in p["text"] for p in got[1]["passages"][:3])
    assert f"3 questions, {sum(r['answered'] for r in got)} answered, 0 with errors" in err


def test_batch_bad_lines_get_an_error_and_the_run_goes_on(capsys, tmp_path):
    path = batch_file(tmp_path, [
        json.dumps(BATCH[0], ensure_ascii=False),
        '{"id": "broken", "question": ',
        json.dumps({"id": "nq", "question": 5}),
        json.dumps({"id": "ctx", "question": "商汤", "context": "not a list"}),
        json.dumps({"id": "stop", "question": "什么？"}),
        json.dumps({"id": "last", "question": "影谱科技D轮融资"}, ensure_ascii=False),
    ])
    code, out, err = run(capsys, "batch", str(path))
    assert code == 0
    got = records(out)
    assert [r["id"] for r in got] == ["q1", 2, "nq", "ctx", "stop", "last"]
    assert "error" not in got[0] and "error" not in got[-1]
    assert got[-1]["passages"]
    assert f"{path}:2: not JSON" in got[1]["error"]
    assert all("error" in r and r["answered"] is False and r["passages"] == [] for r in got[1:5])
    assert "nothing to search for" in got[4]["error"]
    assert f"Warning: {path}:2: not JSON" in err
    assert "6 questions, 2 answered, 4 with errors" in err


def test_batch_text_file_one_question_a_line(capsys, tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(f"{LAB_QUESTION}\n\n影谱科技D轮融资由谁领投？\n", encoding="utf-8")
    code, out, _ = run(capsys, "batch", str(path))
    assert code == 0
    got = records(out)
    assert [(r["id"], r["question"]) for r in got] == [(1, LAB_QUESTION), (3, "影谱科技D轮融资由谁领投？")]
    assert all(r["answered"] for r in got)


def test_batch_output_file(capsys, tmp_path):
    path = batch_file(tmp_path, [json.dumps(r, ensure_ascii=False) for r in BATCH])
    target = tmp_path / "answers.jsonl"
    code, out, err = run(capsys, "batch", str(path), "-o", str(target), "-k", "2")
    assert code == 0 and out == ""
    got = records(target.read_text(encoding="utf-8"))
    assert [r["id"] for r in got] == ["q1", 2, 3]
    assert all(len(r["passages"]) <= 2 for r in got)
    assert "3 questions" in err


@pytest.mark.parametrize("jsonl", [True, False], ids=["jsonl", "text"])
def test_batch_from_stdin(capsys, monkeypatch, jsonl):
    data = ("\n".join(json.dumps(r, ensure_ascii=False) for r in BATCH) if jsonl
            else "\n".join(r["question"] for r in BATCH)) + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(data))
    code, out, err = run(capsys, "batch", "-")
    assert code == 0
    got = records(out)
    assert [r["question"] for r in got] == [r["question"] for r in BATCH]
    assert "3 questions" in err


def test_batch_unwritable_output_is_an_error(capsys, tmp_path):
    path = batch_file(tmp_path, [json.dumps(BATCH[0], ensure_ascii=False)])
    code, out, err = run(capsys, "batch", str(path), "-o", str(tmp_path / "no" / "such" / "out.jsonl"))
    assert code == 1 and err.startswith("Error: ")


def test_batch_from_stdin_decides_jsonl_by_the_first_non_blank_character(capsys, monkeypatch):
    stdin = io.StringIO("\n   \n" + json.dumps(BATCH[0], ensure_ascii=False) + "\n")
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = run(capsys, "batch", "-")
    assert code == 0
    (record,) = records(out)
    assert record["id"] == "q1" and record["question"] == LAB_QUESTION
    import sys
    assert sys.stdin is stdin  # read, not replaced


def test_batch_from_empty_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(capsys, "batch", "-")
    assert code == 0 and out == ""
    assert "0 questions" in err


def test_batch_unwritable_output_names_the_file(capsys, tmp_path):
    path = batch_file(tmp_path, [json.dumps(BATCH[0], ensure_ascii=False)])
    target = tmp_path / "no" / "such" / "out.jsonl"
    code, out, err = run(capsys, "batch", str(path), "-o", str(target))
    assert code == 1 and out == ""
    assert err.startswith(f"Error: cannot write {target}: No such file or directory")
    assert err.count("\n") == 1  # one line, no traceback


def test_batch_missing_questions_file(capsys, tmp_path):
    code, out, err = run(capsys, "batch", str(tmp_path / "nope.jsonl"))
    assert code == 1 and out == ""
    assert err.startswith("Error: cannot read questions file")


# --- eval --------------------------------------------------------------------------

GOLD = [
    {"id": "t1", "kind": "entity", "question": "大熊猫繁育研究基地成立于哪一年？", "gold": ["1987年"]},
    {"id": "t2", "kind": "entity", "question": "谷歌宣布实现了什么？", "gold": ["量子优越性"]},
    {"id": "t3", "kind": "paraphrase", "question": "咖啡最早起源于哪里？", "gold": [
        {"answer": "埃塞俄比亚", "context": TINY_ARTICLES[2]["text"]}]},
    {"id": "t4", "kind": "no-answer", "question": "怎么给猫剪指甲？", "gold": []},
]


@pytest.fixture
def gold_set(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    write_jsonl(folder / "tiny.corpus.jsonl", TINY_ARTICLES)
    return write_jsonl(folder / "tiny.gold.jsonl", GOLD)


def test_eval_uses_the_sibling_corpus_and_prints_a_table(capsys, gold_set):
    code, out, _ = run(capsys, "eval", str(gold_set))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["kind", "questions", "hit@1", "hit@3", "hit@5", "mrr@10", "abstained",
                                "wrongly_abstained", "top3_len", "em", "f1", "sentence", "conf_right",
                                "conf_cover", "conf_off"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert lines[1].startswith("all ")
    assert rows["all"][1:7] == ["4", "1.0", "1.0", "1.0", "1.0", "1/1"]
    assert set(rows) == {"all", "entity", "paraphrase", "no-answer"}
    assert rows["no-answer"][2] == "-"  # no answerable question of that kind


def test_eval_json(capsys, gold_set):
    code, out, _ = run(capsys, "eval", "--json", str(gold_set))
    assert code == 0
    scores = json.loads(out)
    assert list(scores)[0] == "all"
    assert scores["all"]["questions"] == 4 and scores["all"]["hit@1"] == 1.0 and scores["all"]["mrr@10"] == 1.0
    assert scores["all"]["abstained"] == "1/1" and scores["all"]["wrongly_abstained"] == "0/3"
    assert scores["entity"]["questions"] == 2
    assert scores["all"]["top3_len"] > 0


def test_eval_corpus_option_wins_over_the_sibling(capsys, gold_set):
    code, out, _ = run(capsys, "--corpus", str(SEEDS), "eval", "--json", str(gold_set))
    assert code == 0
    assert json.loads(out)["all"]["hit@5"] == 0.0  # the seeds say nothing about pandas or coffee


def test_eval_no_answer_counts_every_question_as_off_topic(capsys, gold_set):
    code, out, _ = run(capsys, "eval", "--json", "--no-answer", str(gold_set))
    assert code == 0
    row = json.loads(out)["all"]
    assert row["hit@1"] is None and row["abstained"].endswith("/4")


def test_eval_bad_gold_line_is_a_warning(capsys, gold_set):
    with open(gold_set, "a", encoding="utf-8") as f:
        f.write("not json\n")
    code, out, err = run(capsys, "eval", "--json", str(gold_set))
    assert code == 0
    assert json.loads(out)["all"]["questions"] == 4
    assert f"Warning: {gold_set}:5:" in err


def test_eval_gold_file_not_utf8(capsys, tmp_path):
    path = tmp_path / "g.gold.jsonl"
    path.write_bytes('{"question": "商汤", "gold": []}\n'.encode("gbk"))
    code, out, err = run(capsys, "eval", str(path))
    assert code == 1 and err.startswith("Error: ")


def test_eval_gold_file_not_utf8_names_the_file_and_the_fix(capsys, tmp_path):
    path = tmp_path / "g.gold.jsonl"
    path.write_bytes('{"question": "商汤", "gold": []}\n'.encode("gbk"))
    code, out, err = run(capsys, "eval", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"Error: gold file {path} is not UTF-8 (line 1); convert it (iconv ")
    assert err.count("\n") == 1


def test_eval_gold_file_that_cannot_be_opened(capsys, tmp_path):
    folder = tmp_path / "dir.gold.jsonl"
    folder.mkdir()
    code, out, err = run(capsys, "eval", str(folder))
    assert code == 1 and out == ""
    assert err.startswith(f"Error: cannot open gold file {folder}: ")
    assert err.count("\n") == 1


def test_eval_missing_gold_file(capsys, tmp_path):
    code, out, err = run(capsys, "eval", str(tmp_path / "nope.gold.jsonl"))
    assert code == 1 and out == ""
    assert err.startswith("Error: cannot open gold file") and "No such file" in err


# --- index ---------------------------------------------------------------------------

def test_index_builds_then_is_up_to_date(capsys, tiny_corpus, index_dir):
    # the passage count follows the configured splitting (sliding windows when passages.overlap)
    settings = load_settings().retrieval()
    passages = len(split_articles(load_corpus([tiny_corpus]).articles, settings.passage_target,
                                  settings.passage_max, settings.passage_overlap))
    code, out, err = run(capsys, "index", "--corpus", str(tiny_corpus))
    assert code == 0
    match = re.match(r"index built: 3 articles, (\d+) passages, (\d+) terms, [\d.]+ MB in (.+), [\d.]+ s$",
                     out.strip())
    assert match, out
    assert int(match[1]) == passages and int(match[2]) > 20
    assert match[3].startswith(str(index_dir))
    assert "indexing 3 articles" in err
    code, out, _ = run(capsys, "index", "--corpus", str(tiny_corpus))
    assert code == 0 and out.startswith(f"index up to date: 3 articles, {passages} passages")
    code, out, _ = run(capsys, "index", "--corpus", str(tiny_corpus), "--rebuild")
    assert code == 0 and out.startswith("index built: ")


def test_corpus_is_repeatable(capsys, tiny_corpus, tiny_tsv):
    code, out, _ = run(capsys, "index", "--corpus", str(tiny_corpus), "--corpus", str(tiny_tsv))
    assert code == 0 and ": 5 articles," in out
    code, out, _ = run(capsys, "--corpus", str(tiny_corpus), "--corpus", str(tiny_tsv), "index")
    assert code == 0 and "index up to date: 5 articles," in out


def test_load_problems_are_warnings(capsys, tiny_corpus):
    (tiny_corpus / "bad.jsonl").write_text('{"title": "x", "text": "好的正文。"}\nnot json\n', encoding="utf-8")
    code, _, err = run(capsys, "index", "--corpus", str(tiny_corpus))
    assert code == 0
    assert f"Warning: {tiny_corpus / 'bad.jsonl'}:2: not JSON" in err


# --- global options and errors ---------------------------------------------------------

@pytest.fixture
def small_k_config(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("search:\n  k: 2\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_before_or_after_the_subcommand(capsys, small_k_config, where):
    args = ["ask", "--json", LAB_QUESTION]
    argv = ["--config", str(small_k_config), *args] if where == "before" else [*args, "--config", str(small_k_config)]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert len(records(out)[0]["passages"]) == 2


def test_corpus_before_and_after_the_subcommand_are_combined(capsys, tiny_corpus, tiny_tsv):
    code, out, _ = run(capsys, "--corpus", str(tiny_corpus), "index", "--corpus", str(tiny_tsv))
    assert code == 0 and ": 5 articles," in out


def test_config_after_the_subcommand_wins_over_the_one_before(capsys, small_k_config, tmp_path):
    other = tmp_path / "big.yaml"
    other.write_text("search:\n  k: 4\n", encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(other), "ask", "--json", LAB_QUESTION, "--config", str(small_k_config))
    assert code == 0
    assert len(records(out)[0]["passages"]) == 2


def test_corpus_only_after_the_subcommand(capsys, tiny_corpus):
    code, out, _ = run(capsys, "ask", "--json", "大熊猫基地成立于哪一年？", "--corpus", str(tiny_corpus))
    assert code == 0
    assert "1987" in records(out)[0]["passages"][0]["text"]


def test_same_file_names_in_two_corpus_folders_are_all_indexed(capsys, tmp_path):
    one, two = tmp_path / "one" / "data", tmp_path / "two" / "data"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    write_jsonl(one / "a.jsonl", [{"title": "熊猫", "text": "大熊猫生活在四川的竹林里。"}])
    write_jsonl(two / "a.jsonl", [{"title": "咖啡", "text": "咖啡最早起源于埃塞俄比亚高原。"}])
    code, out, _ = run(capsys, "--corpus", str(one), "index", "--corpus", str(two))
    assert code == 0 and ": 2 articles, 2 passages," in out
    code, out, _ = run(capsys, "--corpus", str(one), "--corpus", str(two), "ask", "--json", "咖啡起源于哪里？")
    assert code == 0
    top = records(out)[0]["passages"][0]
    assert (top["title"], top["source"]) == ("咖啡", "data/a.jsonl:1")
    assert "埃塞俄比亚" in top["text"]


def test_corpus_before_the_subcommand(capsys, tiny_corpus):
    code, out, _ = run(capsys, "--corpus", str(tiny_corpus), "ask", "--json", "大熊猫基地成立于哪一年？")
    assert code == 0
    assert "1987" in records(out)[0]["passages"][0]["text"]


def test_config_unknown_key(capsys, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("serach:\n  k: 3\n", encoding="utf-8")
    code, out, err = run(capsys, "--config", str(path), "ask", "商汤")
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and "'serach'" in err and "valid keys:" in err and "search" in err
    assert err.count("\n") == 1  # one line, no traceback


def test_config_wrong_type(capsys, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("bm25:\n  k1: high\n", encoding="utf-8")
    code, out, err = run(capsys, "index", "--config", str(path))
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and "bm25.k1 should be a number from 0 to 100, not 'high'" in err


def test_config_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "--config", str(tmp_path / "none.yaml"), "index")
    assert code == 1 and out == ""
    assert err.startswith("Error: config file not found") and "none.yaml" in err


def test_missing_corpus_path(capsys, tmp_path):
    code, out, err = run(capsys, "ask", "--corpus", str(tmp_path / "gone"), "商汤")
    assert code == 1 and out == ""
    assert err.startswith("Error: corpus path not found") and "gone" in err


def test_nothing_loadable(capsys, tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    code, out, err = run(capsys, "index", "--corpus", str(tmp_path))
    assert code == 1 and out == ""
    assert err.startswith("Error: no articles could be loaded")


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: qabot" in capsys.readouterr().err


def test_a_long_batch_uses_worker_processes_and_keeps_input_order(capsys, tmp_path, monkeypatch):
    from bot import batch

    questions = ["商汤在哪里成立了智慧医疗实验室？", "影谱科技融资多少钱", "{bad json", "访问学者提前多久申请"] * 15
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(q if q.startswith("{") else json.dumps({"question": q}, ensure_ascii=False)
                              for q in questions) + "\n", encoding="utf-8")
    code, one_process, _ = run(capsys, "batch", str(path), "--corpus", str(SEEDS))
    monkeypatch.setattr(batch, "PARALLEL_FROM", 0)
    pools = []

    class Recorded(batch.ProcessPoolExecutor):
        def __init__(self, workers, **kwargs):
            pools.append(workers)
            super().__init__(workers, **kwargs)

    monkeypatch.setattr(batch, "ProcessPoolExecutor", Recorded)
    code2, two_processes, err = run(capsys, "batch", str(path), "--corpus", str(SEEDS), "--workers", "2")
    assert code == code2 == 0 and pools == [2]
    got = records(two_processes)
    assert [r["id"] for r in got] == list(range(1, 61))
    assert got == records(one_process)
    assert "60 questions, 45 answered, 15 with errors" in err


def test_a_question_in_a_script_the_articles_do_not_know_says_so(capsys):
    code, out, err = run(capsys, "ask", "고양이 발톱은 어떻게 자르나요?")
    assert code == 1 and "its words are unknown to the articles" in out
    assert "only question words" not in out


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"qabot {version('qabot')}"
