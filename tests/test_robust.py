"""Inputs a demanding user or an attacker gives (issue 12): each through the real command, in
process (bot.cli.main) or as a subprocess; none may hang, print a traceback or lose the rest."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main

from tests.helpers import ROOT, SEEDS, TINY_ARTICLES, write_jsonl

QUESTION = "影谱科技这轮融资拿了多少钱？"
COMMAND = [sys.executable, "-m", "bot"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def cli(*argv, input: bytes | None = None, env: dict | None = None, timeout: float = 120, **kw):
    """The command in a subprocess, from the checkout, with bytes in and out."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run(COMMAND + [*argv], input=input, capture_output=True, env=full, timeout=timeout,
                          cwd=kw.pop("cwd", ROOT), **kw)
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    return done


def big_corpus(folder: Path, articles: int = 1500) -> Path:
    folder.mkdir()
    lines = []
    for i in range(articles):
        text = "".join(f"第{i}号研究所在{j}年发布了新的报告，内容涉及人工智能与机器人技术{j * i}。" for j in range(12))
        lines.append({"title": f"报告{i}", "text": text})
    write_jsonl(folder / "big.jsonl", lines)
    return folder


# 1. an index folder reached through `..` or a symlink

@pytest.mark.parametrize("spelling", ["dotdot", "symlink"])
def test_an_index_folder_through_dotdot_or_a_symlink_builds(capsys, monkeypatch, tmp_path, spelling):
    corpus = big_corpus(tmp_path / "corpus", articles=300)  # posting files big enough to be rewritten wrongly
    (tmp_path / "real").mkdir()
    (tmp_path / "a").mkdir()
    if spelling == "dotdot":
        where = tmp_path / "a" / ".." / "real"
    else:
        where = tmp_path / "link"
        where.symlink_to(tmp_path / "real")
    monkeypatch.setenv("QABOT_INDEX_DIR", str(where))
    code, out, err = run(capsys, "--corpus", str(corpus), "index")
    assert code == 0 and "index built" in out
    code, out, _ = run(capsys, "--corpus", str(corpus), "ask", "人工智能报告")
    assert code == 0 and "报告" in out


# 2. a killed build leaves no workers and no lock behind

