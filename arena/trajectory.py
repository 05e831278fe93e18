"""The records of a match and their JSON form: the unit of storage, replay, rating, export."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Attempt:
    """One rejected answer: what the agent said, why it was refused, and what it cost."""

    text: str
    error: str
    completion: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency: float = 0.0


@dataclass
class Step:
    index: int
    player: int
    observation: str
    legal_actions: list[str] | None
    action: str
    raw: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    fallback: bool = False
    latency: float = 0.0
    messages: list[dict[str, str]] | None = None
    completion: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    rewards: list[float] = field(default_factory=list)
    #: The agent's silent fallbacks for this move (``Decision.downgrades``), one reason each.
    downgrades: list[str] = field(default_factory=list)


def step_to_dict(step: Step) -> dict[str, Any]:
    data = dict(step.__dict__)
    data["attempts"] = [dict(a.__dict__) for a in step.attempts]
    return data


def step_from_dict(data: dict[str, Any]) -> Step:
    return Step(**{**data, "attempts": [Attempt(**a) for a in data.get("attempts", [])]})


@dataclass
class Player:
    seat: int
    name: str
    spec: str


@dataclass
class Outcome:
    scores: list[float]
    ranks: list[int]
    #: normal (the rules ended it) | forfeit (the agent failed; rated) |
    #: error (the infrastructure failed, or --strict saw a downgrade: unrated, replayed by --resume)
    reason: str = "normal"
    forfeited_by: int | None = None
    detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trajectory:
    match_id: str
    game: str
    game_config: dict[str, Any]
    seed: int
    players: list[Player]
    steps: list[Step] = field(default_factory=list)
    outcome: Outcome | None = None
    started: float = 0.0
    finished: float = 0.0

    def to_dict(self, steps: bool = True) -> dict[str, Any]:
        """Plain JSON-ready data (shallow: nested dicts/lists are shared, not copied)."""
        data = dict(self.__dict__)
        data["players"] = [dict(p.__dict__) for p in self.players]
        data["steps"] = [step_to_dict(s) for s in self.steps] if steps else []
        data["outcome"] = dict(self.outcome.__dict__) if self.outcome else None
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Trajectory":
        steps = [step_from_dict(s) for s in data.get("steps", [])]
        outcome = Outcome(**data["outcome"]) if data.get("outcome") else None
        return cls(**{**data, "players": [Player(**p) for p in data["players"]],
                      "steps": steps, "outcome": outcome})

    @classmethod
    def from_json(cls, text: str) -> "Trajectory":
        return cls.from_dict(json.loads(text))
