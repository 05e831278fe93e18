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
from arena.tournaments.teams import role_table, team_ratings


def document(results: list[Result], stats: dict[str, dict[str, Any]] | None = None, run_id: str | None = None,
             anchor: str | None = None, seat_advantage: bool = False, n_boot: int = 1000,
             seed: int = 0) -> dict[str, Any]:
    rows = leaderboard(results)
    doc: dict[str, Any] = {"run_id": run_id, "leaderboard": rows, "pairs": pairs(results)}
    if any(o.metrics.get("duplicate") for _, _, _, o in results):
        from arena.games.poker.duplicate import duplicate_leaderboard
        doc["duplicate"] = duplicate_leaderboard(results, n_boot=n_boot, seed=seed)
    if any("team" in o.metrics for _, _, _, o in results):
        doc["roles"] = role_table(results)
        doc["team_ratings"] = team_ratings(results, seed=seed)
    iterations = deal_price_by_iteration(results)
    if iterations:
        doc["iterations"] = iterations
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
    """The document of stored results, plus ``errors``: per agent, its matches that ended as
    ``error`` (unrated, so in no other number; an agent with only errors is listed only here)."""
    doc = document(list(store.results(run_id)), agent_stats(store, run_id), run_id, **options)
    doc["errors"] = store.error_counts(run_id)
    return doc


def deal_price_by_iteration(results: list[Result]) -> list[dict[str, Any]]:
    """Mean ± std deal price of the k-th game of each pair (games with a ``deal_price`` metric):
    shows whether successive games (e.g. with a critic's feedback) move the price."""
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    prices: dict[tuple[str, int], list[float]] = {}
    deals: dict[tuple[str, int], list[int]] = {}
    for _, game, players, outcome in results:
        if "deal_price" not in outcome.metrics:
            continue
        pair = (game, tuple(sorted(p.name for p in players)))
        k = seen[pair] = seen.get(pair, 0) + 1
        deals.setdefault((game, k), []).append(int(outcome.metrics.get("deal", 0)))
        if outcome.metrics["deal_price"] is not None:
            prices.setdefault((game, k), []).append(float(outcome.metrics["deal_price"]))
    rows = []
    for (game, k), made in sorted(deals.items()):
        p = prices.get((game, k), [])
        mean = sum(p) / len(p) if p else None
        std = (sum((x - mean) ** 2 for x in p) / (len(p) - 1)) ** 0.5 if len(p) > 1 and mean is not None else None
        rows.append({"game": game, "iteration": k, "matches": len(made), "deal_rate": sum(made) / len(made),
                     "mean_deal_price": mean, "std_deal_price": std})
    return rows
