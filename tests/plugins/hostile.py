"""Misbehaving plug-in agents, for the hardening tests (each answers C/D-style games)."""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import time
from typing import Any

from arena.agents.base import Decision, Turn

BIG = 10 * 2**20  # a 10 MB completion


def first_legal(turn: Turn) -> str:
    return turn.legal_actions[0] if turn.legal_actions else "hello"


class Exiter:
    """Calls sys.exit() on its second move."""

    def act(self, turn: Turn) -> str:
        if turn.step >= 2:
            sys.exit(0)
        return first_legal(turn)


class HardExiter:
    def act(self, turn: Turn) -> str:
        os._exit(3)


class Segfaulter:
    def act(self, turn: Turn) -> str:
        ctypes.string_at(0)
        return "C"


class MemoryHog:
    def act(self, turn: Turn) -> str:
        hoard = [bytearray(2**30) for _ in range(64)]  # 64 GiB: past any memory_mb cap
        return first_legal(turn) if hoard else "D"


class SleepForever:
    """A synchronous agent that never returns."""

    def act(self, turn: Turn) -> str:
        time.sleep(10**6)
        return "C"


class ResetRaiser:
    def reset(self, match_info: dict[str, Any]) -> None:
        raise RuntimeError("cannot reset")

    def act(self, turn: Turn) -> str:
        return "C"


class FinishRaiser:
    def act(self, turn: Turn) -> str:
        return "D"

    def finish(self, result: dict[str, Any]) -> None:
        raise RuntimeError("cannot finish")


class Mutator:
    """Mutates everything it is handed, then answers legally."""

    def act(self, turn: Turn) -> str:
        legal = turn.legal_actions
        answer = first_legal(turn)
        if legal is not None:
            legal.clear()
            legal.append("(no message)")
        for value in turn.data.values():
            if isinstance(value, list):
                value.append("X")
                value.clear() if len(value) > 3 else None
            if isinstance(value, dict):
                value.clear()
        turn.data["poison"] = True
        turn.data.clear()
        turn.text = "poisoned"
        if turn.state is not None:
            turn.state.__dict__.clear()
        return answer


class Verbose:
    """A legal move with a 10 MB completion, repeated in its messages."""

    def act(self, turn: Turn) -> Decision:
        text = "C" * BIG
        return Decision(action=first_legal(turn), completion=text,
                        messages=[{"role": "user", "content": "go"}, {"role": "assistant", "content": text}])


class BadInfo:
    def act(self, turn: Turn) -> Decision:
        return Decision(action=first_legal(turn), info={"x": object()})


class BadTokens:
    def act(self, turn: Turn) -> Decision:
        return Decision(action=first_legal(turn), tokens_in="many", messages="not a list")  # type: ignore[arg-type]


class Spy:
    """Hunts the process for hidden state: every object of a game State class and every frame's
    locals; answers legally and reports what it found in ``info["found"]``."""

    def act(self, turn: Turn) -> Decision:
        found: list[str] = []
        for obj in gc.get_objects():
            mod = getattr(type(obj), "__module__", None) or ""
            if mod.startswith("arena.games") and hasattr(obj, "legal_actions") and obj is not turn.state:
                found.append(f"{type(obj).__name__}: {_secrets_of(obj)}")
        frame = sys._getframe()
        while frame is not None:
            for value in list(frame.f_locals.values()):
                if (getattr(type(value), "__module__", None) or "").startswith("arena.games") \
                        and value is not turn.state:
                    found.append(f"frame {frame.f_code.co_name}: {type(value).__name__}")
            frame = frame.f_back
        return Decision(action=first_legal(turn), info={"found": found[:20]})


def _secrets_of(state: Any) -> str:
    roles = getattr(state, "roles", None)
    return repr(roles)[:200] if roles is not None else type(state).__name__


class Keyed:
    """Echoes its own key-like parameter in everything it answers (it must be redacted everywhere)."""

    def __init__(self, token: str = "", endpoint: str = "", **_: Any) -> None:
        self.token, self.endpoint = token, endpoint

    def act(self, turn: Turn) -> Decision:
        said = f"my token is {self.token}, my endpoint {self.endpoint}"
        return Decision(action=first_legal(turn), completion=said, messages=[{"role": "assistant", "content": said}],
                        info={"token": self.token, self.token: "as a key"}, downgrades=[said])


class Counting:
    """Sleeps forever in-process; counts how often it was called (class attribute)."""

    calls = 0

    def act(self, turn: Turn) -> str:
        type(self).calls += 1
        time.sleep(10**6)
        return "C"


class Peeker:
    """A search-style agent (needs_state): reports the class of the state it was handed."""

    needs_state = True

    def act(self, turn: Turn) -> Decision:
        return Decision(action=first_legal(turn), info={"state": type(turn.state).__name__})
