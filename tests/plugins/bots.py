"""Agents used by the tests as plug-ins (loaded by import string)."""

from __future__ import annotations

import os
import time
from typing import Any

from arena.agents.base import Decision, Turn


class SlowCooperator:
    """Cooperates after a short sleep; logs each match it starts to $ARENA_TEST_LOG."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay

    def reset(self, match_info: dict[str, Any]) -> None:
        path = os.environ.get("ARENA_TEST_LOG")
        if path and match_info["player"] == 0:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(match_info["match_id"] + "\n")

    def act(self, turn: Turn) -> Decision:
        time.sleep(self.delay)
        return Decision(action=turn.legal_actions[0] if turn.legal_actions else "hello")


class Raiser:
    def act(self, turn: Turn) -> Decision:
        raise RuntimeError("boom inside the agent")


class Babbler:
    """Always answers something illegal."""

    def act(self, turn: Turn) -> str:
        return "I refuse to choose"


class LateDefector:
    """Says something illegal once per turn, then defects when told why."""

    def act(self, turn: Turn) -> str:
        return "D" if turn.feedback else "maybe"


class Sleeper:
    async def aact(self, turn: Turn) -> str:
        import asyncio
        await asyncio.sleep(5)
        return "C"


NOT_AN_AGENT = 42


SCRIPT_PAYLOAD = "<script>alert(1)</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
DOM_PAYLOAD = "<script>document.body.setAttribute('data-pwned','script')</script>"


class HtmlInjector:
    """Answers with HTML/script payloads to test that reports escape agent output: first a refused
    answer that is only a payload, then (told why) a payload followed by the last legal action, with
    payloads in the LLM messages and completion too; a free-text turn (cheap talk) gets a payload."""

    def __init__(self, note: str = "") -> None:
        self.note = note

    def act(self, turn: Turn) -> Decision:
        messages = [{"role": "system", "content": IMG_PAYLOAD}, {"role": "user", "content": turn.text}]
        if turn.legal_actions is None:
            action = f"{IMG_PAYLOAD} {DOM_PAYLOAD}"
        elif turn.feedback is None:
            action = SCRIPT_PAYLOAD
        else:
            action = f"{IMG_PAYLOAD} {turn.legal_actions[-1]}"
        return Decision(action=action, messages=messages, completion=DOM_PAYLOAD + action,
                        tokens_in=7, tokens_out=3, info={"note": self.note or IMG_PAYLOAD})
