"""Worker processes that cannot outlive the process that forked them.

A build or a batch forks workers; if the parent is killed (SIGKILL, SIGTERM), workers
left running would keep working for no one (and, before POSIX locks, held the build
lock). ``die_with_parent`` runs first in every worker: on Linux the kernel sends it
SIGKILL when its parent exits (prctl PR_SET_PDEATHSIG); elsewhere a thread watches.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    parent = os.getppid()
    if not (sys.platform.startswith("linux") and _pdeathsig()):
        threading.Thread(target=_watch, args=(parent,), name="qabot-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _pdeathsig() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
