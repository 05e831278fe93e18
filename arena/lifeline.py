"""Child processes that die with their parent, even when the parent is killed with SIGKILL.

Call :func:`die_with_parent` first thing in a child (e.g. as a process pool's
``initializer``).  On Linux it asks the kernel for a parent-death signal
(``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes); elsewhere, or if that call
fails, a daemon thread polls the parent id once a second.  Either way a child whose
parent is already gone exits at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
POLL_S = 1.0


def _prctl_pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(POLL_S)


def die_with_parent(parent: int) -> None:
    """Make this process end when process ``parent`` (its parent's pid, read before the fork) ends."""
    if not _prctl_pdeathsig():
        log.debug("no parent-death signal on this platform; polling the parent id")
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="arena-lifeline").start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
