"""Duplicate poker results: bb/100 and mbb/hand per agent with bootstrap intervals over groups.

A duplicate group is the set of matches that were dealt the same cards with the agents
rotated through the seats: same game (ignoring ``deal_seed``), same ``deal_seed`` metric
(recorded by ``holdem``, ``kuhn-poker`` and ``leduc-poker``) and the same set of agents.
Luck of the deal cancels inside a group, so whole groups are the unit of resampling:
each bootstrap replicate draws groups with replacement (per game) and recomputes every
agent's ``100 · Σ net / Σ hands`` over them.  ``net`` is in the game's unit: big blinds
in hold'em, the ante (1 chip) in Kuhn and Leduc.

Inputs are the ratings' ``Result`` tuples ``(idx, game, players, outcome)`` (e.g.
``Store.results(run_id)``); only matches whose outcome metrics carry ``net``,
``hands_played`` and ``deal_seed`` are used.  :func:`duplicate_table` is the poker games'
analysis hook (document key ``duplicate``: the rows of :func:`duplicate_leaderboard`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from arena.games.analysis import AnalysisOptions, AnalysisTable, Result, from_records, interval


def base_game(spec: str) -> str:
    """The game spec without its ``deal_seed`` parameter (the same game for every group)."""
    game, _, rest = spec.partition(":")
    kept = [item for item in rest.split(",") if item.strip() and item.partition("=")[0].strip() != "deal_seed"]
    return game + (":" + ",".join(kept) if kept else "")


def duplicate_groups(results: Iterable[Any]) -> dict[tuple[str, Any, tuple[str, ...]], list[Any]]:
    """(game, deal seed, agents) -> the results of that duplicate group."""
    groups: dict[tuple[str, Any, tuple[str, ...]], list[Any]] = defaultdict(list)
    for result in results:
        _, game, players, outcome = result
        metrics = outcome.metrics or {}
        if not {"net", "hands_played", "deal_seed"} <= set(metrics):
            continue
        groups[(base_game(game), metrics["deal_seed"], tuple(sorted({p.name for p in players})))].append(result)
    return dict(groups)


def duplicate_leaderboard(results: Iterable[Any], n_boot: int = 2000, seed: int = 0,
                          level: float = 0.95) -> list[dict[str, Any]]:
    """Rows per (game, agent), best first within a game: ``bb_per_100`` and ``mbb_per_hand``
    with ``level`` percentile intervals from a bootstrap over whole duplicate groups, and
    ``hands``, ``matches``, ``groups``, ``complete_groups`` (every seat rotation played)."""
    by_game: dict[str, list[tuple[tuple[Any, ...], list[Any]]]] = defaultdict(list)
    for key, members in sorted(duplicate_groups(results).items(), key=lambda kv: repr(kv[0])):
        by_game[key[0]].append((key, members))
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2
    rows: list[dict[str, Any]] = []
    for game, groups in sorted(by_game.items()):
        agents = sorted({name for key, _ in groups for name in key[2]})
        col = {a: i for i, a in enumerate(agents)}
        net = np.zeros((len(groups), len(agents)))
        hands = np.zeros((len(groups), len(agents)))
        matches = np.zeros((len(groups), len(agents)), dtype=int)
        complete = np.zeros(len(groups), dtype=bool)
        unit = "bb"
        for g, (key, members) in enumerate(groups):
            seatings = set()
            for _, _, players, outcome in members:
                unit = outcome.metrics.get("unit", unit)
                seatings.add(tuple(p.name for p in sorted(players, key=lambda p: p.seat)))
                for p in players:
                    net[g, col[p.name]] += float(outcome.metrics["net"][p.seat])
                    hands[g, col[p.name]] += float(outcome.metrics["hands_played"])
                    matches[g, col[p.name]] += 1
            size = len(members[0][2])
            complete[g] = len(seatings) >= size
        counts = rng.multinomial(len(groups), np.full(len(groups), 1 / len(groups)), size=n_boot)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = 100 * (counts @ net) / (counts @ hands)
        for a, name in enumerate(agents):
            total_hands = hands[:, a].sum()
            point = 100 * net[:, a].sum() / total_hands if total_hands else float("nan")
            low, high = np.nanquantile(boot[:, a], [tail, 1 - tail]) if np.isfinite(boot[:, a]).any() else (
                float("nan"), float("nan"))
            rows.append({"game": game, "agent": name, "unit": unit, "bb_per_100": point,
                         "ci_low": float(low), "ci_high": float(high), "mbb_per_hand": 10 * point,
                         "mbb_ci_low": 10 * float(low), "mbb_ci_high": 10 * float(high),
                         "hands": int(total_hands), "matches": int(matches[:, a].sum()),
                         "groups": int((matches[:, a] > 0).sum()),
                         "complete_groups": int(((matches[:, a] > 0) & complete).sum())})
    return sorted(rows, key=lambda r: (r["game"], -r["bb_per_100"], r["agent"]))


def duplicate_table(results: Sequence[Result], options: AnalysisOptions) -> AnalysisTable | None:
    """Analysis hook: bb/100 per agent of the duplicate matches (None when no match was duplicate)."""
    if not any(o.metrics.get("duplicate") for _, _, _, o in results):
        return None
    rows = duplicate_leaderboard(results, n_boot=options.n_boot, seed=options.seed)
    return from_records("duplicate", "duplicate poker: big blinds per 100 hands (95% CI over duplicate groups)",
                        rows, [("game", "game", ""), ("agent", "agent", ""), ("bb/100", "bb_per_100", ".1f"),
                               ("95% CI", interval("ci_low", "ci_high", ".1f"), ""),
                               ("mbb/hand", "mbb_per_hand", ".0f"), ("hands", "hands", ""),
                               ("groups", "groups", "")], labels=2,
                        note="a duplicate group: the same deals with the agents rotated through the seats")
