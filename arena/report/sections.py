"""The rating sections of the report as plain data (tables and charts) for the templates.

The numbers come from the results document (``arena leaderboard --json``: identical replicate
matches count once), so the report and the terminal never disagree; only a multi-player
game's own Plackett–Luce table is computed here, over the same distinct matches.

Leaderboard (Bradley–Terry ratings with 95% bootstrap intervals and rank intervals, W/D/L,
online Elo, per-agent move statistics), Plackett–Luce and OpenSkill when a game has more
than two players, observed and BT-predicted win-rate heatmaps, online Elo over the
schedule, one table per game spec, one table per analysis the games' hooks return
(:mod:`arena.games.analysis`; the games' metric columns join the leaderboards).  A table is
``{"heads", "rows", "id", "left"}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from arena.games.analysis import MetricColumn, cell
from arena.report import charts
from arena.tournaments.bt import MEAN
from arena.tournaments.headline import PAYOFF
from arena.tournaments.plackett import pl_leaderboard
from arena.tournaments.rating_options import RatingOptions
from arena.tournaments.ratings import Result, elo_history

MAX_POINTS = 400  # points per agent in the rating plot
COUNTS = ("forfeits", "errors", "downgrades")  # leaderboard columns shown when the rows have them


def describe_rating(rating: RatingOptions) -> str:
    """The fit in words, for the leaderboard's note."""
    where = rating.anchor or "the mean rating"
    return (f"Elo scale, {where} = 1500; 95% intervals and rank intervals from {rating.bootstrap} bootstrap "
            "resamples of whole distinct matches (identical replicate matches count once)"
            + ("; fitted with a first-seat advantage (see seat_advantage_elo in the results document)"
               if rating.seat_advantage else ""))


def table(heads: Sequence[str], rows: Sequence[Sequence[Any]], id_: str | None = None,
          left: Sequence[int] = (0,)) -> dict[str, Any]:
    """A table for the ``table`` macro; columns numbered in ``left`` hold text (left aligned)."""
    return {"heads": list(heads), "rows": [list(r) for r in rows], "id": id_, "left": list(left)}


