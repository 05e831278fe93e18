"""Repeated matrix games as a round-by-round strip: both moves and both payoffs of every round played."""

from __future__ import annotations

from typing import Any

from arena.games.base import State


def frame(state: State, viewer: int | None) -> dict[str, Any]:
    table = state.table  # type: ignore[attr-defined]
    rounds = []
    totals = [0.0, 0.0]
    for n, (a, b) in enumerate(state.moves, 1):  # type: ignore[attr-defined]
        pay = table.cell(a, b)
        totals = [totals[0] + pay[0], totals[1] + pay[1]]
        rounds.append({"round": n, "moves": [a, b], "payoffs": [pay[0], pay[1]],
                       "cooperative": [m == table.cooperative for m in (a, b)]})
    messages = list(getattr(state, "messages", []))
    return {"rounds": rounds, "totals": totals, "of": state.rounds,  # type: ignore[attr-defined]
            "messages": [list(m) for m in messages]}
