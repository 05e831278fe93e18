"""One leaderboard section per game: its headline, what a win is, ratings, payoffs, fit, meta-game.

A section (JSON-ready dict) has the keys:

- ``game``, ``utility`` (from the game's metadata), ``headline`` ("mean payoff" for general-sum
  games, "rating" otherwise), ``win`` (what a win in the W/D/L columns means);
- ``matches`` (finished) and ``distinct`` (after collapsing replicates), ``replicates`` (the
  groups of identical matches with their multiplicity);
- ``rows``: one per agent, best first by the headline, with the pooled row's keys (games,
  wins, draws, losses, mean_score, elo, metrics, forfeits, ...) plus ``distinct``, ``rank``
  (by the headline), ``bt``, ``bt_ci``, ``rank_interval`` (Bradley–Terry, from distinct
  matches) and ``mean_payoff``, ``payoff_ci``, ``payoff_rank`` (bootstrap over seeds);
- ``fit``: the cross-validated log-loss/Brier of the ratings vs coin and per-pair models
  (:mod:`arena.tournaments.crossval`; None with too few matches);
- ``metagame``: Nash averaging, alpha-rank and rating/win-rate contradictions
  (:mod:`arena.tournaments.metagame`);
- ``warnings``: one line each (poor fit, contradictions).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from arena.tournaments.bt import bt_leaderboard, fit_bt, win_matrix
from arena.tournaments.core import DEFAULT_PRIOR, MEAN
from arena.tournaments.crossval import cross_validate
from arena.tournaments.headline import PAYOFF, game_utility, headline_of, payoff_rows, win_meaning
from arena.tournaments.metagame import metagame_views
from arena.tournaments.ratings import Result, leaderboard
from arena.tournaments.replicates import collapse, distinct_per_agent, replicate_groups


def rating_fields(distinct: Sequence[Result], n_boot: int, seed: int, anchor: str, prior: float,
                  seat_advantage: bool = False) -> dict[str, dict[str, Any]]:
    """Per agent: bt, bt_ci, rank_interval from the distinct matches."""
    rows = bt_leaderboard(distinct, n_boot=n_boot, seed=seed, anchor=anchor, prior=prior,
                          seat_advantage=seat_advantage)
    return {b["agent"]: {"bt": round(b["rating"], 1), "bt_ci": [round(b["ci_low"], 1), round(b["ci_high"], 1)],
                         "rank_interval": [b["rank_low"], b["rank_high"]]} for b in rows}


def game_section(game: str, results: Sequence[Result], keys: Sequence[Hashable], seeds: Sequence[int] | None,
                 *, n_boot: int = 1000, seed: int = 0, anchor: str = MEAN,
                 prior: float = DEFAULT_PRIOR) -> dict[str, Any]:
    utility = game_utility(game)
    headline = headline_of(utility)
    distinct, counts = collapse(results, keys)
    names = {p.name for _, _, players, _ in results for p in players}
    local_anchor = anchor if anchor in names else MEAN
    bt = rating_fields(distinct, n_boot, seed, local_anchor, prior)
    payoff = payoff_rows(results, seeds, n_boot=n_boot, seed=seed)
    per_agent = distinct_per_agent(distinct)
    rows = [{**row, "distinct": per_agent.get(row["agent"], 0), **bt.get(row["agent"], {}),
             **payoff.get(row["agent"], {})} for row in leaderboard(list(results))]
    if headline == PAYOFF:
        rows.sort(key=lambda r: (-r["mean_payoff"], r["agent"]))
        for row in rows:
            row["rank"] = row["payoff_rank"]
    else:
        rows.sort(key=lambda r: (-r.get("bt", r["elo"]), r["agent"]))
        for row in rows:
            row["rank"] = 1 + sum(other.get("bt", 0) > row.get("bt", 0) for other in rows)
    section: dict[str, Any] = {"game": game, "utility": utility, "headline": headline,
                               "win": win_meaning(game, utility), "matches": len(results),
                               "distinct": len(distinct), "replicates": replicate_groups(distinct, counts),
                               "rows": rows, "fit": cross_validate(distinct, seed=seed, prior=prior)}
    warnings = [section["fit"]["message"]] if section["fit"] and section["fit"]["poor_fit"] else []
    if len(names) >= 2:
        ratings = {a: b["bt"] for a, b in bt.items()}
        section["metagame"] = metagame_views(win_matrix(distinct, fit_bt(distinct, prior=prior)), ratings)
        warnings += section["metagame"]["contradictions"]
    section["warnings"] = warnings
    return section


def game_sections(results: Sequence[Result], keys: Sequence[Hashable], seeds: Sequence[int] | None,
                  **options: Any) -> list[dict[str, Any]]:
    """:func:`game_section` of every game in the results, by game spec."""
    out = []
    for game in sorted({r[1] for r in results}):
        at = [i for i, r in enumerate(results) if r[1] == game]
        out.append(game_section(game, [results[i] for i in at], [keys[i] for i in at],
                                None if seeds is None else [seeds[i] for i in at], **options))
    return out
