"""The ``arena`` command line: thin Typer layer over the library, printed with Rich."""

from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from arena import cli_run
from arena.cli_data import export_app, mount
from arena.console import err, fail, out
from arena.registry import SpecError, agent_kinds, builtin_games, game_ids
from arena.store import Store, StoreError
from arena.tournaments.plackett import rate_jsonl
from arena.tournaments.summary import document, store_document

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tournaments of LLM agents, search agents and baselines on strategic games.")


mount(app)  # export preferences, train dpo, selfplay (arena/cli_data.py)
cli_run.register(app)  # arena run (arena/cli_run.py)


@export_app.command("phh")
def export_phh_cmd(db: str = typer.Option("arena.db", help="SQLite store"),
                   out_dir: str = typer.Option("phh", "--out", help="folder for the .phh files"),
                   run_id: str = typer.Option(None, "--run", help="only this run"),
                   match_id: str = typer.Option(None, "--match", help="only this match")) -> None:
    """Hold'em hands in the Poker Hand History format (one .phh file per hand; pokerkit reads them)."""
    from arena.export.phh import phh_command
    try:
        files = phh_command(db, out_dir, run_id, match_id)
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {len(files)} hand(s) to {out_dir}/", highlight=False)


@export_app.command("pgn")
def export_pgn_cmd(db: str = typer.Option("arena.db", help="SQLite store"),
                   out_path: str = typer.Option("games.pgn", "--out", help="the PGN file to write"),
                   run_id: str = typer.Option(None, "--run", help="only this run")) -> None:
    """Chess and Chess960 matches as PGN (Termination "rules infraction" for illegal-move forfeits)."""
    from arena.export.pgn import export_pgn_many
    try:
        store = Store(db)
        ids = sorted(store.match_players(run_id))
        trajs = [t for t in (store.trajectory(m) for m in ids) if t.game.partition(":")[0] in ("chess", "chess960")]
        Path(out_path).write_text(export_pgn_many(trajs), encoding="utf-8")
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {len(trajs)} game(s) to {out_path}", highlight=False)


class Listing(str, Enum):
    games = "games"
    agents = "agents"


@app.command("list")
def list_(what: Listing = typer.Argument(..., help="games or agents")) -> None:
    """List registered games or agent kinds."""
    table = Table(show_header=True)
    if what is Listing.games:
        table.add_column("game"), table.add_column("players"), table.add_column("parameters"), table.add_column("about")
        games = builtin_games()
        for gid in game_ids():
            info = games.get(gid)
            params = ", ".join(f"{k}={v}" for k, v in info.params.items()) if info else ""
            table.add_row(gid, info.players if info else "?", params, info.summary if info else "plug-in")
    else:
        table.add_column("agent"), table.add_column("about")
        for kind, summary in sorted(agent_kinds().items()):
            table.add_row(kind, summary)
        table.add_row("pkg.module:Class", "your own agent class (import string)")
    out.print(table)


def _report(store: Store, run_id: str | None, as_json: bool, **options: Any) -> None:
    """The results document (leaderboard with ratings and move statistics, pairs) as JSON or tables."""
    try:
        doc = store_document(store, run_id, **options)
    except ValueError as error:
        fail(str(error))
    _print(doc, as_json)


