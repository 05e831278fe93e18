"""The results document of a run or a store: leaderboard, sound ratings, head-to-head pairs.

Everything here is recomputed from stored outcomes (ratings are pure functions).
Leaderboard rows carry the quick numbers (games, W/D/L, mean score, online Elo,
move statistics) and the Bradley–Terry rating with its 95% bootstrap interval and
rank interval; multi-player results add Plackett–Luce and OpenSkill views.
"""

from __future__ import annotations

from typing import Any

from arena.store import Store
from arena.tournaments.bt import MEAN, bt_leaderboard, fit_bt, win_matrix
from arena.tournaments.plackett import openskill_ratings, pl_leaderboard
from arena.tournaments.ratings import Result, leaderboard, pairs
from arena.tournaments.stats import agent_stats


def document(results: list[Result], stats: dict[str, dict[str, Any]] | None = None, run_id: str | None = None,
             anchor: str | None = None, seat_advantage: bool = False, n_boot: int = 1000,
             seed: int = 0) -> dict[str, Any]:
    rows = leaderboard(results)
    doc: dict[str, Any] = {"run_id": run_id, "leaderboard": rows, "pairs": pairs(results)}
    if not results:
        return doc
    names = {r["agent"] for r in rows}
    if anchor is not None and anchor not in names:
        raise ValueError(f"anchor {anchor!r} is not an agent of these results; valid: {', '.join(sorted(names))}")
    anchor = anchor or MEAN
    bt = {r["agent"]: r for r in bt_leaderboard(results, n_boot=n_boot, seed=seed, anchor=anchor,
                                                seat_advantage=seat_advantage)}
    for row in rows:
        row.update((stats or {}).get(row["agent"], {}))
        b = bt.get(row["agent"])
        if b:
            row.update({"bt": round(b["rating"], 1), "bt_ci": [round(b["ci_low"], 1), round(b["ci_high"], 1)],
                        "rank_interval": [b["rank_low"], b["rank_high"]]})
    rows.sort(key=lambda r: (-r.get("bt", r["elo"]), r["agent"]))
    fit = fit_bt(results, anchor=anchor, seat_advantage=seat_advantage)
    doc["anchor"] = anchor
    if seat_advantage:
        doc["seat_advantage_elo"] = fit.seat_advantage
    doc["win_matrix"] = win_matrix(results, fit).rows()
    if any(len(players) > 2 for _, _, players, _ in results):
        doc["plackett_luce"] = pl_leaderboard(results, n_boot=n_boot, seed=seed, anchor=anchor)
        doc["openskill"] = openskill_ratings(results)
    return doc


def store_document(store: Store, run_id: str | None = None, **options: Any) -> dict[str, Any]:
    return document(list(store.results(run_id)), agent_stats(store, run_id), run_id, **options)
