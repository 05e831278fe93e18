"""Plug-in agents for the run tests: infrastructure outages, downgrades, hangs, concurrency probes."""

from __future__ import annotations

import asyncio
import os
import time

from arena.agents.base import Decision, Turn
from arena.errors import InfrastructureError


class Outage:
    """Cooperates, except that while $ARENA_TEST_OUTAGE is set its 'provider' is down."""

    def act(self, turn: Turn) -> str:
        if os.environ.get("ARENA_TEST_OUTAGE"):
            raise InfrastructureError("provider unreachable after 4 attempts (test outage)")
        return turn.legal_actions[0] if turn.legal_actions else "hi"


class Downgrader:
    """Plays the first legal action but reports a silent fallback on every move."""

    def act(self, turn: Turn) -> Decision:
        return Decision(action=turn.legal_actions[0] if turn.legal_actions else "hi",
                        downgrades=["choice->generate: backend cannot score"])


class Hang:
    """A synchronous agent that never returns (blocks the thread it is called on)."""

    def act(self, turn: Turn) -> str:
        time.sleep(3600)
        return "C"


_in_flight: set[str] = set()


class InFlight:
    """Async; answers after ``delay`` s and records how many matches of this process were mid-move."""

    def __init__(self, delay: float = 0.3) -> None:
        self.delay = delay

    async def aact(self, turn: Turn) -> Decision:
        _in_flight.add(turn.match_id)
        seen = len(_in_flight)
        await asyncio.sleep(self.delay)
        _in_flight.discard(turn.match_id)
        return Decision(action=turn.legal_actions[0] if turn.legal_actions else "hi",
                        info={"pid": os.getpid(), "in_flight": seen})
