"""The ``arena`` command line: thin Typer layer over the library, printed with Rich."""

from __future__ import annotations

import logging
import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from arena import jsonsafe
from arena.atomic import write_text
from arena import cli_board as board
from arena.cli_data import export_app, mount
from arena.cli_play import register as register_play
from arena.console import err, fail, json_flag, out
from arena.registry import SpecError, agent_kinds, game_listing
from arena.store import Store, StoreError
from arena.tournaments.config import build_config
from arena.tournaments.plackett import rate_jsonl
from arena.tournaments.ratings import leaderboard
from arena.tournaments.runner import execute, new_run
from arena.tournaments.summary import document

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tournaments of LLM agents, search agents and baselines on strategic games.")


mount(app)  # export preferences, train dpo, selfplay (arena/cli_data.py)
register_play(app)  # arena play (arena/cli_play.py)
board.mount(app)  # leaderboard, compare, quality (arena/cli_board.py)


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
        store = Store(db, must_exist=True)
        ids = sorted(store.match_players(run_id))
        trajs = [t for t in (store.trajectory(m) for m in ids) if t.game.partition(":")[0] in ("chess", "chess960")]
        write_text(out_path, export_pgn_many(trajs))
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {len(trajs)} game(s) to {out_path}", highlight=False)


class Listing(str, Enum):
    games = "games"
    agents = "agents"
    data = "data"


@app.command("list")
def list_(what: Listing = typer.Argument(..., help="games, agents, or data (the Turn an agent gets)"),
          game: str = typer.Argument(None, help="data: the game whose turn.data keys to list")) -> None:
    """List registered games, agent kinds, or the fields of a Turn and a game's turn.data keys."""
    table = Table(show_header=True)
    if what is Listing.data:
        from arena.cli_list import print_data
        print_data(game)
        return
    if what is Listing.games:
        table.add_column("game"), table.add_column("players"), table.add_column("parameters"), table.add_column("about")
        for gid, players, params, summary in game_listing():
            table.add_row(gid, players, ", ".join(f"{k}={v}" for k, v in params.items()), summary)
    else:
        table.add_column("agent"), table.add_column("about")
        for kind, summary in sorted(agent_kinds().items()):
            table.add_row(kind, summary)
        table.add_row("pkg.module:Class", "your own agent class (import string)")
    out.print(table)


@app.command()
def run(
    spec: str = typer.Argument(None, help="tournament spec file (TOML); flags override it"),
    game: list[str] = typer.Option(None, "--game", "-g", help="game spec ID[:key=value,...]; repeatable"),
    agent: list[str] = typer.Option(None, "--agent", "-a", help="agent spec [NAME=]KIND[:key=value,...]; repeatable"),
    games_per_pair: int = typer.Option(None, "--games-per-pair", "-n", help="games per pair (seats alternate) [2]"),
    schedule: str = typer.Option(None, help="round-robin | gauntlet | swiss [round-robin]"),
    successive: bool = typer.Option(None, "--successive/--parallel-pairs", metavar="",
                                    help="play each pair's games one after another (learning agents) [parallel]"),
    swap_seats: bool = typer.Option(None, "--swap-seats/--fixed-seats", metavar="", help="alternate seats game by game [swap]"),
    focus: str = typer.Option(None, help="gauntlet: the agent that meets the field"),
    swiss_rounds: int = typer.Option(None, "--swiss-rounds", help="swiss: rounds [ceil(log2 agents)]"),
    seed: int = typer.Option(None, help="run seed; same seed + deterministic agents = same results [0]"),
    retries: int = typer.Option(None, help="re-asks after an illegal answer before the fallback [2]"),
    fallback: str = typer.Option(None, help="after the retries: random (legal action) or forfeit [random]"),
    time_limit: float = typer.Option(None, "--time-limit", help="seconds per move [none]"),
    workers: int = typer.Option(None, help="local worker processes [1 = this process]"),
    backend: str = typer.Option(None, help="local | ray [local]"),
    concurrency: int = typer.Option(None, help="matches in flight at once per process [8]"),
    max_games_per_pair: int = typer.Option(None, "--max-games-per-pair", help="safety bound on -n [1000]"),
    max_matches: int = typer.Option(None, "--max-matches", help="safety bound on the matches of a run [20000]"),
    allow_any: bool = typer.Option(None, "--allow-any", metavar="",
                                   help="seat agents in games they were not built for (experiments)"),
    db: str = typer.Option("arena.db", help="SQLite store"),
    resume: str = typer.Option(None, help="finish the pending matches of this run id"),
    as_json: bool = json_flag("print one JSON document instead of tables"),
    prior: float = typer.Option(board.DEFAULT_PRIOR, min=0.0, help=board.PRIOR_HELP),
) -> None:
    """Play a tournament (a small quickstart when no spec, game or agent is given)."""
    overrides = {"games": game, "agents": agent, "games_per_pair": games_per_pair, "schedule": schedule,
                 "successive": successive, "swap_seats": swap_seats,
                 "focus": focus, "swiss_rounds": swiss_rounds, "seed": seed, "retries": retries,
                 "fallback": fallback, "time_limit": time_limit, "workers": workers, "backend": backend,
                 "concurrency": concurrency, "max_games_per_pair": max_games_per_pair, "max_matches": max_matches,
                 "allow_any": allow_any}
    try:
        config = None if resume else build_config(spec, overrides)  # a bad config creates no database
        store = Store(db)
        if config is None:
            run_id = resume
            store.run_config(run_id)
        else:
            run_id = new_run(store, config)
        _execute_live(store, run_id, quiet=as_json)
    except (SpecError, StoreError) as error:
        fail(str(error))
    _report(store, run_id, as_json, prior=prior)