def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2, reason="needs /proc and 2 cores")
def test_killing_a_build_kills_its_workers_and_frees_the_lock(tmp_path):
    corpus = big_corpus(tmp_path / "corpus")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QABOT_INDEX_DIR": str(tmp_path / "idx")}
    build = subprocess.Popen(COMMAND + ["--corpus", str(corpus), "index"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while not workers and build.poll() is None and time.monotonic() < deadline:
        workers = children(build.pid) if running(build.pid) else set()
        time.sleep(0.05)
    if not workers:
        build.wait()
        if os.environ.get("CI", "").lower() == "true":  # in CI a build that shows no workers is a failure
            pytest.fail("the build finished before its workers could be seen")
        pytest.skip("the build finished before its workers could be seen")
    build.send_signal(signal.SIGKILL)
    build.wait()
    time.sleep(2)
    assert not [w for w in workers if running(w)], "workers outlived their parent"
    done = subprocess.run(COMMAND + ["--corpus", str(corpus), "ask", "人工智能报告"], env=env, cwd=ROOT,
                          capture_output=True, timeout=300)
    assert done.returncode == 0 and "报告" in done.stdout.decode()
    assert not list((tmp_path / "idx").glob(".building-*"))  # the killed build's folder was cleaned up


def test_a_held_lock_says_who_holds_it_and_gives_up_after_the_wait(tmp_path, tiny_corpus):
    idx = tmp_path / "idx"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from retrieval.cachefiles import build_lock\n"
         f"with build_lock(Path({str(idx)!r})):\n print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    try:
        assert holder.stdout.readline() == b"held\n"
        done = cli("--corpus", str(tiny_corpus), "index", env={"QABOT_INDEX_DIR": str(idx), "QABOT_LOCK_WAIT": "1"})
        err = done.stderr.decode()
        assert done.returncode == 1
        assert f"still being built by pid {holder.pid} on " in err and "waiting for the build by" in err
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock went with it
    done = cli("--corpus", str(tiny_corpus), "index", env={"QABOT_INDEX_DIR": str(idx), "QABOT_LOCK_WAIT": "5"})
    assert done.returncode == 0 and b"index built" in done.stdout


def test_stale_leftovers_of_killed_builds_are_removed(capsys, monkeypatch, tmp_path, tiny_corpus):
    idx = tmp_path / "idx"
    (idx / ".building-abc123").mkdir(parents=True)
    (idx / ".building-abc123" / "docs.npy").write_bytes(b"x" * 100)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (idx / f".fingerprints.json.{dead.pid}").write_text("{}")
    (idx / f".fingerprints.json.{os.getpid()}").write_text("{}")  # a live process's: kept
    monkeypatch.setenv("QABOT_INDEX_DIR", str(idx))
    code, _, _ = run(capsys, "--corpus", str(tiny_corpus), "index")
    assert code == 0
    assert not (idx / ".building-abc123").exists() and not (idx / f".fingerprints.json.{dead.pid}").exists()
    assert (idx / f".fingerprints.json.{os.getpid()}").exists()


# 3. surrogates, invalid UTF-8 and deep nesting are one bad line each

DEEP = "[" * 100_000 + "]" * 100_000


def test_batch_survives_surrogates_deep_nesting_and_bad_bytes(capsys, monkeypatch, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_bytes(b"\n".join([
        b'{"id": "s", "question": "\\ud800\xe5\xbd\xb1\xe8\xb0\xb1\xe7\xa7\x91\xe6\x8a\x80"}',
        DEEP.encode(),
        b'{"question": "\xe5\x95\x86\xff"}',  # 商 and a byte that is not UTF-8
        b"",
        json.dumps({"id": "ok", "question": QUESTION}, ensure_ascii=False).encode(),
    ]) + b"\n")
    code, out, err = run(capsys, "batch", str(questions))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in lines] == ["s", 2, 3, "ok"]
    assert "\ufffd" in lines[0]["question"] and "error" not in lines[0]
    assert "nested too deeply" in lines[1]["error"] and "not UTF-8" in lines[2]["error"]
    assert lines[3]["answered"] is True
    assert "4 questions" in err and "1 blank lines skipped" in err


def test_invalid_utf8_in_argv_and_stdin_is_not_a_traceback(tmp_path):
    done = cli("ask", os.fsdecode(b"\xff\xfe") + "影谱科技融资")
    assert done.returncode == 0 and "影谱".encode() in done.stdout
    done = cli("repl", "--plain", input=b"\xff\xfe\n" + QUESTION.encode() + b"\n")
    assert done.returncode == 0 and done.stdout.count(b"> ") == 2 and "影谱".encode() in done.stdout
    done = cli("batch", "-", input=b"\xff\n" + QUESTION.encode() + b"\n")
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and "error" in out[0] and out[1]["answered"] is True


def test_corpus_lines_with_surrogates_or_deep_nesting_are_warnings(capsys, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", TINY_ARTICLES)
    with open(folder / "a.jsonl", "a", encoding="utf-8") as f:
        f.write('{"title": "坏\\udc80", "text": "长城是中国古代的军事防御工程\\ud800。"}\n' + DEEP + "\n")
    code, out, err = run(capsys, "--corpus", str(folder), "ask", "长城是什么？")
    assert code == 0 and "长城" in out
    assert "a.jsonl:4: lone surrogate" in err and "a.jsonl:5: JSON nested too deeply" in err


# 5. the corpus's filesystem

def test_dangling_links_fifos_and_unreadable_files_are_warnings(capsys, tmp_path, tiny_corpus):
    (tiny_corpus / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(tiny_corpus / "pipe.txt")
    code, out, err = run(capsys, "--corpus", str(tiny_corpus), "ask", "大熊猫生活在哪里？")
    assert code == 0 and "四川" in out
    assert "gone.txt: symbolic link to a file that does not exist; skipped" in err
    assert "pipe.txt: not a regular file" in err


def as_nobody(argv: list[str], env: dict) -> tuple[int, str, str]:
    """``main(argv)`` in a forked child that has become the user nobody. In process: this
    interpreter may live where nobody cannot read (/root), so the parent has run the command
    once before and the child imports nothing new."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns to pytest
            code = 99
            try:
                sys.stdout = open(out.fileno(), "w", encoding="utf-8", closefd=False)
                sys.stderr = open(err.fileno(), "w", encoding="utf-8", closefd=False)
                os.environ.update(env)
                os.setgid(65534)
                os.setuid(65534)
                code = main(argv)
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()


def world_tmp() -> Path:
    """A folder other users may enter (pytest's tmp_path is private to its user)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="qabot-shared-", dir="/tmp"))
    folder.chmod(0o755)
    return folder


needs_root = pytest.mark.skipif(os.geteuid() != 0 or not hasattr(os, "fork"),
                                reason="runs a command as the user nobody (needs root)")


@needs_root
def test_an_unreadable_file_and_folder_are_said_not_skipped_silently(tmp_path):
    import shutil

    shared = world_tmp()
    try:
        corpus = shared / "corpus"
        (corpus / "secret").mkdir(parents=True)
        write_jsonl(corpus / "ok.jsonl", TINY_ARTICLES)
        (corpus / "locked.txt").write_text("标题\n正文内容。", encoding="utf-8")
        (corpus / "locked.txt").chmod(0o600)
        (corpus / "secret").chmod(0o700)
        corpus.chmod(0o755)
        (corpus / "ok.jsonl").chmod(0o644)
        (shared / "idx").mkdir(mode=0o777)
        (shared / "idx").chmod(0o777)  # nobody builds this index
        main(["--corpus", str(SEEDS), "ask", QUESTION])  # every module the child needs is loaded
        code, out, err = as_nobody(["--corpus", str(corpus), "ask", "大熊猫生活在哪里？"],
                                   {"QABOT_INDEX_DIR": str(shared / "idx"), "HOME": str(shared)})
        assert "Traceback" not in err and code == 0, err
        assert "locked.txt: cannot read" in err and "secret: cannot read folder" in err
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@needs_root
def test_a_user_who_may_not_write_reads_a_current_shared_index(tmp_path, monkeypatch):
    import shutil

    shared = world_tmp()
    try:
        corpus = shared / "corpus"
        corpus.mkdir()
        write_jsonl(corpus / "a.jsonl", TINY_ARTICLES)
        for path in (corpus, corpus / "a.jsonl"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        env = {"QABOT_INDEX_DIR": str(shared / "idx"), "HOME": str(shared)}
        monkeypatch.setenv("QABOT_INDEX_DIR", env["QABOT_INDEX_DIR"])
        assert main(["--corpus", str(corpus), "index"]) == 0  # built by root, under umask 022
        (shared / "idx").chmod(0o755)  # the folder itself: nobody may not write in it
        code, out, err = as_nobody(["--corpus", str(corpus), "ask", "大熊猫生活在哪里？"], env)
        assert code == 0 and "四川" in out, err
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_a_full_disk_during_a_build_is_an_error_not_a_traceback(tmp_path, tiny_corpus):
    # RLIMIT_FSIZE makes every write past 64 kB fail (EFBIG) the way a full disk does (ENOSPC)
    limit = ("import resource, signal, runpy, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
             "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536)); sys.argv = ['qabot'] + sys.argv[1:]; "
             "runpy.run_module('bot', run_name='__main__')")
    big = big_corpus(tmp_path / "big", articles=200)
    done = subprocess.run([sys.executable, "-c", limit, "--corpus", str(big), "index"], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "QABOT_INDEX_DIR": str(tmp_path / "idx")},
                          cwd=ROOT, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 1 and "Traceback" not in err and "Error: cannot write the index folder" in err
    assert not list((tmp_path / "idx").glob(".building-*"))


# 8. batch output and files

def test_batch_piped_to_head_ends_quietly(tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("\n".join([QUESTION] * 300) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    batch = subprocess.Popen(COMMAND + ["batch", str(questions)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=ROOT)
    first = batch.stdout.readline()
    batch.stdout.close()
    err = batch.stderr.read().decode()
    batch.wait(timeout=120)
    assert json.loads(first)["answered"] is True
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_batch_refuses_to_overwrite_its_questions(capsys, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": QUESTION}, ensure_ascii=False) + "\n", encoding="utf-8")
    before = questions.read_bytes()
    for output in (str(questions), str(tmp_path / "." / "q.jsonl")):
        code, out, err = run(capsys, "batch", str(questions), "-o", output)
        assert code == 1 and "is the questions file; write the answers to another file" in err
    assert questions.read_bytes() == before


# terminal safety

def test_escape_sequences_from_the_corpus_never_reach_the_terminal(capsys, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "evil.jsonl", [{"title": "长城\x1b]0;PWNED\x07\u202e", "text": "长城是古代的防御工程\x1b[2J\x9b31m。"}])
    (folder / "a;touch PWNED;b\x1b[31m.txt").write_bytes("标题\n正文".encode("gb18030"))
    code, out, err = run(capsys, "--corpus", str(folder), "ask", "长城是什么？")
    assert code == 0 and "长城" in out
    for text in (out, err):
        assert not any(ch in text for ch in "\x1b\x07\x9b\u202e")
    assert "iconv -f GB18030 -t UTF-8 'a;touch PWNED;b [31m.txt'" in err
    code, out, err = run(capsys, "--corpus", str(folder), "ask", "--json", "长城是什么？")
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    assert "长城\x1b]0;PWNED\x07\u202e" == json.loads(out)["passages"][0]["title"]  # the same value, escaped


@pytest.mark.parametrize("noise", ["\x1b]0;商汤 人工智能\x07", "\u200b", "\x1b[31m", "\u200d\u2060"])
def test_escape_payloads_and_zero_width_characters_do_not_change_the_search(capsys, noise):
    _, plain, _ = run(capsys, "ask", "--json", "影谱科技融资")
    _, noisy, _ = run(capsys, "ask", "--json", f"影谱{noise}科技融资")
    assert json.loads(noisy)["passages"] == json.loads(plain)["passages"]


def test_file_names_that_are_not_utf8_load_and_show_replaced(capsys, tmp_path):
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/d\xfe"))
    folder.mkdir()
    (folder / os.fsdecode(b"a\xff.txt")).write_text("长城\t长城是古代的防御工程。\n故宫\t故宫在北京。\n", encoding="utf-8")
    (folder / os.fsdecode(b"b\xfc.txt")).write_bytes("标题\n正文".encode("gb18030"))
    code, out, err = run(capsys, "--corpus", str(folder), "ask", "--json", "长城是什么？")  # the record cites files
    assert code == 0 and "d\ufffd/a\ufffd.txt:1" in out
    assert "b\ufffd.txt" in err and "not UTF-8" in err
