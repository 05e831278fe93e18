"""Ctrl-C for a running tournament: the first press asks the run to stop, the second exits now.

The first SIGINT sets a :class:`threading.Event` the runner watches: no new match starts,
moves in flight get a few seconds to finish, then their matches are cancelled (they stay
pending), the run is marked ``interrupted`` and :class:`Interrupted` is raised.  The second
SIGINT calls ``on_second`` (print the resume command) and ends the process at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from arena.errors import ArenaError

GRACE = 3.0  # seconds in-flight matches get to finish after the first Ctrl-C
EXIT_INTERRUPTED = 130  # the shell's code for "ended by SIGINT"


class Interrupted(ArenaError):
    """The run stopped on request; its unfinished matches are pending (``--resume`` plays them)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id


def resume_command(run_id: str, db: str) -> str:
    return f"arena run --resume {run_id} --db {db}"


@contextlib.contextmanager
def sigint_stops(on_first: Callable[[], None], on_second: Callable[[], None]) -> Iterator[threading.Event]:
    """While inside, the first SIGINT sets the yielded event (and calls ``on_first``); the second calls
    ``on_second`` and exits with status 130.  Outside the main thread nothing is installed."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            on_second()
            os._exit(EXIT_INTERRUPTED)  # at once: no waiting on threads an agent may hold
        stop.set()
        on_first()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
