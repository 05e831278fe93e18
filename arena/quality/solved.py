"""Solved values of small board games (tic-tac-toe, small connect-four) by exact search.

Negamax over the game's own rules State with a transposition table keyed by the board:
the value of a position for the player to move is +1 (forced win), 0 (draw) or −1
(forced loss) under perfect play by both sides. A move's quality is the value of the
position before it against the value of the move itself (−value of the position after
it, for the mover); a *value-losing* move turns a win into a draw or loss, or a draw
into a loss. Boards above :data:`MAX_CELLS` cells are not solved (too big for an exact
search in Python).
"""

from __future__ import annotations

import sys
from typing import Any

from arena.games.base import State

MAX_CELLS = 16  # a 4x4 connect-four board solves in seconds, 4x5 takes minutes


def _key(state: Any) -> tuple:
    return tuple(map(tuple, state.grid))


def solvable(state: Any) -> bool:
    return hasattr(state, "grid") and len(state.grid) * len(state.grid[0]) <= MAX_CELLS


class Solver:
    """Exact values of positions of one game (the table is shared across matches)."""

    def __init__(self) -> None:
        self.table: dict[tuple, int] = {}
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def value(self, state: State) -> int:
        """Value for the player to move (+1, 0, −1); the returns of a finished game are from seat 0."""
        key = _key(state)
        if key in self.table:
            return self.table[key]
        player = state.to_move()[0]
        best = -2
        for action in state.legal_actions(player) or []:
            best = max(best, self.move_value(state, player, action))
            if best == 1:
                break
        self.table[key] = best
        return best

    def move_value(self, state: State, player: int, action: str) -> int:
        """Value of playing ``action`` for ``player``."""
        child = state.clone()
        child.apply(player, action)
        if child.is_terminal():
            score = child.returns()[player]
            return (score > 0) - (score < 0)
        return -self.value(child)


def move_quality(solver: Solver, state: State, player: int, action: str) -> dict[str, Any]:
    before = solver.value(state)
    after = solver.move_value(state, player, action)
    return {"kind": "solved", "value_before": before, "value_after": after, "loss": before - after,
            "value_losing": after < before}
