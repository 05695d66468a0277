"""A sharded index on a real Dask cluster (LocalCluster: worker processes, TCP on 127.0.0.1)
ranks as one index does, and keeps answering while workers are lost."""
from __future__ import annotations

import io
import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from bot.answering import Answerer  # noqa: E402
from bot.terminal.format import plain_text  # noqa: E402
from bot.batch import Item, run_batch  # noqa: E402
from bot.cli import main  # noqa: E402
from bot.cluster import _clusters, open_cluster  # noqa: E402
from bot.config import Settings  # noqa: E402
from retrieval.shards import find_layout  # noqa: E402
from retrieval.store import open_searcher  # noqa: E402

from tests.helpers import write_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXT = next((p for p in (ROOT.parent / "shared" / "eval" / "ext", Path("/work/shared/eval/ext")) if p.exists()), None)
SHARDS = 3


def real_corpus(name: str) -> Path:
    if EXT is None or not (EXT / f"{name}.corpus.jsonl").exists():
        if os.environ.get("CI"):
            raise AssertionError(f"the shared eval corpora are missing beside the repository ({ROOT.parent / 'shared'})")
        pytest.skip("shared eval corpora not present")
    return EXT / f"{name}.corpus.jsonl"


def gold_questions(name: str, count: int) -> list[str]:
    lines = (EXT / f"{name}.gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:count]]


WORDS = "河流 城市 茶馆 老城区 两岸 桥梁 渡口 码头 商人 船只 集市 寺庙 钟楼 城墙 花园 书院".split()


def synthetic(folder: Path) -> Path:
    """Articles of few words: many passages tie on score, so the order of ties is tested too."""
    rng = random.Random(7)
    records = [{"title": f"条目{i}", "text": "。".join("".join(rng.choices(WORDS, k=rng.randint(2, 5)))
                                                     for _ in range(rng.randint(3, 12))) + "。"} for i in range(240)]
    return write_jsonl(folder / "synthetic.jsonl", records)


def local_cluster():
    """Three worker processes (one thread each, small memory) on 127.0.0.1; no dashboard."""
    return distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None, memory_limit="700MiB")


@pytest.fixture(scope="module")
def cluster():
    with local_cluster() as local:
        yield local
        for address in [a for a in _clusters if a == local.scheduler_address]:
            _clusters.pop(address).close()


def settings_for(index_dir: Path) -> Settings:
    return Settings(index_dir=index_dir)


def pair(paths, index_dir, address):
    """(the single index's searcher, the sharded one on the cluster) of ``paths``."""
    settings = settings_for(index_dir)
    single = open_searcher(paths, settings.retrieval(), index_dir).searcher
    find_layout(paths, settings.retrieval(), index_dir, shards=SHARDS)
    return single, open_cluster(address, paths, settings)


def ranked(result):
    return [(h.passage.article_id, h.passage.start, h.score) for h in result.hits]


def assert_same(single, sharded, question, context=()):
    a, b = single.search(question, 10, context), sharded.search(question, 10, context)
    assert [x[:2] for x in ranked(a)] == [x[:2] for x in ranked(b)], question
    assert all(abs(x[2] - y[2]) <= 1e-9 for x, y in zip(ranked(a), ranked(b))), question
    assert (a.answered, b.missing_shards) == (b.answered, ()), question


def test_sharded_top10_equals_one_index_cmrc(cluster, index_dir):
    from opencc import OpenCC

    corpus = real_corpus("cmrc2018-trial")
    single, sharded = pair([corpus], index_dir, cluster.scheduler_address)
    questions = gold_questions("cmrc2018-trial", 60)
    traditional = OpenCC("s2t")
    for q in questions:
        assert_same(single, sharded, q)
        assert_same(single, sharded, traditional.convert(q))
    for earlier, q in zip(questions, ["它是哪一年成立的？", "他后来去了哪里？", "这个数字是多少？"] * 10):
        assert_same(single, sharded, q, [earlier])


def test_sharded_top10_equals_one_index_drcd(cluster, index_dir):
    corpus = real_corpus("drcd-dev")
    single, sharded = pair([corpus], index_dir, cluster.scheduler_address)
    questions = gold_questions("drcd-dev", 60)  # DRCD is written in traditional characters
    for q in questions:
        assert_same(single, sharded, q)
    for earlier, q in zip(questions, ["它的面積是多少？", "他在哪裡出生？"] * 10):
        assert_same(single, sharded, q, [earlier])


def test_sharded_top10_equals_one_index_synthetic(cluster, index_dir, tmp_path):
    corpus = synthetic(tmp_path)
    single, sharded = pair([corpus], index_dir, cluster.scheduler_address)
    rng = random.Random(3)
    for phases in (1, 2):  # with many shards, scores come first and the winners' passages second
        sharded.served.two_phase_from = SHARDS + 1 if phases == 1 else 0
        for _ in range(40):
            q = "".join(rng.sample(WORDS, rng.randint(1, 3))) + "在哪里？"
            assert_same(single, sharded, q)
            assert_same(single, sharded, "它有几座？", [q])