def thin(points: list[tuple[int, float]], most: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most ``most`` evenly spaced points, always keeping the first and the last."""
    if len(points) <= most:
        return points
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


def document_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the results document (``arena leaderboard --json``) with their Bradley–Terry fields under the
    names the tables and the forest plot read: rating, ci_low, ci_high, rank (1 + agents rated strictly
    higher), rank_low, rank_high.  The report shows the document's numbers: no second fit."""
    rated = [r["bt"] for r in rows if "bt" in r]
    return [{**r, "rating": r["bt"], "ci_low": r["bt_ci"][0], "ci_high": r["bt_ci"][1],
             "rank": 1 + sum(b > r["bt"] for b in rated), "rank_low": r["rank_interval"][0],
             "rank_high": r["rank_interval"][1]} if "bt" in r else dict(r) for r in rows]


def num(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def rating_cells(row: dict[str, Any]) -> list[str]:
    if "rating" not in row:
        return ["–", "–", "–"]
    return [f"{row['rating']:.0f}", f"[{row['ci_low']:.0f}, {row['ci_high']:.0f}]",
            f"{row['rank']} ({row['rank_low']}–{row['rank_high']})"]


def shown_metrics(rows: Sequence[dict[str, Any]], metrics: Sequence[MetricColumn]) -> list[MetricColumn]:
    """The games' metric columns some row has a value for."""
    return [m for m in metrics if any(m.metric in r.get("metrics", {}) for r in rows)]


def metric_cells(row: dict[str, Any], metrics: Sequence[MetricColumn]) -> list[str]:
    return [m.text(row.get("metrics", {}).get(m.metric)) for m in metrics]


def leaderboard_section(rows: list[dict[str, Any]], rating: RatingOptions,
                        metrics: Sequence[MetricColumn] = ()) -> dict[str, Any]:
    """The pooled leaderboard, with the games' ``metrics`` columns after Elo."""
    metrics = shown_metrics(rows, metrics)
    counts = [k for k in COUNTS if any(k in r for r in rows)]  # counts other parts of arena may add
    heads = ["agent", "#", "BT rating", "95% CI", "rank (95%)", "games", "distinct", "W", "D", "L", "mean score",
             "Elo", *(m.label for m in metrics), "illegal", "fallback", "latency", "tokens", *counts]
    body = []
    for i, r in enumerate(rows, 1):
        body.append([r["agent"], str(i), *rating_cells(r), num(r, "games", "d"), num(r, "distinct", "d"),
                     num(r, "wins", "d"), num(r, "draws", "d"), num(r, "losses", "d"), num(r, "mean_score", ".2f"),
                     num(r, "elo", ".0f"), *metric_cells(r, metrics),
                     num(r, "illegal_rate", ".1%"), num(r, "fallback_rate", ".1%"),
                     "–" if "mean_latency" not in r else f"{r['mean_latency'] * 1000:.0f} ms",
                     num(r, "tokens", "d"), *(cell(r.get(k)) for k in counts)])
    note = (f"Bradley–Terry ratings: {describe_rating(rating)}. games: every match; distinct: those left when "
            "identical replicate matches count once. Elo: online, K=32, schedule order. illegal: refused "
            "answers / answers; fallback: moves decided by the fallback; latency: mean per answered move.")
    return {"table": table(heads, body, "leaderboard-table"),
            "chart": charts.forest([r for r in rows if "rating" in r]), "note": note}


def multiplayer_section(document: dict[str, Any]) -> dict[str, Any]:
    """Plackett–Luce (distinct matches) and OpenSkill (every match), as the results document has them."""
    pl = document["plackett_luce"]
    skill = {r["agent"]: r for r in document["openskill"]}
    heads = ["agent", "PL rating", "95% CI", "rank (95%)", "games", "OpenSkill μ", "σ", "ordinal μ−3σ"]
    body = [[r["agent"], *rating_cells(r), str(r["games"]), num(skill.get(r["agent"], {}), "mu", ".2f"),
             num(skill.get(r["agent"], {}), "sigma", ".2f"), num(skill.get(r["agent"], {}), "ordinal", ".2f")]
            for r in pl]
    note = ("Plackett–Luce reads each full ranking (ties averaged over their orders), same Elo scale and "
            "anchor as Bradley–Terry; OpenSkill (Weng–Lin Plackett–Luce) is online, in schedule order.")
    return {"table": table(heads, body, "pl-table"), "chart": charts.forest(pl), "note": note}


def heatmap_section(cells: Sequence[dict[str, Any]], order: list[str]) -> dict[str, Any] | None:
    """Observed and BT-predicted win rates, row agent against column agent, as the results document's
    ``win_matrix`` rows (``cells``) have them: the leaderboard's own fit, over the distinct matches.  A pair
    that never met is grey in both maps (the document predicts only pairs that played).  None under two
    agents."""
    met = {(c["agent"], c["opponent"]): c for c in cells}
    agents = [a for a in order if any(a in pair for pair in met)]
    if len(agents) < 2:
        return None
    pairs = [[met.get((a, b)) for b in agents] for a in agents]
    observed = [[math.nan if c is None else c["rate"] for c in row] for row in pairs]
    predicted = [[math.nan if c is None else c["predicted"] for c in row] for row in pairs]
    o_cap = [["" if a == b else "not played" if c is None else
              f"{c['rate']:.0%}\n[{c['low']:.0%}–{c['high']:.0%}]\nn={c['games']}" for b, c in zip(agents, row)]
             for a, row in zip(agents, pairs)]
    p_cap = [["" if a == b else "not played" if c is None else f"{c['predicted']:.0%}" for b, c in zip(agents, row)]
             for a, row in zip(agents, pairs)]
    note = ("Row agent against column agent, all seat orders, ties count 1/2; observed rate with its Wilson 95% "
            "interval and the number of games, beside the leaderboard's Bradley–Terry prediction (the same fit, "
            "over the distinct matches). Blue: row wins more; grey: never played.")
    return {"observed": charts.heatmap(agents, observed, o_cap, "observed win rate"),
            "predicted": charts.heatmap(agents, predicted, p_cap, "Bradley–Terry predicted"), "note": note}


def elo_section(results: list[Result]) -> Any:
    history = elo_history(results)
    final = {name: points[-1][1] for name, points in history.items()}
    series = {name: thin(history[name]) for name in sorted(final, key=lambda n: (-final[n], n))}
    return charts.lines(series, "matches played (schedule order)", "Elo", "online Elo after each match")


def _payoff_cell(row: dict[str, Any]) -> str:
    low, high = row["payoff_ci"]
    return f"{row['mean_payoff']:.2f} [{low:.2f}, {high:.2f}]"


def per_game_section(games: Sequence[dict[str, Any]], distinct: list[Result], rating: RatingOptions,
                     seed: int, slug: Callable[[str], str],
                     metrics: Callable[[str], Sequence[MetricColumn]] = lambda game: ()) -> list[dict[str, Any]]:
    """One section per game spec of the results document (``games``), ranked by its headline (mean payoff in a
    general-sum game, else the rating) as ``arena leaderboard`` ranks it, with the game's ``metrics(game)``
    columns; a game of more than two players adds Plackett–Luce over its ``distinct`` matches.  Table ids:
    ``game-SLUG-ratings`` and ``game-SLUG-pl``."""
    out = []
    for section in games:
        game, payoff = section["game"], section["headline"] == PAYOFF
        rows = document_rows(section["rows"])
        shown = shown_metrics(rows, metrics(game))
        heads = ["agent", "#", *(["mean payoff [95% CI]"] if payoff else []), "BT rating", "95% CI", "rank (95%)",
                 "games", "distinct", "W", "D", "L", "mean score", "Elo", *(m.label for m in shown)]
        body = [[r["agent"], str(i), *([_payoff_cell(r)] if payoff else []), *rating_cells(r),
                 num(r, "games", "d"), num(r, "distinct", "d"), num(r, "wins", "d"), num(r, "draws", "d"),
                 num(r, "losses", "d"), num(r, "mean_score", ".2f"), num(r, "elo", ".0f"), *metric_cells(r, shown)]
                for i, r in enumerate(rows, 1)]
        tables = [table(heads, body, f"game-{slug(game)}-ratings")]
        sub = [r for r in distinct if r[1] == game]
        if any(len(players) > 2 for _, _, players, _ in sub):
            present = any(p.name == rating.anchor for _, _, players, _ in sub for p in players)
            pl = pl_leaderboard(sub, n_boot=rating.bootstrap, seed=seed, anchor=rating.anchor if present else MEAN,
                                prior=rating.prior)
            tables.append(table(["agent", "PL rating", "95% CI", "rank (95%)", "games"],
                                [[r["agent"], *rating_cells(r), str(r["games"])] for r in pl], f"game-{slug(game)}-pl"))
        out.append({"game": game, "slug": slug(game), "matches": section["matches"], "distinct": section["distinct"],
                    "headline": section["headline"], "tables": tables})
    return out


def analysis_section(analyses: Sequence[dict[str, Any]], slug: Callable[[str], str]) -> list[dict[str, Any]]:
    """The games' analysis tables (the results document's ``analyses``), one HTML table each
    (id ``analysis-KEY``): the leading ``labels`` columns are text."""
    return [{"id": f"analysis-{slug(a['key'])}", "title": a["title"], "note": a.get("note", ""),
             "table": table(a["columns"], [[cell(v) for v in row] for row in a["rows"]], f"analysis-{slug(a['key'])}",
                            left=range(a.get("labels", 1)))} for a in analyses]


def generic(value: Any) -> dict[str, Any]:
    """Any JSON value as something the ``generic`` macro draws: a list of flat records becomes a
    table of the keys present, a mapping a key/value list, anything else its text (new keys of the
    results document show up without a change here)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        keys = list(dict.fromkeys(k for v in value for k in v))
        return {"kind": "table", "table": table(keys, [[cell(v.get(k)) for k in keys] for v in value],
                                                left=range(len(keys)))}
    if isinstance(value, dict):
        return {"kind": "map", "items": [(str(k), generic(v)) for k, v in value.items()]}
    return {"kind": "text", "text": cell(value)}
