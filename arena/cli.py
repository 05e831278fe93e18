"""The ``arena`` command line: thin Typer layer over the library, printed with Rich."""

from __future__ import annotations

import logging
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from arena import cli_board as board
from arena import cli_run, jsonsafe
from arena.cli_data import mount
from arena.cli_play import register as register_play
from arena.cli_options import GENERATED, command
from arena.console import db_option, err, fail, json_flag, out, run_option
from arena.agents.registry import agent_kinds
from arena.games.registry import game_listing
from arena.store import Store, StoreError
from arena.tournaments.plackett import rate_jsonl
from arena.tournaments.rating_options import RatingOptions
from arena.tournaments.summary import document

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tournaments of LLM agents, search agents and baselines on strategic games.")


mount(app)  # export preferences|pgn|phh, train dpo|kto, selfplay (arena/cli_data.py)
register_play(app)  # arena play (arena/cli_play.py)
board.mount(app)  # leaderboard, compare, quality (arena/cli_board.py)
cli_run.register(app)  # arena run (arena/cli_run.py)


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


def _print(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(jsonsafe.dumps(doc, indent=2) + "\n")
    else:
        board.print_document(doc)




@app.command("report")
@command("rating", RatingOptions)
def report_cmd(db: str = db_option(),
               out_path: str = typer.Option("report.html", "--out", help="the HTML file to write"),
               run_id: str = run_option(),
               rating: RatingOptions = GENERATED) -> None:
    """Write one self-contained HTML report: ratings with CIs, heatmaps, rating plot, every transcript."""
    from arena.report import build_report
    try:
        store = Store(db, must_exist=True)
        if run_id:
            store.run_config(run_id)
        path = build_report(store, Path(out_path), run_id, rating=rating)
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {path}", highlight=False)


@app.command("rate")
@command("rating", RatingOptions)
def rate_cmd(path: str = typer.Argument(..., help="JSONL: one result per line, players with ranks or scores"),
             rating: RatingOptions = GENERATED,
             as_json: bool = json_flag()) -> None:
    """Rate results from elsewhere (e.g. {"players": ["a", "b"], "ranks": [1, 2]} per line)."""
    try:
        doc = document(rate_jsonl(path), **rating.fit_args())
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
