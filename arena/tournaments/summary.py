"""The results document of a run or a store: leaderboard, sound ratings, head-to-head pairs.

Everything here is recomputed from stored outcomes (ratings are pure functions).
Leaderboard rows carry the quick numbers (games, W/D/L, mean score, online Elo,
move statistics) and the Bradley–Terry rating with its 95% bootstrap interval and
rank interval; multi-player results add Plackett–Luce and OpenSkill views. Ratings,
bootstraps and held-out fits count replicate matches once; ``games`` holds one section
per game with that game's headline (mean payoff or rating, :mod:`arena.tournaments.headline`).
What a game adds (its analysis tables and metric columns) comes from the game's own hooks
(:mod:`arena.tournaments.analyses`): no game is named here.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from arena.games.analysis import AnalysisOptions
from arena.store import Store
from arena.tournaments.analyses import metric_dicts, run_analyses
from arena.tournaments.bt import MEAN, fit_bt, win_matrix
from arena.tournaments.core import DEFAULT_PRIOR
from arena.tournaments.headline import normalised_scores
from arena.tournaments.pergame import game_sections, rating_fields
from arena.tournaments.plackett import openskill_ratings, pl_leaderboard
from arena.tournaments.rating_options import RatingOptions
from arena.tournaments.ratings import Result, leaderboard, pairs
from arena.tournaments.stats import agent_stats
from arena.tournaments.replicates import Stored, collapse, distinct_per_agent, replicate_groups, stored_results

# the document's own keys (an analysis table cannot take one)
RESERVED = ("run_id", "leaderboard", "pairs", "analyses", "metric_columns", "prior", "replicates", "anchor",
            "seat_advantage_elo", "win_matrix", "plackett_luce", "openskill", "games", "errors")


def document(results: list[Result], stats: dict[str, dict[str, Any]] | None = None, run_id: str | None = None,
             anchor: str | None = None, seat_advantage: bool = False, n_boot: int = 1000,
             seed: int = 0, prior: float = DEFAULT_PRIOR, keys: Sequence[Hashable] | None = None,
             seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """The results document. ``keys`` (one per result) mark replicates (equal keys = identical matches,
    see :mod:`arena.tournaments.replicates`; default: every match distinct); ``seeds`` pair the payoff
    bootstrap. Keys beside the pooled ``leaderboard``: ``prior``, ``replicates`` ({matches, distinct,
    groups}), ``games`` (one section per game, :mod:`arena.tournaments.pergame`); pooled rows add
    ``distinct`` and ``normalised_score``. Ratings, ``win_matrix`` and ``plackett_luce`` are computed
    from the distinct matches; W/D/L, mean scores and OpenSkill from every match. The games' hooks add
    ``metric_columns`` (leaderboard columns, also per game section), one key per analysis table (its
    data) and ``analyses`` (the tables as drawn: key, title, columns, rows, note, labels)."""
    RatingOptions(anchor, prior, n_boot, seat_advantage)  # a bad option is a ValueError before any fit
    rows = leaderboard(results)
    doc: dict[str, Any] = {"run_id": run_id, "leaderboard": rows, "pairs": pairs(results)}
    tables = run_analyses(results, AnalysisOptions(n_boot, seed, prior), RESERVED)
    doc.update((t.key, t.document_value()) for t in tables)
    if tables:
        doc["analyses"] = [t.as_dict() for t in tables]
    columns = metric_dicts([r[1] for r in results])
    if columns:
        doc["metric_columns"] = columns
    if not results:
        return doc
    names = {r["agent"] for r in rows}
    if anchor is not None and anchor not in names:
        raise ValueError(f"anchor {anchor!r} is not an agent of these results; valid: {', '.join(sorted(names))}")
    anchor = anchor or MEAN
    keys = list(keys) if keys is not None else list(range(len(results)))
    distinct, counts = collapse(results, keys)
    doc["prior"] = prior
    doc["replicates"] = {"matches": len(results), "distinct": len(distinct),
                         "groups": replicate_groups(distinct, counts)}
    bt = rating_fields(distinct, n_boot, seed, anchor, prior, seat_advantage)
    per_agent, normalised = distinct_per_agent(distinct), normalised_scores(results)
    for row in rows:
        row.update((stats or {}).get(row["agent"], {}))
        row.update(bt.get(row["agent"], {}))
        row["distinct"] = per_agent.get(row["agent"], 0)
        row["normalised_score"] = round(normalised.get(row["agent"], 0.0), 4)
    rows.sort(key=lambda r: (-r.get("bt", r["elo"]), r["agent"]))
    fit = fit_bt(distinct, anchor=anchor, seat_advantage=seat_advantage, prior=prior)
    doc["anchor"] = anchor
    if seat_advantage:
        doc["seat_advantage_elo"] = fit.seat_advantage
    doc["win_matrix"] = win_matrix(distinct, fit).rows()
    if any(len(players) > 2 for _, _, players, _ in results):
        doc["plackett_luce"] = pl_leaderboard(distinct, n_boot=n_boot, seed=seed, anchor=anchor, prior=prior)
        doc["openskill"] = openskill_ratings(results)
    doc["games"] = game_sections(results, keys, seeds, n_boot=n_boot, seed=seed, anchor=anchor, prior=prior)
    for section in doc["games"]:
        section["metric_columns"] = metric_dicts([section["game"]])
    return doc


def store_document(store: Store, run_id: str | None = None, stored: Stored | None = None,
                   **options: Any) -> dict[str, Any]:
    """:func:`document` of a store or run, with replicates marked, payoffs paired by seed, each
    game's rows carrying ``quality`` (the move quality of ``arena quality``, when judged), and
    ``errors``: per agent, its matches that ended as ``error`` (unrated, so in no other number;
    an agent with only errors is listed only here).  ``stored``: what :func:`stored_results`
    gave, when the caller has read it already (it hashes every step of every match)."""
    from arena.quality import summarise
    results, keys, seeds = stored if stored is not None else stored_results(store, run_id)
    doc = document(results, agent_stats(store, run_id), run_id, keys=keys, seeds=seeds, **options)
    quality = summarise(store, run_id)
    for section in doc.get("games", []):
        for row in section["rows"]:
            if row["agent"] in quality.get(section["game"], {}):
                row["quality"] = quality[section["game"]][row["agent"]]
    doc["errors"] = store.error_counts(run_id)
    return doc

