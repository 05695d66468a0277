"""A sharded index served by the workers of a Dask cluster (``--cluster tcp://HOST:PORT``).

Each worker holds a ``ShardServer`` actor: calls go from this process straight to the worker
(no scheduler in between, about a millisecond on loopback), and the shards it answers for are
loaded once per worker process and kept (``retrieval.sharded.loaded``). Every shard is given to
two workers, by worker name, so a worker its nanny restarts takes its shards back. A question
asks each shard once, of one of its holders; a holder that is lost, fails or does not answer in
time is marked lost and its shards are asked of the other; a shard with no holder left is
reported missing and the answer is partial (``SearchResult.missing_shards``).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Sequence

from retrieval.analysis import Analyzer
from retrieval.sharded import (ArticleDirectory, Candidate, Query, ShardedSearcher, loaded, merged, shard_candidates,
                               shard_passages, shard_scores)
from retrieval.shards import Layout, find_layout

from .config import ConfigError, Settings

COPIES = 2
CONNECT = 3.0  # seconds: a worker on the network answers a connection in well under this
RECHECK = 1.0
TWO_PHASE_FROM = 8  # shards: from here on a question fetches scores, then only the winners' passages  # seconds: how often, at most, the worker list is read again while a holder is lost


class ClusterError(ConfigError):
    """The cluster named by --cluster or cluster.address cannot be used."""


class ShardServer:
    """The actor on each worker: candidates and article texts from the shards asked of it."""

    def warm(self, layout_folder: str, numbers: Sequence[int]) -> int:
        for n in numbers:
            loaded(layout_folder, n)
        return os.getpid()

    def candidates(self, layout_folder: str, numbers: Sequence[int], queries: Sequence[Query]) -> dict:
        return shard_candidates(layout_folder, numbers, queries)

    def scores(self, layout_folder: str, numbers: Sequence[int], queries: Sequence[Query]) -> dict:
        return shard_scores(layout_folder, numbers, queries)

    def passages(self, layout_folder: str, wanted: dict) -> dict:
        return shard_passages(layout_folder, wanted)

    def article(self, layout_folder: str, number: int, article: int) -> str:
        return loaded(layout_folder, number).articles[article].text


class Cluster:
    """A connection to the scheduler and one actor on each worker, by worker name."""

    def __init__(self, address: str, timeout: float = 30.0):
        from distributed import Client

        if not address.startswith(("tcp://", "tls://")) or ":" not in address[6:]:
            raise ClusterError(f"cluster address {address!r} should look like tcp://HOST:PORT (or tls://HOST:PORT)")
        logging.getLogger("distributed").setLevel(logging.ERROR)  # a lost worker is handled here, not shouted
        try:
            # direct: actor calls go from here to the worker, not through the scheduler
            self.client = Client(address, timeout=max(min(timeout, 10), CONNECT), set_as_default=False, direct_to_workers=True)
        except (OSError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
                               "`dask scheduler` and workers with `dask worker`, see docs/cluster.md") from None
        # how long connecting to a worker is retried (a lost one refuses, again and again) before its
        # shards are asked of their other copies: Dask's default is the client's whole timeout
        self.client.rpc.timeout = CONNECT
        self.address, self.timeout = address, timeout
        self.actors: dict[str, tuple[str, object, object]] = {}  # name → (address, future, actor)
        self.lock = threading.Lock()
        self.checked = 0.0
        self.refresh()

    def workers(self) -> dict[str, str]:
        """Live workers: name → address."""
        return {str(info.get("name", addr)): addr for addr, info in self.client.scheduler_info()["workers"].items()}

    def refresh(self) -> None:
        """Read the worker list again: actors for new (or restarted) workers, none for the gone."""
        live = self.workers()
        with self.lock:
            self.checked = time.monotonic()
            for name in [n for n, (addr, _, _) in self.actors.items() if live.get(n) != addr]:
                del self.actors[name]
            for name, addr in live.items():
                if name not in self.actors:
                    with_actor = self.client.submit(ShardServer, actor=True, workers=[addr], pure=False)
                    try:
                        with self.client.as_current():  # the actor handle binds to the current client
                            actor = with_actor.result(timeout=self.timeout)
                        # unbound from its task: a call to a lost worker then fails at once, where the
                        # handle would wait for the task to be run again (on that worker, which is gone)
                        actor._future = None
                        self.actors[name] = (addr, with_actor, actor)
                    except Exception:  # gone again already: left out until the next look
                        continue

    def lost(self, name: str) -> None:
        with self.lock:
            self.actors.pop(name, None)

    def actor(self, name: str):
        entry = self.actors.get(name)
        return entry[2] if entry else None

    def names(self) -> list[str]:
        if time.monotonic() - self.checked > 10 * RECHECK:
            self.refresh()
        return sorted(self.actors)

    def close(self) -> None:
        self.client.close()


class Served:
    """One layout's shards on a cluster: two holders each, and the fetch that asks them."""

    def __init__(self, cluster: Cluster, layout: Layout):
        self.cluster, self.layout, self.folder = cluster, layout, str(layout.folder)
        self.present = [i for i, s in enumerate(layout.shards) if s is not None]
        names = cluster.names()
        if not names:
            raise ClusterError(f"the cluster at {cluster.address} has no workers; start some with "
                               f"`dask worker {cluster.address}`")
        copies = min(COPIES, len(names))
        self.holders = {n: [names[(j + c) % len(names)] for c in range(copies)] for j, n in enumerate(self.present)}
        self.turn = 0
        self.two_phase_from = TWO_PHASE_FROM
        self.warm()

    def warm(self) -> None:
        """Load every shard on its holders now, not at the first question."""
        calls = []
        for name in self.cluster.names():
            mine = [n for n, names in self.holders.items() if name in names]
            actor = self.cluster.actor(name)
            if mine and actor is not None:
                calls.append((name, actor.warm(self.folder, mine)))
        for name, call in calls:
            try:
                call.result(timeout=max(self.cluster.timeout, 120))
            except Exception:
                self.cluster.lost(name)

    def fetch(self, queries: Sequence[Query]) -> tuple[list[list[Candidate]], set[int]]:
        """Each query's best candidates over all shards, and the shards none of whose holders answered.
        From ``two_phase_from`` shards on, scores first and then the winners' passages: each shard's
        best with their text would be most of what a question moves."""
        self.turn += 1
        if len(self.present) < self.two_phase_from:
            found, missing = self.ask(self.present, lambda actor, numbers: actor.candidates(self.folder, numbers, queries))
            return [merged([found[n][q] for n in found], k) for q, (_, k) in enumerate(queries)], missing
        scores, missing = self.ask(self.present, lambda actor, numbers: actor.scores(self.folder, numbers, queries))
        winners = [merged([[(*t, n) for t in scores[n][q]] for n in scores], k) for q, (_, k) in enumerate(queries)]
        wanted: dict[int, set] = {}
        for best in winners:
            for _, score, doc, n in best:
                wanted.setdefault(n, set()).add((doc, score))
        texts, lost = self.ask(sorted(wanted), lambda actor, numbers: actor.passages(
            self.folder, {n: sorted(wanted[n]) for n in numbers}))
        return [[texts[n][doc] for _, _, doc, n in best if n in texts] for best in winners], missing | lost

    def ask(self, numbers: Sequence[int], call) -> tuple[dict[int, object], set[int]]:
        """``call(actor, its shards)`` of one holder of each shard, until every shard has answered or
        has no holder left: (the answers by shard, the shards without)."""
        tried: dict[int, set[str]] = {n: set() for n in numbers}
        found: dict[int, object] = {}
        missing: set[int] = set()
        while len(found) + len(missing) < len(numbers):
            calls = []
            for name, mine in self.plan(numbers, tried, found, missing).items():
                try:
                    calls.append((name, mine, call(self.cluster.actor(name), mine)))
                except Exception:  # the actor is known lost already
                    self.failed(name, mine, tried)
            for name, mine, pending in calls:
                try:
                    found.update(pending.result(timeout=self.cluster.timeout))
                except Exception:  # lost mid-question, or its shards unreadable there: ask the other copy
                    self.failed(name, mine, tried)
        return found, missing

    def plan(self, numbers: Sequence[int], tried: dict, found: dict, missing: set) -> dict[str, list[int]]:
        """Which holder each shard still to be asked is asked of: live, not tried, the least loaded
        (the copies take turns); shards with none left join ``missing``."""
        if any(self.cluster.actor(x) is None for names in self.holders.values() for x in names) \
                and time.monotonic() - self.cluster.checked > RECHECK:
            self.cluster.refresh()
        plan: dict[str, list[int]] = {}
        for n in numbers:
            if n in found or n in missing:
                continue
            names = self.holders[n]
            names = names[self.turn % len(names):] + names[:self.turn % len(names)]
            live = [x for x in names if x not in tried[n] and self.cluster.actor(x) is not None]
            if not live:
                missing.add(n)
                continue
            pick = min(live, key=lambda x: len(plan.get(x, ())))
            plan.setdefault(pick, []).append(n)
        return plan

    def failed(self, name: str, numbers: list[int], tried: dict) -> None:
        self.cluster.lost(name)
        for n in numbers:
            tried[n].add(name)

    def read(self, number: int, article: int) -> str:
        """An article's text, from a live holder of its shard."""
        for name in self.holders[number]:
            actor = self.cluster.actor(name)
            if actor is not None:
                try:
                    return actor.article(self.folder, number, article).result(timeout=self.cluster.timeout)
                except Exception:
                    self.cluster.lost(name)
        raise ClusterError(f"no worker holding shard {number} answers; the article cannot be shown now")


_clusters: dict[str, Cluster] = {}


def open_cluster(address: str, paths: Sequence[Path], settings: Settings, timeout: float | None = None,
                 progress=None) -> ShardedSearcher:
    """A searcher over the current sharded index of ``paths``, its shards on the cluster at ``address``
    (one connection per address in a process: a reload reuses it)."""
    retrieval = settings.retrieval()
    layout, _ = find_layout(paths, retrieval, settings.index_dir, progress=progress)
    cluster = _clusters.get(address)
    if cluster is None:
        cluster = _clusters[address] = Cluster(address, timeout or settings.cluster.timeout)
    served = Served(cluster, layout)
    searcher = ShardedSearcher(layout, served.fetch, Analyzer(retrieval.analysis), retrieval.search,
                               ArticleDirectory(layout, served.read))
    searcher.served = served
    return searcher
