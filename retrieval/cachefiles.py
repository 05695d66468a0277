"""Integrity and exclusion for cache folders: checksums in a manifest, a build lock.

A cache folder is only trusted when every file matches the checksum its manifest
recorded, so a truncated or corrupted file means a rebuild, not a wrong answer.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from .errors import IndexStoreError
from .safetext import printable

MANIFEST = "manifest.json"


SAMPLED_FROM = 64 << 20  # bytes; bigger files are checked by samples, or loading 1M passages would take seconds
SAMPLES, SAMPLE = 64, 64 << 10


def file_digest(path: Path, sampled: bool = False) -> str:
    """sha256 of a file; with ``sampled``, of its size and 64 blocks spread over it when it is big
    (a truncated file or a damaged block is still caught, a single flipped byte elsewhere may not be)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as f:
        if sampled and size > SAMPLED_FROM:
            digest.update(str(size).encode())
            for i in range(SAMPLES):
                f.seek((size - SAMPLE) * i // (SAMPLES - 1))
                digest.update(f.read(SAMPLE))
            return "sampled:" + digest.hexdigest()
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, info: dict, mapped: frozenset[str] = frozenset()) -> None:
    """Record ``info`` and the size and checksums of every file in ``folder``. A file read whole
    is checked whole when loaded; a big memory-mapped one by samples when loaded (fast), and
    against its full sha256 (also recorded) in the background by ``check_fully``."""
    files = {}
    for p in sorted(folder.iterdir()):
        if p.name != MANIFEST:
            sampled = file_digest(p, sampled=p.name in mapped)
            files[p.name] = [p.stat().st_size, sampled] + ([file_digest(p)] if sampled.startswith("sampled:") else [])
    (folder / MANIFEST).write_text(json.dumps({**info, "files": files}), encoding="utf-8")


def verify(folder: Path, fully: bool = False) -> dict:
    """The manifest of ``folder`` once every file matches it (``fully``: every byte of every
    file, not samples of the big mapped ones); IndexStoreError otherwise."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        for name, (size, digest, *full) in manifest["files"].items():
            path = folder / name
            sampled = digest.startswith("sampled:")
            if path.stat().st_size != size or file_digest(path, sampled=sampled) != digest or (
                    fully and full and file_digest(path) != full[0]):
                raise IndexStoreError(f"cached file {path} is damaged (checksum mismatch)")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise IndexStoreError(f"cache folder {folder} is incomplete: {exc}") from exc
    return manifest


def check_fully(folder: Path, damaged: Callable[[str], None]) -> threading.Thread:
    """Check every byte of ``folder`` in a background thread; on a mismatch drop its manifest
    (so the next open rebuilds it) and tell ``damaged`` what to do."""
    def run() -> None:
        try:
            verify(folder, fully=True)
        except IndexStoreError as exc:
            with contextlib.suppress(OSError):
                (folder / MANIFEST).unlink()
            damaged(f"{exc}; it is rebuilt on the next start (or run `qabot index`)")

    thread = threading.Thread(target=run, name="qabot-cache-check", daemon=True)
    thread.start()
    return thread


def lock_wait() -> float:
    """Seconds a build waits for another one: ``QABOT_LOCK_WAIT``, else an hour."""
    try:
        return max(0.0, float(os.environ.get("QABOT_LOCK_WAIT", "")))
    except ValueError:
        return 3600.0

_in_process = threading.Lock()  # POSIX locks do not exclude threads of one process from each other


@contextlib.contextmanager
def build_lock(index_dir: Path, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``index_dir`` while building, so two builds run one after the other.

    A POSIX record lock: the kernel drops it when its process dies, however it dies, and
    forked workers never hold it. The holder writes who it is (pid, host, start) in the lock
    file, so a build that waits can say what it waits for; it waits at most ``lock_wait()`` seconds."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise unwritable(index_dir, exc) from exc
    with _in_process, os.fdopen(fd, "r+") as handle:
        wait_for(handle, index_dir, say)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            handle.flush()
            yield
        finally:
            with contextlib.suppress(OSError):
                handle.truncate(0)
            fcntl.lockf(handle, fcntl.LOCK_UN)


def wait_for(handle, index_dir: Path, say: Callable[[str], None] | None) -> None:
    wait = lock_wait()
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise unwritable(index_dir, exc) from exc
        handle.seek(0)
        holder = printable(handle.read(200).strip()) or "another process"
        if time.monotonic() > deadline:
            raise IndexStoreError(f"{index_dir} is still being built by {holder} after {wait:.0f} s; "
                                  "wait for it, or stop that process (its lock goes when it ends)")
        if say:
            say(f"waiting for the build by {holder} in {index_dir} to finish (Ctrl-C to stop)")
            say = None
        time.sleep(0.2)


def unwritable(folder: Path, exc: OSError) -> IndexStoreError:
    return IndexStoreError(
        f"cannot write the index folder {folder} ({exc.strerror}); "
        "set QABOT_INDEX_DIR or index_dir in config.yaml to a writable folder"
    )
