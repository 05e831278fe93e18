"""Repeated matrix games.

Card
- Players: 2 (row = player 0, column = player 1).
- Actions: one label per matrix row/column, chosen simultaneously and hidden until
  both chose.  Optional cheap talk: before each move both send a free-text message.
- Observation: the payoff table from the player's side, the round, the history of
  both moves and payoffs (and messages), nothing pending.
- Scoring: sum of per-round payoffs.  Metrics: mean payoff per round, cooperation
  rate (share of moves on the game's cooperative label), coordination rate.
- Setup: "Playing repeated games with Large Language Models" (Akata et al., 2023):
  10 rounds, payoffs shown as points; presets ``akata-prisoners-dilemma`` and
  ``akata-battle-of-the-sexes`` with their (8,8)(0,10)(10,0)(5,5) and
  (10,7)(0,0)(0,0)(7,10) tables and J/F labels (order randomised per match).
- Version 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from arena.games.analysis import MetricColumn
from arena.games.base import IllegalAction, State

#: The repeated games' leaderboard column: how often an agent played the cooperative move.
COOPERATION = MetricColumn("cooperation_rate", "coop", "percent")

Cell = tuple[float, float]
NO_MESSAGE = "(no message)"


@dataclass(frozen=True)
class Table:
    """An NxM bimatrix: ``payoffs[r][c] = (row payoff, column payoff)``."""

    name: str
    row_actions: tuple[str, ...]
    col_actions: tuple[str, ...]
    payoffs: tuple[tuple[Cell, ...], ...]
    cooperative: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.payoffs) != len(self.row_actions) or any(
                len(row) != len(self.col_actions) for row in self.payoffs):
            raise ValueError(f"payoff table of {self.name!r} must be {len(self.row_actions)}x"
                             f"{len(self.col_actions)} (rows x columns)")
        if len(set(self.row_actions)) != len(self.row_actions) or len(set(self.col_actions)) != len(self.col_actions):
            raise ValueError(f"action labels of {self.name!r} must be distinct")
        bad = [x for row in self.payoffs for cell in row for x in cell if not math.isfinite(x)]
        if bad:
            raise ValueError(f"payoff table of {self.name!r}: payoffs must be finite numbers, got {bad[0]}")

    def cell(self, row: str, col: str) -> Cell:
        return self.payoffs[self.row_actions.index(row)][self.col_actions.index(col)]


def symmetric(name: str, labels: tuple[str, str], r: float, s: float, t: float, p: float,
              description: str = "") -> Table:
    """2x2 symmetric game in R,S,T,P form, first label = cooperate."""
    a, b = labels
    return Table(name, labels, labels, (((r, r), (s, t)), ((t, s), (p, p))), a, description)


@dataclass
class MatrixState(State):
    """A repeated bimatrix game, optionally with a cheap-talk message before each move."""

    table: Table = field(default=None)  # type: ignore[assignment]
    rounds: int = 10
    cheap_talk: bool = False
    seed: int | None = None

    def __post_init__(self) -> None:
        State.__init__(self, 2, self.seed)
        if self.rounds < 1:
            raise ValueError("rounds must be at least 1")
        self.game_id = self.table.name
        vocab = list(dict.fromkeys(self.table.row_actions + self.table.col_actions))
        self.action_vocab = tuple(vocab + ([NO_MESSAGE] if self.cheap_talk else []))
        self.free_text_default = NO_MESSAGE
        self.moves: list[tuple[str, str]] = []
        self.messages: list[tuple[str, str]] = []
        self.pending: dict[int, str] = {}
        self.talking = self.cheap_talk
        self.totals = [0.0, 0.0]

    def _actions(self, player: int) -> tuple[str, ...]:
        return self.table.row_actions if player == 0 else self.table.col_actions

    def to_move(self) -> list[int]:
        if len(self.moves) >= self.rounds:
            return []
        return [p for p in (0, 1) if p not in self.pending]

    def legal_actions(self, player: int) -> list[str] | None:
        return None if self.talking else list(self._actions(player))

    def legal_set(self, player: int) -> tuple[str, ...] | None:
        return None if self.talking else self.table.row_actions if player == 0 else self.table.col_actions

    def parse(self, player: int, text: str) -> str:
        if self.talking:
            message = " ".join(text.split())[:500]
            return message or NO_MESSAGE
        return super().parse(player, text)

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction(f"player {player} is not to move")
        if not self.talking and action not in self._actions(player):
            raise IllegalAction(f"{action!r} is not one of {', '.join(self._actions(player))}")
        self.pending[player] = action
        if len(self.pending) < 2:
            return
        pair = (self.pending[0], self.pending[1])
        self.pending = {}
        if self.talking:
            self.messages.append(pair)
            self.talking = False
            return
        self.moves.append(pair)
        payoff = self.table.cell(*pair)
        self.totals = [self.totals[0] + payoff[0], self.totals[1] + payoff[1]]
        self.talking = self.cheap_talk and len(self.moves) < self.rounds

    def returns(self) -> list[float]:
        return list(self.totals)

    # --- text ---------------------------------------------------------------
    def rules_text(self, player: int) -> str:
        mine, theirs = self._actions(player), self._actions(1 - player)
        lines = [f"You are playing a repeated game ({self.table.name}) for {self.rounds} rounds "
                 "against another player. In each round you both choose an option at the same time, "
                 "without seeing the other's choice. Your goal is to earn as many points as possible.",
                 "Points per round (you, other player):"]
        for a in mine:
            for b in theirs:
                cell = self.table.cell(a, b) if player == 0 else self.table.cell(b, a)
                you, other = (cell[0], cell[1]) if player == 0 else (cell[1], cell[0])
                lines.append(f"- you choose {a}, the other chooses {b}: you get {you:g}, they get {other:g}")
        if self.cheap_talk:
            lines.append("Before each choice you may each send one short message to the other player.")
        lines.append(f"When asked to choose, answer with exactly one of: {', '.join(mine)}.")
        return "\n".join(lines)

    def observation(self, player: int) -> str:
        other = 1 - player
        lines = []
        for i, pair in enumerate(self.moves):
            cell = self.table.cell(*pair)
            if i < len(self.messages):
                lines.append(f"Round {i + 1} messages: you said \"{self.messages[i][player]}\"; "
                             f"the other player said \"{self.messages[i][other]}\"")
            lines.append(f"Round {i + 1}: you chose {pair[player]}, the other player chose {pair[other]}; "
                         f"you got {cell[player]:g}, they got {cell[other]:g}")
        rnd = len(self.moves) + 1
        if len(self.moves) >= self.rounds:
            lines.append(f"The game is over. Your total: {self.totals[player]:g}; "
                         f"the other player's total: {self.totals[other]:g}.")
        elif self.talking:
            lines.append(f"Round {rnd} of {self.rounds}: write one short message to the other player.")
        else:
            if len(self.messages) >= rnd:
                lines.append(f"Round {rnd} messages: you said \"{self.messages[-1][player]}\"; "
                             f"the other player said \"{self.messages[-1][other]}\"")
            lines.append(f"Round {rnd} of {self.rounds}: choose one of {', '.join(self._actions(player))}.")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"round": "this round (1-based)", "rounds": "rounds in the match",
                 "talking": "whether this is a cheap-talk step", "actions": "your action labels",
                 "cooperative": "the cooperative label", "defective": "the other label",
                 "my_moves": "your past moves", "their_moves": "the opponent's past moves",
                 "my_payoffs": "your past payoffs"}

    def observation_data(self, player: int) -> dict[str, Any]:
        other = 1 - player
        actions = list(self._actions(player))
        cooperative = self.table.cooperative if self.table.cooperative in actions else actions[0]
        return {"round": len(self.moves) + 1, "rounds": self.rounds, "talking": self.talking,
                "actions": actions, "cooperative": cooperative,
                "defective": next(a for a in actions if a != cooperative),
                "my_moves": [m[player] for m in self.moves],
                "their_moves": [m[other] for m in self.moves],
                "my_payoffs": [self.table.cell(*m)[player] for m in self.moves]}

    def metrics(self) -> dict[str, Any]:
        moves, table = self.moves, self.table
        played = len(moves)
        n = played or 1
        out: dict[str, Any] = {"rounds_played": played,
                               "mean_payoff": [self.totals[0] / n, self.totals[1] / n],
                               # rounds on a (row i, column i) pair: one C-level count per diagonal cell
                               "coordination_rate": sum(map(moves.count, zip(table.row_actions,
                                                                              table.col_actions))) / n}
        if table.cooperative is not None:
            rows, cols = zip(*moves) if moves else ((), ())
            out["cooperation_rate"] = [rows.count(table.cooperative) / n, cols.count(table.cooperative) / n]
        return out
