"""``qabot repl``: driven through a pseudo-terminal as a person would, and piped as a script would.

The index is built once per module into a temporary folder; HOME and the history
file live in temporary folders too, so nothing outside the test is read or written.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from bot.answering import Answer
from bot.config import ConfigError, load_settings
from bot.terminal.repl import Quit, ReplSettings, Session, history_path, repl_settings
from bot.terminal.format import PLAIN, Format, text_width, wrap_offsets
from retrieval.articles import load_corpus
from retrieval.passages import split_articles

ROOT = Path(__file__).resolve().parent.parent
QABOT = ROOT / ".venv" / "bin" / "qabot"
COMMAND = [str(QABOT)] if QABOT.exists() else [sys.executable, "-m", "bot"]
Q1 = "商汤在哪里成立了智慧医疗实验室？"
Q2 = "谁担任这个实验室的首席科学家？"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLUMNS = 60


def highlighted(shown: str) -> list[str]:
    """The words shown in the match colour; a match wrapped over two lines counts as one."""
    joined = re.sub(r"\x1b\[0m\r?\n +(?:\x1b\[4m)?\x1b\[1;31m", "", shown)  # inside an underlined sentence too
    return re.findall(r"\x1b\[1;31m(.*?)\x1b\[0m", joined)


def flat(shown: str) -> str:
    """What is shown, without colour codes, wrapped lines joined up again (the space at a break is lost)."""
    return re.sub(r"\r?\n {4,}", "", ANSI.sub("", shown))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("home")
    out = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "XDG_STATE_HOME", "COLUMNS", "LINES")}
    out.update(HOME=str(home), QABOT_INDEX_DIR=str(tmp_path_factory.mktemp("index")),
               QABOT_HISTORY=str(home / "history"), TERM="xterm", LANG="C.UTF-8",
               PROMPT_TOOLKIT_NO_CPR="1")  # pexpect doesn't answer cursor-position requests
    subprocess.run(COMMAND + ["index"], env=out, check=True, capture_output=True, cwd=ROOT)
    return out


def library_hits(env: dict, question: str, k: int):
    """What the retrieval library itself ranks for ``question``, with the REPL's settings and index."""
    from bot.config import load_settings
    from retrieval.store import open_searcher

    settings = load_settings()
    opened = open_searcher(list(settings.corpus), settings.retrieval(), Path(env["QABOT_INDEX_DIR"]))
    return opened.searcher.search(question, k).hits


class Repl:
    """One ``qabot repl`` in a pseudo-terminal."""

    def __init__(self, env: dict, extra: dict | None = None):
        self.child = pexpect.spawn(COMMAND[0], COMMAND[1:] + ["repl"], env={**env, **(extra or {})}, cwd=str(ROOT),
                                   encoding="utf-8", dimensions=(40, COLUMNS), timeout=15)
        self.child.expect_exact("qabot>")
        self.banner = self.child.before

    def say(self, line: str, until: str) -> str:
        """Send ``line`` and Enter; what the REPL printed up to ``until`` and the next prompt."""
        self.child.send(line + "\r")
        self.child.expect_exact(until)
        shown = self.child.before + until
        self.child.expect_exact("qabot>")
        return shown + self.child.before

    def quit(self) -> int:
        self.child.sendcontrol("d")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus


def visible_lines(shown: str) -> list[str]:
    return [ANSI.sub("", line) for line in shown.replace("\r", "").split("\n")]


def seed_passages() -> int:
    """How many passages the project's config makes of the seeds (sliding windows when passages.overlap)."""
    settings = load_settings()
    retrieval = settings.retrieval()
    articles = load_corpus(settings.corpus).articles
    return len(split_articles(articles, retrieval.passage_target, retrieval.passage_max, retrieval.passage_overlap))


def test_banner_says_what_was_loaded_and_how_to_get_help(env):
    repl = Repl(env)  # the locale (C.UTF-8) names no language: Chinese first
    assert f"qabot：已载入 5 篇文章、{seed_passages()} 个段落。请提问；:help 查看命令，Ctrl-D 退出。" in repl.banner
    shown = repl.say(":help", ":quit")
    assert "用中文或英文提问" in shown and "（现在 5 条）" in shown
    assert ":open N" in shown and ":more" in shown and ":reset" in shown and ":source N" in shown  # commands stay
    assert repl.quit() == 0


