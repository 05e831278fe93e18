"""The leaderboard on the terminal: one table per game (its headline first), the overall table on request.

Mounted on the main app by :func:`mount` (commands ``leaderboard``, ``compare`` and
``quality``); :func:`print_document` prints a results document (``arena run``,
``arena leaderboard``, ``arena rate``).  What the games add is drawn as it comes: their
metric columns (``metric_columns``) in the leaderboards, one table per analysis (``analyses``).
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from arena import jsonsafe
from arena.cli_options import GENERATED, command
from arena.console import db_option, fail, json_flag, out, run_option
from arena.games.analysis import MetricColumn, cell
from arena.store import Store, StoreError
from arena.tournaments.core import DEFAULT_PRIOR
from arena.tournaments.rating_options import RatingOptions
from arena.tournaments.summary import store_document


def _ci(low: float, high: float, fmt: str) -> str:
    return f"[{format(low, fmt)}, {format(high, fmt)}]"


def _bt(row: dict[str, Any]) -> str:
    return f"{row['bt']:.0f} {_ci(*row['bt_ci'], '.0f')}" if "bt" in row else "-"


Column = str | MetricColumn  # a move-statistics column, or a game's metric column


def _moves(row: dict[str, Any], columns: list[Column]) -> list[str]:
    cells = {"illegal": f"{row.get('illegal_rate', 0):.1%}", "fallback": f"{row.get('fallback_rate', 0):.1%}",
             "latency": f"{row.get('mean_latency', 0) * 1000:.0f} ms", "tokens": str(row.get("tokens", 0)),
             "move quality": _quality(row.get("quality")), "forfeits": str(row.get("forfeits", 0)),
             "errors": str(row.get("errors", 0)), "downgrades": str(row.get("downgrades", 0))}
    return [c.text(row.get("metrics", {}).get(c.metric)) if isinstance(c, MetricColumn) else cells[c]
            for c in columns]


def _quality(summary: dict[str, Any] | None) -> str:
    """A judged agent's move quality in a few characters; each judge's own words (:mod:`arena.quality`)."""
    if not summary:
        return "-"
    from arena.quality import describe
    return describe(summary)


def _label(column: Column) -> str:
    return column.label if isinstance(column, MetricColumn) else column


def move_columns(rows: list[dict[str, Any]], metrics: list[dict[str, str]] | None = None) -> list[Column]:
    """The columns worth showing: the games' metric columns (``metrics``, the document's
    ``metric_columns``) some agent has a value for, the LLM columns where any agent has a
    non-zero value."""
    cols: list[Column] = [MetricColumn(**m) for m in metrics or []
                          if any(m["metric"] in r.get("metrics", {}) for r in rows)]
    keys = {"illegal": "illegal_rate", "fallback": "fallback_rate", "latency": "mean_latency", "tokens": "tokens"}
    # forfeits, errors and downgrades always show: a crash, a provider failure or a silent fallback is never hidden
    return cols + [c for c, k in keys.items() if any(r.get(k) for r in rows)] + ["forfeits", "errors", "downgrades"]


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for col in columns:
        table.add_column(col, justify="left" if col == "agent" else "right")
    return table


def game_table(section: dict[str, Any], stats: dict[str, dict[str, Any]]) -> Table:
    """One game's table: the headline column first (mean payoff or rating), then the other view;
    Nash averaging and alpha-rank beside the ratings of win/lose games."""
    payoff_first = section["headline"] == "mean payoff"
    rows = [{**stats.get(r["agent"], {}), **r} for r in section["rows"]]
    extra = move_columns(rows, section.get("metric_columns")) + (["move quality"] if any(r.get("quality") for r in rows)
                                                                 else [])
    meta = {r["agent"]: r for r in section.get("metagame", {}).get("nash", [])}
    alpha = {r["agent"]: r["mass"] for r in section.get("metagame", {}).get("alpharank", [])}
    title = (f"{section['game'] or 'results'} — {section['utility']}: ranked by {section['headline']} "
             f"({section['matches']} matches, {section['distinct']} distinct)")
    head = (["mean payoff [95% CI]", "BT [95% CI]"] if payoff_first
            else ["BT [95% CI]", "rank", "Nash p", "α-rank", "mean payoff"])
    table = _table(title, ["#", "agent", *head, "games", "distinct", "W", "D", "L", *map(_label, extra)])
    for row in rows:
        if payoff_first:
            cells = [f"{row['mean_payoff']:.2f} {_ci(*row['payoff_ci'], '.2f')}", _bt(row)]
        else:
            nash = meta.get(row["agent"])
            cells = [_bt(row), "{}-{}".format(*row["rank_interval"]) if "rank_interval" in row else "-",
                     "-" if nash is None else f"{nash['mass']:.2f}",
                     "-" if row["agent"] not in alpha else f"{alpha[row['agent']]:.2f}", f"{row['mean_payoff']:.2f}"]
        table.add_row(str(row["rank"]), escape(row["agent"]), *cells, str(row["games"]), str(row["distinct"]),
                      str(row["wins"]), str(row["draws"]), str(row["losses"]), *_moves(row, extra))
    return table


def overall_table(document: dict[str, Any]) -> Table:
    rows = document["leaderboard"]
    extra = move_columns(rows, document.get("metric_columns"))
    table = _table(f"overall — run {document['run_id'] or 'all'} (all games pooled; scores normalised per game)",
                   ["#", "agent", "games", "distinct", "W", "D", "L", "norm. score", "BT [95% CI]", "rank", "Elo",
                    *map(_label, extra)])
    for i, row in enumerate(rows, 1):
        ranks = "{}-{}".format(*row["rank_interval"]) if "rank_interval" in row else "-"
        table.add_row(str(i), escape(row["agent"]), str(row["games"]), str(row.get("distinct", row["games"])),
                      str(row["wins"]), str(row["draws"]), str(row["losses"]),
                      f"{row.get('normalised_score', row['mean_score']):.2f}", _bt(row), ranks, f"{row['elo']:.0f}",
                      *_moves(row, extra))
    return table


def print_document(document: dict[str, Any], overall: bool = False) -> None:
    """The results document on the terminal: one table per game (and the pooled table when ``overall``
    or when there are no per-game sections), then the games' analysis tables and the notes."""
    sections = document.get("games") or []
    stats = {r["agent"]: r for r in document["leaderboard"]}
    for section in sections:
        out.print(game_table(section, stats))
        out.print(f"a win in {section['game'] or 'these results'}: {section['win']}", highlight=False)
        if section.get("fit"):
            out.print(f"fit: {section['fit']['message']} ({section['fit']['folds']}-fold cross-validation)",
                      highlight=False)
        for warning in section.get("warnings", []):
            out.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
        if section.get("replicates"):
            top = section["replicates"][0]
            out.print(f"replicates: {sum(g['multiplicity'] for g in section['replicates'])} matches in "
                      f"{len(section['replicates'])} groups of identical matches (largest: "
                      f"{' vs '.join(top['agents'])} ×{top['multiplicity']}), each counted once", highlight=False)
    if overall or not sections:
        out.print(overall_table(document))
    for analysis in document.get("analyses", []):
        out.print(analysis_table(analysis))
        if analysis.get("note"):
            out.print(analysis["note"], highlight=False)
    if document.get("anchor"):
        where = "the mean rating" if document["anchor"] == "mean" else document["anchor"]
        prior = document.get("prior", DEFAULT_PRIOR)
        prior_text = "no prior (plain MLE)" if prior == 0 else f"a prior of {prior:g} virtual draws per agent"
        out.print(f"Ratings: Bradley–Terry on the Elo scale, {where} = 1500, {prior_text}; 95% intervals by "
                  "bootstrap over whole distinct matches. Mean payoff: 95% bootstrap over seeds within each "
                  "pairing. Nash p: max-entropy Nash of the win-rate meta-game; α-rank: OpenSpiel's alpha-rank "
                  "(m=50, α=100).", highlight=False)


