"""A small progress bar on stderr, drawn only when stderr is a terminal."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and total > 1
        self.done, self.last = 0, 0.0

    def step(self, n: int = 1) -> None:
        self.update(self.done + n, self.total)

    def update(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` (the total may become known only now)."""
        self.done, self.total = done, total
        self.enabled = self.stream.isatty() and total > 1
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.1 or self.done >= self.total):
            self.last = now
            width = 30
            filled = int(width * self.done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
