"""What survives a restart, even ``kill -9`` or a power cut: a snapshot plus an append-only journal.

``Journal.record`` appends one JSON line per answered update (its id, when, a fingerprint
of what it was, and the chat's follow-up history after it) and fsyncs it, the moment the
answer is sent. Every ``COMPACT_EVERY`` lines, and at a clean stop, ``compact`` folds the
journal into the snapshot (``StateFile``: written to a temporary file, fsynced, renamed over
the old one, and the folder fsynced) and empties the journal. ``load`` reads the snapshot
and replays the journal over it; a line torn by a crash is skipped.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger("qabot.telegram")
VERSION = 2
COMPACT_EVERY = 1000  # journal lines between snapshots


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class StateFile:
    """The JSON snapshot, replaced atomically and durably."""

    def __init__(self, path: Path):
        self.path = path
        self.warned = False

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("cannot read the state file %s (%s); starting without it", self.path, exc)
            return {}
        return data if isinstance(data, dict) and data.get("version") in (1, VERSION) else {}

    def save(self, data: dict) -> bool:
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")  # mode 600
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({**data, "version": VERSION}, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            fsync_folder(self.path.parent)
            return True
        except OSError as exc:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            self.warn(exc)
            return False

    def warn(self, exc: OSError) -> None:
        if not self.warned:  # once: a full disk would otherwise log on every update
            log.warning("cannot write the state file %s (%s); set telegram.state_file to a writable file",
                        self.path, exc)
            self.warned = True


class Journal:
    """Answered updates, one fsynced JSON line each, beside the snapshot (``<state>.journal``)."""

    def __init__(self, state_file: Path, every: int = COMPACT_EVERY):
        self.snapshot = StateFile(state_file)
        self.path = state_file.with_name(state_file.stem + ".journal")
        self.every, self.lines, self.fd = every, 0, None

    def load(self) -> tuple[dict, list[dict]]:
        """The snapshot and the journal's records after it, in the order they were written."""
        records = []
        try:
            with self.path.open(encoding="utf-8") as f:
                for line in f:
                    with contextlib.suppress(ValueError):  # a line torn by a crash
                        record = json.loads(line)
                        if isinstance(record, dict):
                            records.append(record)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot read the journal %s (%s); answers it holds may repeat", self.path, exc)
        return self.snapshot.load(), records

    def record(self, entry: dict) -> bool:
        """Append ``entry`` durably; True when it is time to ``compact``."""
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        try:
            if self.fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self.fd, line)
            os.fsync(self.fd)
        except OSError as exc:
            self.snapshot.warn(exc)
            return False
        self.lines += 1
        return self.lines >= self.every

    def compact(self, state: dict) -> None:
        """Write ``state`` (which holds every record so far) as the snapshot, then empty the journal."""
        if not self.snapshot.save(state):
            return  # keep the journal: it still holds what the old snapshot lacks
        try:
            if self.fd is not None:
                os.ftruncate(self.fd, 0)
                os.fsync(self.fd)
            elif self.path.exists():
                os.truncate(self.path, 0)
        except OSError as exc:
            self.snapshot.warn(exc)
        self.lines = 0

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