def analysis_table(analysis: dict[str, Any]) -> Table:
    """One analysis of a game (``{"title", "columns", "rows", "labels"}``) as a table: its leading
    ``labels`` columns are text (left), the others numbers (right)."""
    table = Table(title=escape(analysis["title"]), title_justify="left", min_width=len(analysis["title"]))
    for i, col in enumerate(analysis["columns"]):
        table.add_column(escape(col), justify="left" if i < analysis.get("labels", 1) else "right")
    for row in analysis["rows"]:
        table.add_row(*(escape(cell(v)) for v in row))
    return table


def report(store: Store, run_id: str | None, as_json: bool, overall: bool = False, **options: Any) -> None:
    """The results document of a store or run as JSON or tables."""
    try:
        doc = store_document(store, run_id, **options)
    except ValueError as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(jsonsafe.dumps(doc, indent=2) + "\n")
    else:
        print_document(doc, overall)


@command("rating", RatingOptions)
def leaderboard_cmd(db: str = db_option(),
                    run_id: str = run_option(),
                    rating: RatingOptions = GENERATED,
                    overall: bool = typer.Option(False, "--overall",
                                                 help="also one table over all games (scores normalised per game)"),
                    as_json: bool = json_flag()) -> None:
    """Recompute the leaderboard and ratings from stored outcomes: one table per game."""
    try:
        store = Store(db, must_exist=True)
        if run_id:
            store.run_config(run_id)
    except StoreError as error:
        fail(str(error))
    report(store, run_id, as_json, overall, **rating.fit_args())


def mount(app: typer.Typer) -> None:
    """Register the leaderboard commands on the main app."""
    from arena.cli_eval import compare_cmd, quality_cmd
    app.command("leaderboard")(leaderboard_cmd)
    app.command("compare")(compare_cmd)
    app.command("quality")(quality_cmd)
