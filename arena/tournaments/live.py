"""The live leaderboard of a run in progress: O(1) work per finished match.

Running W/D/L/forfeit/error counts and online Elo (the same update as
:func:`arena.tournaments.ratings.elo`, in finishing order) kept in memory; the sound
ratings (Bradley–Terry with bootstrap intervals) are fitted once, at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from arena.tournaments.ratings import COLUMN, elo_update, wdl
from arena.trajectory import Outcome, Player



@dataclass
class Row:
    agent: str
    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    forfeits: int = 0
    errors: int = 0


class LiveBoard:
    """Counts and online Elo per agent, updated match by match (safe to read from another thread)."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.elo: dict[str, float] = {}
        self.finished = 0
        self._lock = threading.Lock()

    def add(self, players: list[Player], outcome: Outcome) -> None:
        with self._lock:
            self.finished += 1
            for p in players:
                row = self.rows.setdefault(p.name, Row(p.name))
                if outcome.reason == "error":
                    row.errors += 1
                    continue
                row.games += 1
                field = COLUMN[wdl(outcome.ranks, p.seat)]
                setattr(row, field, getattr(row, field) + 1)
                row.forfeits += outcome.forfeited_by == p.seat
            if outcome.reason != "error":
                elo_update(self.elo, players, outcome)

    def seed(self, results: Iterable[tuple[Any, Any, list[Player], Outcome]]) -> None:
        """Start from a resumed run's stored results (once, before play)."""
        for _, _, players, outcome in results:
            self.add(players, outcome)

    def top(self, n: int = 10) -> list[tuple[Row, float]]:
        """The ``n`` best rows by online Elo: (counts, Elo)."""
        with self._lock:
            rows = [(row, self.elo.get(name, 1500.0)) for name, row in self.rows.items()]
        return sorted(rows, key=lambda r: (-r[1], r[0].agent))[:n]