def test_answer_is_cited_highlighted_and_wrapped_to_the_terminal(env):
    repl = Repl(env)
    shown = repl.say(Q1, "[5]")
    text = flat(shown)
    assert "[1] 商汤科技成立北美智慧医疗实验室 · 第" in text and "seeds/" not in text  # title's first clause, place
    assert {"成立智慧医疗实验室", "商汤"} <= set(highlighted(shown)) and "美国新泽西" in text
    assert "\x1b[1m[1]\x1b[0m \x1b[36m商汤科技" in shown  # the rank, then the citation in its colour
    answer_lines = visible_lines(shown[shown.rindex("\n", 0, shown.index("[1]")) + 1:])  # not the prompt's redraws
    assert len(answer_lines) > 12
    assert all(text_width(line) <= COLUMNS for line in answer_lines)
    cited = [line for line in answer_lines if re.match(r"\[\d\] ", line)]
    assert len(cited) == 5 and all(len(line) - 4 <= 40 for line in cited)  # a citation fits one phone line
    # the quote wraps, its lines lined up under the first
    quote = answer_lines[answer_lines.index(cited[0]) + 1: answer_lines.index(cited[1])]
    assert len(quote) > 3 and all(line.startswith("    ") for line in quote)
    assert repl.quit() == 0


def test_more_shows_the_next_results_and_open_the_paragraph_or_article(env):
    repl = Repl(env)
    repl.say(Q1, "[5]")
    more = repl.say(":more", "[10]")
    assert "[6]" in more and "[1]" not in ANSI.sub("", more)
    seven, ten = library_hits(env, Q1, 10)[6:10:3]
    opened = repl.say(":open 7", "拓展与应用。")  # the paragraph is the whole article here
    assert f"[7] {seven.passage.title} · 第" in flat(opened) and seven.source in flat(opened)  # the full citation
    assert "作为实验室医疗影像分析首席科学家" in flat(opened)  # the whole paragraph is shown
    assert re.sub(r"\s", "", seven.passage.text) in re.sub(r"\s", "", flat(opened))  # a wrap loses its space
    marked = highlighted(opened)  # result 7's own matches are marked in the paragraph
    assert marked and all(word in seven.passage.text for word in marked)
    article = flat(repl.say(":open 10 all", "拓展与应用。"))  # the whole article, from its first sentence
    assert f"[10] {ten.passage.title} · 第" in article and ten.source in article
    assert "近日，全球领先的人工智能平台公司商汤科技SenseTime" in article and "作为实验室医疗影像分析首席科学家" in article
    assert "没有第 11 条结果：现在显示的是第 1 到 10 条。" in repl.say(":open 11", "条。")
    assert "用法：:open N" in repl.say(":open", "整篇文章。")
    source = flat(repl.say(":source 7", seven.source))
    assert f"[7] {seven.passage.title} · 第" in source and seven.source in source
    assert repl.quit() == 0


def test_follow_up_uses_the_conversation_and_reset_forgets_it(env):
    repl = Repl(env)
    repl.say(Q1, "[5]")
    follow = repl.say(Q2, "[5]")
    best = follow[follow.index("[1]"): follow.index("[2]")]
    assert "首席科学家" in highlighted(best) and "Dimitri Metaxas" in flat(best)
    assert "重新开始" in repl.say(":reset", "开始。")
    assert "还没有可以打开的结果" in repl.say(":open 1", "提问。")
    assert repl.quit() == 0


def test_ctrl_c_cancels_the_half_typed_line_and_the_repl_goes_on(env, tmp_path):
    history = tmp_path / "history"
    repl = Repl(env, {"QABOT_HISTORY": str(history)})
    repl.child.send("半个问")
    repl.child.sendcontrol("c")
    repl.child.expect_exact("qabot>")
    assert "每次回答显示 2 条结果。" in repl.say(":k 2", "结果。")
    shown = repl.say(Q1, "[2]")
    assert "[3]" not in ANSI.sub("", shown)
    assert repl.quit() == 0
    assert "半个问" not in history.read_text(encoding="utf-8")