def _print(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        _print_leaderboard(doc)


def _print_leaderboard(document: dict[str, Any]) -> None:
    table = Table(title=f"leaderboard — run {document['run_id'] or 'all'}")
    columns = ["#", "agent", "games", "W", "D", "L", "mean score", "BT (95% CI)", "rank", "Elo", "coop",
               "illegal", "fallback", "latency", "tokens", "forfeits", "errors", "downgrades"]
    for col in columns:
        table.add_column(col, justify="left" if col == "agent" else "right")
    for i, row in enumerate(document["leaderboard"], 1):
        bt = f"{row['bt']:.0f} [{row['bt_ci'][0]:.0f}, {row['bt_ci'][1]:.0f}]" if "bt" in row else "-"
        ranks = "{}-{}".format(*row["rank_interval"]) if "rank_interval" in row else "-"
        table.add_row(str(i), row["agent"], str(row["games"]), str(row["wins"]), str(row["draws"]),
                      str(row["losses"]), f"{row['mean_score']:.2f}", bt, ranks, f"{row['elo']:.0f}",
                      f"{row['metrics']['cooperation_rate']:.0%}" if "cooperation_rate" in row["metrics"] else "-",
                      f"{row.get('illegal_rate', 0):.1%}", f"{row.get('fallback_rate', 0):.1%}",
                      f"{row.get('mean_latency', 0) * 1000:.0f} ms", str(row.get("tokens", 0)),
                      str(row.get("forfeits", 0)), str(row.get("errors", 0)), str(row.get("downgrades", 0)))
    out.print(table)
    if document.get("duplicate"):
        dup = Table(title="duplicate poker: big blinds per 100 hands (95% CI over duplicate groups)")
        for col in ("game", "agent", "bb/100", "95% CI", "mbb/hand", "hands", "groups"):
            dup.add_column(col, justify="left" if col in ("game", "agent") else "right")
        for r in document["duplicate"]:
            dup.add_row(r["game"], r["agent"], f"{r['bb_per_100']:.1f}", f"[{r['ci_low']:.1f}, "
                        f"{r['ci_high']:.1f}]", f"{r['mbb_per_hand']:.0f}", str(r["hands"]), str(r["groups"]))
        out.print(dup)
    if document.get("roles"):
        roles = Table(title="by role (win rate against the role's base rate)")
        for col in ("agent", "role", "games", "win rate", "base rate", "survival", "vote accuracy"):
            roles.add_column(col, justify="left" if col in ("agent", "role") else "right")
        for r in document["roles"]:
            roles.add_row(r["agent"], r["role"], str(r["games"]), f"{r['win_rate']:.0%}", f"{r['base_rate']:.0%}",
                          f"{r['survival']:.0%}", "-" if r["vote_accuracy"] is None else f"{r['vote_accuracy']:.0%}")
        out.print(roles)
        team = Table(title="team ratings (role configuration as covariate; 95% CI)")
        for col in ("agent", "rating", "95% CI"):
            team.add_column(col, justify="left" if col == "agent" else "right")
        for r in document["team_ratings"]["ratings"]:
            team.add_row(r["agent"], f"{r['rating']:.0f}", f"[{r['ci_low']:.0f}, {r['ci_high']:.0f}]")
        out.print(team)
    if document.get("iterations"):
        its = Table(title="deal price by successive game of each pair")
        for col in ("game", "game #", "matches", "deal rate", "mean price", "std"):
            its.add_column(col, justify="left" if col == "game" else "right")
        for r in document["iterations"]:
            its.add_row(r["game"], str(r["iteration"]), str(r["matches"]), f"{r['deal_rate']:.0%}",
                        "-" if r["mean_deal_price"] is None else f"{r['mean_deal_price']:.2f}",
                        "-" if r["std_deal_price"] is None else f"{r['std_deal_price']:.2f}")
        out.print(its)
    if document.get("anchor"):
        where = "the mean rating" if document["anchor"] == "mean" else document["anchor"]
        out.print(f"Bradley–Terry on the Elo scale, {where} = 1500; "
                  "95% intervals by bootstrap over whole matches.", highlight=False)


@app.command("leaderboard")
def leaderboard_cmd(db: str = typer.Option("arena.db", help="SQLite store"),
                    run_id: str = typer.Option(None, "--run", help="one run (default: every run in the store)"),
                    anchor: str = typer.Option(None, help="agent fixed at 1500 (default: the mean rating)"),
                    seat_advantage: bool = typer.Option(False, "--seat-advantage", help="fit a first-seat advantage"),
                    bootstrap: int = typer.Option(1000, help="bootstrap replicates for the intervals"),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the leaderboard and ratings from stored outcomes."""
    try:
        store = Store(db)
        if run_id:
            store.run_config(run_id)
    except StoreError as error:
        fail(str(error))
    _report(store, run_id, as_json, anchor=anchor, seat_advantage=seat_advantage, n_boot=bootstrap)


@app.command("report")
def report_cmd(db: str = typer.Option("arena.db", help="SQLite store"),
               out_path: str = typer.Option("report.html", "--out", help="the HTML file to write"),
               run_id: str = typer.Option(None, "--run", help="one run (default: every run in the store)"),
               anchor: str = typer.Option(None, help="agent fixed at 1500 (default: the mean rating)")) -> None:
    """Write one self-contained HTML report: ratings with CIs, heatmaps, rating plot, every transcript."""
    from arena.tournaments.bt import MEAN
    from arena.tournaments.report import build_report
    try:
        store = Store(db)
        if run_id:
            store.run_config(run_id)
        path = build_report(store, Path(out_path), run_id, anchor=anchor or MEAN)
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {path}", highlight=False)


@app.command("rate")
def rate_cmd(path: str = typer.Argument(..., help="JSONL: one result per line, players with ranks or scores"),
             anchor: str = typer.Option(None, help="agent fixed at 1500 (default: the mean rating)"),
             bootstrap: int = typer.Option(1000, help="bootstrap replicates for the intervals"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Rate results from elsewhere (e.g. {"players": ["a", "b"], "ranks": [1, 2]} per line)."""
    try:
        doc = document(rate_jsonl(path), anchor=anchor, n_boot=bootstrap)
    except (ValueError, OSError) as error:
        fail(str(error))
    _print(doc, as_json)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
