"""Ratings and leaderboards: pure functions of stored outcomes.

Online Elo (K=32, start 1500) in schedule order; an N-player result counts as
the N-1 pairwise results implied by the ranks, each with K/(N-1).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from arena.games.analysis import Result
from arena.trajectory import Outcome, Player


def elo_history(results: Iterable[Result], k: float = 32.0,
                start: float = 1500.0) -> dict[str, list[tuple[int, float]]]:
    """Online Elo of every agent after each match, in the order given (the store's schedule order):
    ``{agent: [(matches played so far in the whole run, rating), ...]}``, starting at ``start``."""
    ratings: dict[str, float] = {}
    history: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for n, (_, _, players, outcome) in enumerate(results, 1):
        for name in (p.name for p in players):
            if name not in ratings:
                history[name].append((n - 1, start))
        elo_update(ratings, players, outcome, k, start)
        for name in {p.name for p in players}:
            history[name].append((n, ratings[name]))
    return dict(history)


def elo_update(ratings: dict[str, float], players: list[Player], outcome: Outcome, k: float = 32.0,
               start: float = 1500.0) -> None:
    """Apply one match to the online Elo ``ratings`` in place (new agents start at ``start``): O(players^2)."""
    names = [p.name for p in players]
    for name in names:
        ratings.setdefault(name, start)
    scale = k / max(len(players) - 1, 1)
    delta: dict[str, float] = defaultdict(float)
    for a, b in itertools.combinations(range(len(players)), 2):
        ra, rb = outcome.ranks[players[a].seat], outcome.ranks[players[b].seat]
        expected = 1 / (1 + 10 ** ((ratings[names[b]] - ratings[names[a]]) / 400))
        actual = 1.0 if ra < rb else 0.5 if ra == rb else 0.0
        delta[names[a]] += scale * (actual - expected)
        delta[names[b]] -= scale * (actual - expected)
    for name, d in delta.items():
        ratings[name] += d


def elo(results: Iterable[Result], k: float = 32.0, start: float = 1500.0) -> dict[str, float]:
    """Final online Elo (K=32) after the results in the order given."""
    return {name: series[-1][1] for name, series in elo_history(results, k, start).items()}


def wdl(ranks: list[int], seat: int) -> str:
    """Win: best rank (shared with teammates is fine) while someone ranks worse; draw: all equal."""
    best = min(ranks)
    if ranks[seat] != best:
        return "loss"
    return "draw" if all(r == best for r in ranks) else "win"


POINTS = {"win": 1.0, "draw": 0.5, "loss": 0.0}
COLUMN = {"win": "wins", "draw": "draws", "loss": "losses"}  # a result -> its leaderboard column


def match_points(ranks: list[int], seat: int) -> float:
    """The seat's points in one match: 1 for a win, 1/2 for a draw, 0 for a loss (as :func:`wdl` says)."""
    return POINTS[wdl(ranks, seat)]


def leaderboard(results: list[Result]) -> list[dict[str, Any]]:
    """Rows sorted by Elo: agent, games, wins, draws, losses, mean_score, elo."""
    rows: dict[str, dict[str, Any]] = {}
    for _, _, players, outcome in results:
        for p in players:
            row = rows.setdefault(p.name, {"agent": p.name, "games": 0, "wins": 0, "draws": 0, "losses": 0,
                                           "score_sum": 0.0, "forfeits": 0})
            row["games"] += 1
            row[COLUMN[wdl(outcome.ranks, p.seat)]] += 1
            row["score_sum"] += outcome.scores[p.seat]
            row["forfeits"] += outcome.forfeited_by == p.seat
    ratings = elo(results)
    metrics = player_metrics(results)
    out = []
    for name, row in rows.items():
        score_sum = row.pop("score_sum")
        out.append({**row, "mean_score": score_sum / row["games"], "elo": round(ratings[name], 1),
                    "metrics": metrics.get(name, {})})
    return sorted(out, key=lambda r: (-r["elo"], r["agent"]))


def player_metrics(results: list[Result]) -> dict[str, dict[str, float]]:
    """Per-agent means of the games' per-player metrics (e.g. cooperation_rate), over matches."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _, _, players, outcome in results:
        for key, value in outcome.metrics.items():
            if isinstance(value, list) and len(value) == len(players):
                for p in players:
                    if isinstance(value[p.seat], (int, float)):
                        sums[p.name][key].append(float(value[p.seat]))
    return {name: {k: sum(v) / len(v) for k, v in keys.items()} for name, keys in sums.items()}


def pairs(results: list[Result]) -> list[dict[str, Any]]:
    """Head-to-head summary of two-player matches (agents in first-seen order)."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for _, _, players, outcome in results:
        if len(players) != 2:
            continue
        a, b = sorted(players, key=lambda p: p.name)
        row = table.setdefault((a.name, b.name), {"agent_a": a.name, "agent_b": b.name, "games": 0, "a_wins": 0,
                                                  "b_wins": 0, "draws": 0, "a_sum": 0.0, "b_sum": 0.0})
        row["games"] += 1
        result = wdl(outcome.ranks, a.seat)
        row[{"win": "a_wins", "loss": "b_wins", "draw": "draws"}[result]] += 1
        row["a_sum"] += outcome.scores[a.seat]
        row["b_sum"] += outcome.scores[b.seat]
    out = []
    for row in table.values():
        a_sum, b_sum = row.pop("a_sum"), row.pop("b_sum")
        out.append({**row, "a_mean_score": a_sum / row["games"], "b_mean_score": b_sum / row["games"]})
    return sorted(out, key=lambda r: (r["agent_a"], r["agent_b"]))