def test_history_persists_across_sessions_with_arrows_and_ctrl_r(env, tmp_path):
    history = tmp_path / "state" / "history"  # the folder is made on first use
    repl = Repl(env, {"QABOT_HISTORY": str(history)})
    repl.say(Q1, "[5]")
    repl.say(":k 3", "结果。")
    assert repl.quit() == 0
    assert f"+{Q1}" in history.read_text(encoding="utf-8")
    repl = Repl(env, {"QABOT_HISTORY": str(history)})
    repl.child.send("\x1b[A\x1b[A")  # Up twice: back past `:k 3` to the question
    assert "商汤科技成立北美智慧医疗实验室 · 第" in flat(repl.say("", "[5]"))
    repl.child.sendcontrol("r")
    repl.child.send("k 3")
    repl.child.expect_exact("k 3")
    repl.child.send("\r")  # ends the search with the line found; the next Enter runs it
    assert "每次回答显示 3 条结果" in repl.say("", "结果。")
    assert repl.quit() == 0


def test_pasted_chinese_over_two_lines_is_one_question(env):
    repl = Repl(env)
    shown = repl.say("\x1b[200~商汤在哪里成立了\n智慧医疗实验室？\x1b[201~", "[5]")
    assert "[1] 商汤科技成立北美智慧医疗实验室 · 第1句" in flat(shown) and "美国新泽西" in flat(shown) and "成立智慧医疗实验室" in highlighted(shown)
    assert repl.quit() == 0


def test_unknown_command_gets_a_helpful_message_and_quit_exits(env):
    repl = Repl(env)
    assert "没有 :mroe 这个命令。你是想用 :more 吗？" in repl.say(":mroe", "quit")
    repl.child.send(":quit\r")
    repl.child.expect(pexpect.EOF)
    repl.child.close()
    assert repl.child.exitstatus == 0


def test_no_color_on_a_terminal_means_plain_text_without_control_codes(env):
    child = pexpect.spawn(COMMAND[0], COMMAND[1:] + ["repl"], env={**env, "NO_COLOR": "1"}, cwd=str(ROOT),
                          encoding="utf-8", dimensions=(40, COLUMNS), timeout=15)
    child.expect_exact("qabot> ")
    child.send(Q1 + "\r")
    child.expect_exact("qabot> ")
    shown = child.before
    child.sendeof()
    child.expect(pexpect.EOF)
    assert "\x1b" not in shown and "[成立智慧医疗实验室]" in shown
    assert all(text_width(line) <= COLUMNS for line in shown.replace("\r", "").split("\n"))


PIPED_IN = f""":k 2
{Q1}
{Q2}
:more

:mroe
什么
:reset
What is the weather on Mars?
:open 1
:quit
never asked
"""
CITE5 = "[{}] 商汤科技成立北美智慧医疗实验室 · 第{}句"  # the headline's first clause, the sentence the passage starts at
PIPED_OUT = f"""> :k 2
每次回答显示 2 条结果。

> {Q1}
{CITE5.format(1, 1)}
    近日，全球领先的人工智能平台公司[商汤]科技SenseTime宣布在美国新泽西[成立智慧医疗实验室]，人工智能[医疗]领域的国际顶尖专家Dimitri Metaxas教授加盟，并担任[实验室]医学影像分析首席科学家。此前，基于在计算机视觉与深度学习领域的领先技术，[商汤]科技已经将图像识别应用于多种肿瘤的计算机辅助诊断。
{CITE5.format(2, 4)}
    这是[商汤]科技在海外[成立]的首个[医疗]研究[实验室]，在专注[医疗]领域人工智能技术前沿探索的同时，…

> {Q2}
{CITE5.format(1, 1)}
    近日，全球领先的人工智能平台公司[商汤]科技SenseTime宣布在美国新泽西[成立智慧医疗实验室]，人工智能[医疗]领域的国际顶尖专家Dimitri Metaxas教授加盟，并[担任实验室]医学影像分析[首席科学家]。此前，基于在计算机视觉与深度学习领域的领先技术，[商汤]科技已经将图像识别应用于多种肿瘤的计算机辅助诊断。
{CITE5.format(2, 6)}
    作为[实验室医疗]影像分析[首席科学家]，Dimitri Metaxas教授表示：“[商汤]科技是全球最有价值的人工智能新锐企业，…

> :more
{CITE5.format(3, 8)}
    Dimitri Metaxas教授现[担任]美国罗格斯大学（Rutgers）计算机系计算生物医学成像和建模研究中心主任，在计算机视觉、…
{CITE5.format(4, 9)}
    同时，他拥有国际电气与电子工程师协会（IEEE）、国际医学图像计算与计算机辅助治疗学会（MICCAI）、…

> :mroe
没有 :mroe 这个命令。你是想用 :more 吗？命令有：:help :more :open N :source N :k N :reset :reload :add :quit

> 什么
无法搜索：'什么' 里没有可搜索的内容：只有疑问词、停用词或标点；请用你想找的词提问

> :reset
已忘掉这次对话：下一个问题重新开始。

> What is the weather on Mars?
The articles don't say anything about this.

> :open 1
No results to open yet: ask a question first.

"""


