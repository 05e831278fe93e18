"""Repeated N-player public-goods game.

Card
- Players: N (param ``players``, default 4).
- Actions: each round every player secretly contributes a whole number of tokens
  0..endowment ("0".."10" by default), simultaneously.
- Payoff per round: ``endowment - own contribution + multiplier * total / N``.
- Observation: the rules, past rounds' contributions of everyone (public), own payoffs.
- Metrics: mean payoff, cooperation rate (mean contribution / endowment).
- Setup: the linear public-goods game of experimental economics (Ledyard 1995);
  defaults endowment 10, multiplier 1.6, 10 rounds.  Version 1.
"""

from __future__ import annotations

from typing import Any

from arena.games.base import GameInfo, IllegalAction, State
from arena.games.matrix import COOPERATION


class PublicGoodsState(State):
    game_id = "public-goods"

    def __init__(self, seed: int | None = None, players: int = 4, endowment: int = 10,
                 multiplier: float = 1.6, rounds: int = 10) -> None:
        if players < 2:
            raise ValueError("public-goods needs at least 2 players")
        if endowment < 1 or rounds < 1:
            raise ValueError("endowment and rounds must be at least 1")
        super().__init__(players, seed)
        self.endowment, self.multiplier, self.rounds = endowment, multiplier, rounds
        self.action_vocab = tuple(str(i) for i in range(endowment + 1))
        self.history: list[list[int]] = []
        self.pending: dict[int, int] = {}
        self.totals = [0.0] * players

    def to_move(self) -> list[int]:
        if len(self.history) >= self.rounds:
            return []
        return [p for p in range(self.num_players) if p not in self.pending]

    def legal_actions(self, player: int) -> list[str] | None:
        return list(self.action_vocab)

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move() or action not in self.action_vocab:
            raise IllegalAction(f"contribute a whole number from 0 to {self.endowment}")
        self.pending[player] = int(action)
        if len(self.pending) == self.num_players:
            row = [self.pending[p] for p in range(self.num_players)]
            self.pending = {}
            self.history.append(row)
            share = self.multiplier * sum(row) / self.num_players
            self.totals = [t + self.endowment - c + share for t, c in zip(self.totals, row)]

    def returns(self) -> list[float]:
        return list(self.totals)

    def rules_text(self, player: int) -> str:
        n = self.num_players
        return (f"You are player {player + 1} of {n} in a public-goods game of {self.rounds} rounds. "
                f"Each round everyone receives {self.endowment} tokens and secretly chooses how many to put "
                f"into a common pot. The pot is multiplied by {self.multiplier:g} and shared equally among "
                f"all {n} players; tokens you keep are yours. Your goal is to earn as many tokens as possible. "
                f"Answer with a whole number from 0 to {self.endowment}.")

    def observation(self, player: int) -> str:
        lines = []
        for i, row in enumerate(self.history):
            others = ", ".join(f"player {p + 1}: {c}" for p, c in enumerate(row) if p != player)
            lines.append(f"Round {i + 1}: you put {row[player]}; others put {others}; pot {sum(row)}.")
        if len(self.history) >= self.rounds:
            lines.append(f"The game is over. Your total: {self.totals[player]:g} tokens.")
        else:
            lines.append(f"Round {len(self.history) + 1} of {self.rounds}: how many tokens (0-{self.endowment}) "
                         "do you put into the pot?")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"round": "this round (1-based)", "rounds": "rounds in the match",
                 "actions": "the contributions you may make", "cooperative": "contributing everything",
                 "defective": "contributing nothing", "my_moves": "your past contributions",
                 "their_moves": "the others' mean past contribution, per round"}

    def observation_data(self, player: int) -> dict[str, Any]:
        return {"round": len(self.history) + 1, "rounds": self.rounds, "actions": list(self.action_vocab),
                "cooperative": str(self.endowment), "defective": "0",
                "my_moves": [str(r[player]) for r in self.history],
                "their_moves": [str(round(sum(c for p, c in enumerate(r) if p != player) /
                                          (self.num_players - 1))) for r in self.history]}

    def metrics(self) -> dict[str, Any]:
        n = max(len(self.history), 1)
        return {"rounds_played": len(self.history),
                "mean_payoff": [t / n for t in self.totals],
                "cooperation_rate": [sum(r[p] for r in self.history) / (n * self.endowment)
                                     for p in range(self.num_players)]}


GAMES = {"public-goods": GameInfo(
    "public-goods", PublicGoodsState, {"players": 4, "endowment": 10, "multiplier": 1.6, "rounds": 10},
    "repeated N-player linear public-goods game", players="N", dynamics="simultaneous", utility="general-sum",
    metric_columns=(COOPERATION,))}