def _report(store: Store, run_id: str | None, as_json: bool, **options: Any) -> None:
    """The results document (one table per game, ratings, move statistics) as JSON or tables."""
    board.report(store, run_id, as_json, **options)


def _print(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(jsonsafe.dumps(doc, indent=2) + "\n")
    else:
        board.print_document(doc)


def _execute_live(store: Store, run_id: str, quiet: bool) -> None:
    """Run with a progress bar and a live top-10 leaderboard (on stderr; nothing when quiet)."""
    if quiet:
        execute(store, run_id)
        return
    done = store.count(run_id) - store.count(run_id, "pending")
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    progress = Progress(*columns, console=err)
    task = progress.add_task(f"run {run_id}", total=store.count(run_id), completed=done)
    shown = [0.0]
    with Live(Group(progress), console=err, refresh_per_second=4) as live:
        def on_done(_traj: object) -> None:
            progress.update(task, total=store.count(run_id), advance=1)
            if time.monotonic() - shown[0] > 0.5:  # recomputing ratings costs; twice a second is enough
                shown[0] = time.monotonic()
                live.update(Group(progress, _live_table(store, run_id)))
        execute(store, run_id, on_done)
        live.update(Group(progress, _live_table(store, run_id)))


def _live_table(store: Store, run_id: str) -> Table:
    table = Table(title="live leaderboard", show_edge=False)
    for col in ("agent", "games", "W", "D", "L", "Elo"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for row in leaderboard(list(store.results(run_id)))[:10]:
        table.add_row(escape(row["agent"]), str(row["games"]), str(row["wins"]), str(row["draws"]),
                      str(row["losses"]), f"{row['elo']:.0f}")
    return table


@app.command("report")
def report_cmd(db: str = typer.Option("arena.db", help="SQLite store"),
               out_path: str = typer.Option("report.html", "--out", help="the HTML file to write"),
               run_id: str = typer.Option(None, "--run", help="one run (default: every run in the store)"),
               anchor: str = typer.Option(None, help="agent fixed at 1500 (default: the mean rating)"),
               prior: float = typer.Option(board.DEFAULT_PRIOR, min=0.0, help=board.PRIOR_HELP)) -> None:
    """Write one self-contained HTML report: ratings with CIs, heatmaps, rating plot, every transcript."""
    from arena.tournaments.bt import MEAN
    from arena.report import build_report
    try:
        store = Store(db, must_exist=True)
        if run_id:
            store.run_config(run_id)
        path = build_report(store, Path(out_path), run_id, anchor=anchor or MEAN, prior=prior)
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {path}", highlight=False)


@app.command("rate")
def rate_cmd(path: str = typer.Argument(..., help="JSONL: one result per line, players with ranks or scores"),
             anchor: str = typer.Option(None, help="agent fixed at 1500 (default: the mean rating)"),
             bootstrap: int = typer.Option(1000, help="bootstrap replicates for the intervals"),
             prior: float = typer.Option(board.DEFAULT_PRIOR, min=0.0, help=board.PRIOR_HELP),
             as_json: bool = json_flag()) -> None:
    """Rate results from elsewhere (e.g. {"players": ["a", "b"], "ranks": [1, 2]} per line)."""
    try:
        doc = document(rate_jsonl(path), anchor=anchor, n_boot=bootstrap, prior=prior)
    except FileNotFoundError:
        fail(f"no such file: {path}")
    except OSError as error:
        fail(f"{path}: cannot read ({error.strerror or error})")
    except ValueError as error:
        fail(str(error))
    _print(doc, as_json)


def main() -> None:
    if os.getcwd() not in sys.path and "" not in sys.path:  # `pkg.mod:Class` agents from the current directory,
        sys.path.insert(0, os.getcwd())                       # as `python -m`, pytest and uvicorn allow
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