def test_changing_an_article_rebuilds_only_its_shard(tmp_path, index_dir):
    corpus = synthetic(tmp_path)
    settings = settings_for(index_dir).retrieval()
    before, _ = find_layout([corpus], settings, index_dir, shards=SHARDS)
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    records[5]["text"] += "新的渡口建成了。"
    records.append({"title": "新条目", "text": "码头旁边有一座新的钟楼。"})
    write_jsonl(corpus, records)
    after, built = find_layout([corpus], settings, index_dir)  # the shard count of the previous layout
    assert built and after.count == SHARDS
    changed = {i for i, (a, b) in enumerate(zip(before.shards, after.shards)) if a != b}
    from retrieval.shards import shard_of
    from retrieval.articles import load_corpus
    touched = {shard_of(a, SHARDS) for a in load_corpus([corpus]).articles if a.title in ("条目5", "新条目")}
    assert changed == touched and len(changed) < SHARDS


def holders_of(sharded, shard: int) -> list[str]:
    return sharded.served.holders[shard]


def kill(sharded, name: str) -> None:
    """Kill worker ``name``'s process (SIGKILL), as a machine's crash would; its nanny restarts it."""
    client = sharded.served.cluster.client
    address = sharded.served.cluster.workers()[name]
    os.kill(client.run(os.getpid, workers=[address])[address], signal.SIGKILL)


def test_question_during_a_worker_loss_is_answered_from_the_replica(cluster, index_dir):
    corpus = real_corpus("cmrc2018-trial")
    single, sharded = pair([corpus], index_dir, cluster.scheduler_address)
    question = gold_questions("cmrc2018-trial", 1)[0]
    kill(sharded, holders_of(sharded, 0)[0])
    for _ in range(3):  # the first finds the worker gone, the next ones ask the other copy straight away
        assert_same(single, sharded, question)


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_and_duplicates_no_question(cluster, index_dir):
    corpus = real_corpus("cmrc2018-trial")
    single, sharded = pair([corpus], index_dir, cluster.scheduler_address)
    questions = gold_questions("cmrc2018-trial", 1000)
    items = [Item(i, questions[i % len(questions)]) for i in range(2000)]
    out = io.StringIO()
    victim = holders_of(sharded, 1)[0]

    killed_after = []

    done = threading.Event()

    def kill_soon():
        while out.tell() < 200_000 and not done.is_set():  # some dozens of records written
            time.sleep(0.01)
        killed_after.append(out.getvalue().count("\n"))
        kill(sharded, victim)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    try:
        run_batch(Answerer(sharded), items, out)
    finally:
        done.set()
        killer.join()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert 0 < killed_after[0] < 1500  # the worker was lost with most of the batch still to come
    assert [r["id"] for r in records] == list(range(2000))
    assert not any("partial" in r for r in records)
    for r in records[::50]:
        expected = Answerer(single).ask(r["question"]).record(r["id"])
        assert r == expected


def test_ask_on_the_cluster_prints_what_ask_prints_locally(cluster, index_dir, capsys):
    corpus = real_corpus("cmrc2018-trial")
    single, sharded = pair([corpus], index_dir, cluster.scheduler_address)
    question = gold_questions("cmrc2018-trial", 5)[4]
    local, remote = Answerer(single), Answerer(sharded)
    a, b = local.ask(question), remote.ask(question)
    # what :open and the Telegram buttons show: the article's text, fetched from its shard
    assert [remote.paragraph(h) for h in b.hits] == [local.paragraph(h) for h in a.hits]
    assert remote.article_text(b.hits[0]) == local.article_text(a.hits[0])
    assert (remote.article_count, remote.passage_count) == (local.article_count, local.passage_count)
    for extra in ([], ["--json"]):
        assert main(["ask", "--corpus", str(corpus), *extra, question]) == 0
        local = capsys.readouterr().out
        assert main(["ask", "--cluster", cluster.scheduler_address, "--corpus", str(corpus), *extra, question]) == 0
        assert capsys.readouterr().out == local


def test_both_copies_lost_gives_a_partial_answer_that_says_so(index_dir):
    corpus = real_corpus("cmrc2018-trial")
    with local_cluster() as local:
        try:
            single, sharded = pair([corpus], index_dir, local.scheduler_address)
            for name in holders_of(sharded, 2):
                # the nannies run in this process: told the worker is closing, so they leave it down
                local.workers[int(name)].status = distributed.core.Status.closing_gracefully
                kill(sharded, name)
            question = gold_questions("cmrc2018-trial", 3)[2]
            answer = Answerer(sharded).ask(question)
            assert answer.result.missing_shards == (2,)
            assert answer.record()["partial"] == {"missing_shards": [2]}
            assert "partial answer: shards 2 of the index could not be reached" in plain_text(answer)
            assert all(h.passage.article_id for h in answer.hits)  # the other shards' passages
        finally:
            for address in [a for a in _clusters if a == local.scheduler_address]:
                _clusters.pop(address).close()