def without_answer_marks(out: str) -> str:
    """``out`` without the answer lines and the answer's marks, which follow the extractor's
    learned weights (test_the_answer_leads_and_has_its_own_colour_in_the_quote checks them)."""
    return re.sub(r"[【】〔〕]", "", "".join(line for line in out.splitlines(True) if not line.startswith("→ ")))


def test_piped_output_is_exact_plain_blocks(env):
    run = subprocess.run(COMMAND + ["repl"], input=PIPED_IN, env=env, cwd=ROOT, capture_output=True,
                         text=True, encoding="utf-8", timeout=60)
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout
    assert without_answer_marks(run.stdout) == PIPED_OUT
    assert run.stderr.strip() == f"qabot：已载入 5 篇文章、{seed_passages()} 个段落。请提问；:help 查看命令，Ctrl-D 退出。"


def test_not_covered_is_said_with_the_closest_passages(env):
    run = subprocess.run(COMMAND + ["repl", "--plain"], input="Dimitri 天气预报\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    lines = run.stdout.splitlines()
    assert lines[:2] == ["> Dimitri 天气预报", "这些文章似乎没有谈到这个问题。最接近的段落："]
    # lightly: two closest passages, one line each, nothing marked
    assert [line[:4] for line in lines[2:]] == ["[1] ", "    ", "[2] ", "    ", ""]
    assert "[Dimitri]" not in run.stdout and "Dimitri" in run.stdout


def test_config_section_is_checked_and_used(env, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"corpus: [{ROOT / 'seeds'}]\nrepl:\n  k: 1\n", encoding="utf-8")
    run = subprocess.run(COMMAND + ["--config", str(config), "repl"], input=Q1 + "\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert run.returncode == 0 and "[1] " in run.stdout and "[2] " not in run.stdout
    config.write_text(f"corpus: [{ROOT / 'seeds'}]\nrepl:\n  colour: true\n", encoding="utf-8")
    run = subprocess.run(COMMAND + ["--config", str(config), "repl"], input="", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert run.returncode == 1
    assert "Error: repl: unknown key 'colour'; valid keys: history, k, width" in run.stderr


@pytest.mark.parametrize("raw, message", [
    ({"k": 0}, "repl.k should be a whole number"), ({"width": "wide"}, "repl.width should be"),
    ({"width": 10}, "at least 20 columns"), ({"history": 3}, "repl.history should be a file path"),
    ("yes", "repl should be a mapping"),
])
def test_bad_repl_settings_name_the_problem(raw, message):
    with pytest.raises(ConfigError, match=message):
        repl_settings(raw)


def test_history_path_prefers_the_environment_then_config(monkeypatch, tmp_path):
    monkeypatch.delenv("QABOT_HISTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path(ReplSettings()) == tmp_path / "qabot" / "history"
    assert history_path(repl_settings({"history": "/x/h"})) == Path("/x/h")
    monkeypatch.setenv("QABOT_HISTORY", str(tmp_path / "h"))
    assert history_path(repl_settings({"history": "/x/h"})) == tmp_path / "h"


class FakeAnswerer:
    """Records what the session asks; answers with no passages."""
    k = 5

    def __init__(self):
        self.calls = []

    def ask(self, question, context=(), k=None):
        self.calls.append((question, tuple(context), k))
        return Answer(question, None, "only a fake") if question == "bad" else Answer(question, None)


def test_session_passes_earlier_questions_oldest_first_until_reset():
    answerer = FakeAnswerer()
    session = Session(answerer, 3, Format(PLAIN))
    for line in ["一", "bad", "二", ":reset", "三", "：more"]:
        session.handle(line)
    assert [c[:2] for c in answerer.calls] == [("一", ()), ("bad", ("一",)), ("二", ("一",)), ("三", ()), ("三", ())]
    assert answerer.calls[-1][2] == 3  # :more asks again for the shown results plus k more
    assert session.handle("  \n ") == ""
    with pytest.raises(Quit):
        session.handle(":q")


def test_wrapping_counts_wide_characters_twice_and_keeps_words_whole():
    text = "商汤科技SenseTime宣布在美国新泽西成立智慧医疗实验室，Dimitri Metaxas教授加盟。"
    lines = [text[s:e] for s, e in wrap_offsets(text, 20)]
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost but the space at a break
    assert all(text_width(line) <= 20 for line in lines)
    assert "SenseTime" in "".join(lines) and any(line.startswith("Dimitri") for line in lines)
    assert not any(line.startswith(("，", "。")) for line in lines)  # punctuation never starts a line


def test_control_characters_in_articles_never_reach_the_terminal():
    from bot.layout import MATCH, Segment
    from bot.terminal.format import COLOUR, block, fit_columns

    lines = block("[1] ", "危险\x1b[2J文本\twith tab", Format(COLOUR, lambda: 40), marks=[Segment(0, 2, (MATCH,))])
    assert lines == ["[1] \x1b[1;31m危险\x1b[0m [2J文本 with tab"]
    assert fit_columns("a\x1b\r\nb", 10) == ("a   b", [])


def test_warm_up_asks_the_answerer_in_the_background():
    import threading

    from bot.terminal.repl import warm_up

    done = threading.Event()

    class Warm:
        def warm_up(self):
            done.set()

    warm_up(Warm())
    assert done.wait(5)


def test_warm_up_failure_is_left_to_the_first_question():
    import threading

    from bot.terminal.repl import warm_up

    class Broken:
        def warm_up(self):
            raise RuntimeError("no jieba")

    before = threading.excepthook
    seen = []
    threading.excepthook = lambda args: seen.append(args)
    try:
        warm_up(Broken())
        for thread in threading.enumerate():
            if thread.name == "qabot-warm-up":
                thread.join(5)
    finally:
        threading.excepthook = before
    assert seen == []


def test_reload_picks_up_changed_articles_without_restarting(env, tmp_path):
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text(json.dumps({"title": "茶", "text": "龙井茶产于杭州西湖。"}, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    child = pexpect.spawn(COMMAND[0], COMMAND[1:] + ["repl", "--corpus", str(corpus)], env={**env, "NO_COLOR": "1"},
                          cwd=str(ROOT), encoding="utf-8", dimensions=(40, COLUMNS), timeout=20)
    child.expect_exact("qabot> ")
    child.send("普洱茶产于哪里？\r")
    child.expect_exact("qabot> ")
    assert "云南" not in child.before
    with open(corpus, "a", encoding="utf-8") as f:
        f.write(json.dumps({"title": "普洱", "text": "普洱茶产于云南。"}, ensure_ascii=False) + "\n")
    child.send(":reload\r")
    child.expect_exact("qabot> ")
    assert "已重新载入：2 篇文章" in child.before and "原来是 1 篇" in child.before
    child.send("普洱茶产于哪里？\r")
    child.expect_exact("qabot> ")
    assert "云南" in child.before
    child.sendeof()
    child.expect(pexpect.EOF)


def test_the_repl_speaks_the_questions_language_unless_told(env, tmp_path):
    repl = Repl(env, {"LANG": "zh_TW.UTF-8"})  # the locale decides first
    assert "qabot：已載入 5 篇文章" in repl.banner
    assert "這些文章似乎沒有談到這個問題" in repl.say("Dimitri 天气预报", "[2]")  # even for a Simplified question
    assert repl.quit() == 0
    repl = Repl(env)  # no language in the locale: each question's script
    assert "這些文章似乎沒有談到這個問題" in repl.say("Dimitri 天氣預報", "[2]")
    assert "The articles don't seem to cover this" in repl.say("Dimitri weather forecast", "[2]")
    assert "the whole paragraph of result N" in repl.say(":help", ":quit")  # commands follow the last question
    assert repl.quit() == 0
    config = tmp_path / "config.yaml"
    config.write_text(f"corpus: [{ROOT / 'seeds'}]\nui:\n  language: en\n", encoding="utf-8")
    run = subprocess.run(COMMAND + ["--config", str(config), "repl"], input=Q1 + "\n:help\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert "[1] 商汤科技成立北美智慧医疗实验室 · sentence 1" in run.stdout and "Ask a question in Chinese" in run.stdout
    assert run.stderr.startswith("qabot: 5 articles")
    config.write_text(f"corpus: [{ROOT / 'seeds'}]\nui:\n  language: klingon\n", encoding="utf-8")
    run = subprocess.run(COMMAND + ["--config", str(config), "repl"], input="", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert run.returncode == 1 and "ui.language should be one of auto, zh_Hans, zh_Hant, en, not 'klingon'" in run.stderr


def test_source_shows_the_file_and_line_and_the_full_title(env):
    run = subprocess.run(COMMAND + ["repl"], input=f"{Q1}\n:source 1\n:source 9\n:source\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    blocks = run.stdout.split("\n\n")
    assert blocks[1] == ("> :source 1\n[1] 商汤科技成立北美智慧医疗实验室 全球一流科研资源打造AI医疗“旗舰” · 第1句 · "
                         "seeds/000_cbff8611f208c939.txt:5")
    assert blocks[2] == "> :source 9\n没有第 9 条结果：现在显示的是第 1 到 5 条。"
    assert blocks[3].startswith("> :source\n用法：:source N")


def library_answer(env: dict, question: str):
    """The answer span the library itself finds for ``question`` (None: none offered)."""
    from retrieval.store import open_searcher

    settings = load_settings()
    opened = open_searcher(list(settings.corpus), settings.retrieval(), Path(env["QABOT_INDEX_DIR"]))
    result = opened.searcher.search(question, 5)
    return result.answer if result.answered else None


@pytest.mark.parametrize("question", [Q1, "影谱科技这轮融资拿了多少钱？", "影谱科技的创始人是谁？"])
def test_the_answer_leads_and_has_its_own_colour_in_the_quote(env, question):
    span = library_answer(env, question)
    assert span is not None  # each of these is covered: an answer (confident or not) is offered
    repl = Repl(env)
    shown = repl.say(question, "[5]")
    answer = shown[shown.index("\n", shown.rindex(question)) + 1:]  # after the (redrawn) prompt line
    lines = [line for line in visible_lines(answer) if line.strip()]
    if span.confident:
        assert lines[0] == f"→ {span.text}"  # first, before the quote
        assert f"\x1b[1;32m→ {span.text}\x1b[0m" in answer
        quote = answer[answer.index("[1]"):]
        assert re.sub(r"\x1b\[0m\r?\n +\x1b\[1;32m", "", quote).count(f"\x1b[1;32m{span.text}\x1b[0m") == 1
        assert lines[1].startswith(f"[{span.rank}] ")  # the passage that holds it is the one quoted
    else:
        assert "→" not in answer and lines[0].startswith("[")
        assert "\x1b[4m" in answer  # only the answer sentence is marked: underlined
    assert repl.quit() == 0
    run = subprocess.run(COMMAND + ["repl", "--plain"], input=question + "\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    plain = run.stdout.splitlines()
    if span.confident:
        assert plain[1] == f"→ {span.text}" and plain[3].count(f"【{span.text}】") == 1
    else:
        assert "→" not in run.stdout and "【" not in run.stdout
        assert plain[1].startswith(f"[{span.rank}] ") and "〔" in plain[2] and "〕" in plain[2]


def test_more_after_a_not_covered_answer_goes_on_from_the_two_shown(env):
    run = subprocess.run(COMMAND + ["repl"], input="Dimitri 天气预报\n:more\n:open 4\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    blocks = run.stdout.split("\n\n")
    assert [line[:4] for line in blocks[1].splitlines()[1::2]] == ["[3] ", "[4] ", "[5] ", "[6] ", "[7] "]
    assert blocks[2].startswith("> :open 4\n[4] ")
