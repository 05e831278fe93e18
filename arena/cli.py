"""The ``arena`` command line: thin Typer layer over the library, printed with Rich."""

from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arena.registry import SpecError, agent_kinds, builtin_games, game_ids
from arena.store import Store, StoreError
from arena.tournaments.ratings import leaderboard, pairs
from arena.tournaments.stats import agent_stats
from arena.tournaments.runner import RunConfig, execute, new_run

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tournaments of LLM agents, search agents and baselines on strategic games.")
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


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


@app.command()
def run(
    game: list[str] = typer.Option(None, "--game", "-g", help="game spec ID[:key=value,...]; repeatable"),
    agent: list[str] = typer.Option(None, "--agent", "-a", help="agent spec [NAME=]KIND[:key=value,...]; repeatable"),
    games_per_pair: int = typer.Option(2, "--games-per-pair", "-n", help="games per pair (seats alternate)"),
    seed: int = typer.Option(0, help="run seed; same seed + deterministic agents = same results"),
    retries: int = typer.Option(2, help="re-asks after an illegal answer before the fallback"),
    fallback: str = typer.Option("random", help="after the retries: random (legal action) or forfeit"),
    time_limit: float = typer.Option(None, "--time-limit", help="seconds per move (none by default)"),
    concurrency: int = typer.Option(8, help="matches in flight at once"),
    db: str = typer.Option("arena.db", help="SQLite store"),
    resume: str = typer.Option(None, help="finish the pending matches of this run id"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document instead of tables"),
) -> None:
    """Play a round-robin tournament (a small quickstart when no game/agent is given)."""
    try:
        store = Store(db)
        if resume:
            run_id = resume
            store.run_config(run_id)
        else:
            config = RunConfig(games_per_pair=games_per_pair, seed=seed, retries=retries, fallback=fallback,
                               time_limit=time_limit, concurrency=concurrency)
            if game:
                config.games = list(game)
            if agent:
                config.agents = list(agent)
            run_id = new_run(store, config)
        _execute_with_progress(store, run_id, quiet=as_json)
    except (SpecError, StoreError) as error:
        fail(str(error))
    _report(store, run_id, as_json)


def _report(store: Store, run_id: str | None, as_json: bool) -> None:
    """The leaderboard (with per-agent move statistics) and head-to-head pairs, as JSON or tables."""
    results = list(store.results(run_id))
    stats = agent_stats(store, run_id)
    rows = [{**row, **stats.get(row["agent"], {})} for row in leaderboard(results)]
    document = {"run_id": run_id, "leaderboard": rows, "pairs": pairs(results)}
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _print_leaderboard(document)


def _execute_with_progress(store: Store, run_id: str, quiet: bool) -> None:
    total, done = store.count(run_id), store.count(run_id) - store.count(run_id, "pending")
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, disable=quiet, transient=False) as progress:
        task = progress.add_task(f"run {run_id}", total=total, completed=done)
        execute(store, run_id, lambda _t: progress.advance(task))


def _print_leaderboard(document: dict[str, Any]) -> None:
    table = Table(title=f"leaderboard — run {document['run_id'] or 'all'}")
    columns = ["#", "agent", "games", "W", "D", "L", "mean score", "Elo", "coop", "illegal", "fallback",
               "latency", "tokens"]
    for col in columns:
        table.add_column(col, justify="left" if col == "agent" else "right")
    for i, row in enumerate(document["leaderboard"], 1):
        table.add_row(str(i), row["agent"], str(row["games"]), str(row["wins"]), str(row["draws"]),
                      str(row["losses"]), f"{row['mean_score']:.2f}", f"{row['elo']:.0f}",
                      f"{row['metrics']['cooperation_rate']:.0%}" if "cooperation_rate" in row["metrics"] else "-",
                      f"{row.get('illegal_rate', 0):.1%}", f"{row.get('fallback_rate', 0):.1%}",
                      f"{row.get('mean_latency', 0) * 1000:.0f} ms", str(row.get("tokens", 0)))
    out.print(table)


@app.command("leaderboard")
def leaderboard_cmd(db: str = typer.Option("arena.db", help="SQLite store"),
                    run_id: str = typer.Option(None, "--run", help="one run (default: every run in the store)"),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the leaderboard from stored outcomes."""
    try:
        store = Store(db)
        if run_id:
            store.run_config(run_id)
    except StoreError as error:
        fail(str(error))
    _report(store, run_id, as_json)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
