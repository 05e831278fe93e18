"""Regret in repeated matrix games against the opponent's realised moves.

For each player: the payoff of the best *fixed* action against the sequence of moves the
opponent actually played, minus the payoff the player actually got (external regret), in
total and per round. Each step records the per-round regret of that round's choice: the
best payoff against the opponent's move of that round minus the payoff received.
"""

from __future__ import annotations

from typing import Any


def match_regret(final: Any) -> tuple[list[float], list[list[float]]]:
    """(total external regret per player, per-round instant regret per player) of a finished
    repeated matrix game (a state with ``table`` and ``moves``)."""
    table, moves = final.table, final.moves
    totals, instant = [], [[], []]

    def pay(player: int, mine: str, theirs: str) -> float:
        return (table.cell(mine, theirs) if player == 0 else table.cell(theirs, mine))[player]

    for player, actions in ((0, table.row_actions), (1, table.col_actions)):
        got = [pay(player, m[player], m[1 - player]) for m in moves]
        best_fixed = max(sum(pay(player, a, m[1 - player]) for m in moves) for a in actions)
        totals.append(best_fixed - sum(got))
        instant[player] = [max(pay(player, a, m[1 - player]) for a in actions) - g for m, g in zip(moves, got)]
    return totals, instant
