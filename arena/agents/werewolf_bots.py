"""Werewolf baselines.

- ``random-voter``: says nothing useful; every night/day choice uniformly at random.
- ``rule-seer``: as the seer, inspects players it has not checked yet and, by day,
  announces "I am the seer. PX is a werewolf." for every wolf it found, and votes for
  one; in any other role it plays like ``rule-villager``.
- ``rule-villager``: votes for the player most recently accused by a public seer
  claim ("I am the seer. PX is a werewolf."), else at random; as a wolf it never votes
  for a fellow wolf.
"""

from __future__ import annotations

import random
import re
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn

CLAIM = re.compile(r"I am the seer\. (P\d+) is a werewolf")


class RandomVoter:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> Decision:
        if turn.legal_actions is None:
            return Decision(action=self.speak(turn.data))
        return Decision(action=self.choose(turn.data, turn.legal_actions))

    def speak(self, data: dict[str, Any]) -> str:
        return "I have nothing to add."

    def choose(self, data: dict[str, Any], legal: list[str]) -> str:
        return self.rng.choice(legal)


class RuleVillager(RandomVoter):
    def choose(self, data: dict[str, Any], legal: list[str]) -> str:
        if data.get("phase") == "vote":
            accused = [m.group(1) for s in data.get("speeches", []) for m in CLAIM.finditer(s)]
            for name in reversed(accused):
                if name in legal and name not in data.get("wolves", []):
                    return name
            legal = [n for n in legal if n not in data.get("wolves", []) and n != "skip"] or legal
        return self.rng.choice(legal)


class RuleSeer(RuleVillager):
    def speak(self, data: dict[str, Any]) -> str:
        found = [n for n, r in data.get("inspections", {}).items() if r == "werewolf" and n in data["alive"]]
        if data.get("role") == "seer" and found:
            return " ".join(f"I am the seer. {n} is a werewolf." for n in found)
        return super().speak(data)

    def choose(self, data: dict[str, Any], legal: list[str]) -> str:
        if data.get("role") != "seer":
            return super().choose(data, legal)
        seen = data.get("inspections", {})
        if data.get("phase") == "vote":
            wolves = [n for n, r in seen.items() if r == "werewolf" and n in legal]
            return wolves[0] if wolves else super().choose(data, legal)
        fresh = [n for n in legal if n not in seen]
        return self.rng.choice(fresh or legal)


AGENTS = {
    "random-voter": AgentInfo(RandomVoter, {"seed": 0}, "werewolf: random choices, no real talk", ("werewolf",)),
    "rule-seer": AgentInfo(RuleSeer, {"seed": 0}, "werewolf: a seer that announces and votes the wolves it found", ("werewolf",)),
    "rule-villager": AgentInfo(RuleVillager, {"seed": 0}, "werewolf: votes with the seer's public claims", ("werewolf",)),
}
