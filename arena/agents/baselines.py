"""Scripted baselines for repeated games, each behaving as its Axelrod-library namesake.

They read the structured observation (``turn.data``): ``my_moves``, ``their_moves``,
``cooperative`` and ``defective`` labels.  Outside repeated games (no history in
``turn.data``) every baseline plays a uniformly random legal action.
"""

from __future__ import annotations

import random
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn


class Scripted:
    """Base class: picks a move from the history; random where the rule does not apply."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self.rng = random.Random(seed)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{self._seed}:{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> Decision:
        data = turn.data
        if turn.legal_actions is None:
            return Decision(action="")
        if "their_moves" not in data:
            return Decision(action=self.rng.choice(turn.legal_actions))
        move = self.choose(data["my_moves"], data["their_moves"], data["cooperative"], data["defective"])
        return Decision(action=move if move in turn.legal_actions else self.rng.choice(turn.legal_actions))

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        raise NotImplementedError


class RandomAgent(Scripted):
    """Uniformly random legal action (Axelrod ``Random(0.5)`` on two actions)."""

    def act(self, turn: Turn) -> Decision:
        if turn.legal_actions is None:
            return Decision(action="")
        return Decision(action=self.rng.choice(turn.legal_actions))


class AlwaysCooperate(Scripted):
    """Axelrod ``Cooperator``."""

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        return c


class AlwaysDefect(Scripted):
    """Axelrod ``Defector``."""

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        return d


class TitForTat(Scripted):
    """Axelrod ``TitForTat``: cooperate first, then copy the opponent's last move."""

    first = "c"

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        if not theirs:
            return c if self.first == "c" else d
        return theirs[-1]


class SuspiciousTitForTat(TitForTat):
    """Axelrod ``SuspiciousTitForTat``: defect first, then copy."""

    first = "d"


class GrimTrigger(Scripted):
    """Axelrod ``Grudger``: cooperate until the opponent defects once, then defect forever."""

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        return d if d in theirs else c


class WinStayLoseShift(Scripted):
    """Axelrod ``WinStayLoseShift`` (Pavlov): cooperate first; cooperate iff both moves matched."""

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        if not mine:
            return c
        return c if mine[-1] == theirs[-1] else d


class Alternate(Scripted):
    """Axelrod ``Alternator``: C, D, C, D, ..."""

    def choose(self, mine: list[str], theirs: list[str], c: str, d: str) -> str:
        return c if len(mine) % 2 == 0 else d


_BASELINES: dict[str, tuple[type[Scripted], str]] = {
    "random": (RandomAgent, "uniformly random legal action"),
    "always-cooperate": (AlwaysCooperate, "always the cooperative action"),
    "always-defect": (AlwaysDefect, "always the defecting action"),
    "tit-for-tat": (TitForTat, "cooperate, then copy the opponent's last move"),
    "suspicious-tit-for-tat": (SuspiciousTitForTat, "defect, then copy the opponent's last move"),
    "grim-trigger": (GrimTrigger, "cooperate until the first defection, then defect forever"),
    "win-stay-lose-shift": (WinStayLoseShift, "Pavlov: repeat after a win, switch after a loss"),
    "alternate": (Alternate, "C, D, C, D, ..."),
}

AGENTS = {kind: AgentInfo(cls, {"seed": 0}, summary, () if kind == "random" else ("repeated",))
          for kind, (cls, summary) in _BASELINES.items()}
