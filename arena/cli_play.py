"""``arena play``: a person takes a seat against agents in the terminal; the game is stored as a run.

Registered on the main app by one line in :mod:`arena.cli` (``register(app)``).
"""

from __future__ import annotations

from typing import Any

import typer

from arena.cli_options import GENERATED, command
from arena.console import db_option, err, fail
from arena.tournaments.config import RunConfig


def seat_specs(game: str, opponents: list[str], seat: int) -> list[str]:
    """Agent specs in seat order: ``human`` at ``seat``, the opponents around it (the last one
    repeated, under numbered names, when the game needs more players than were given)."""
    from arena.agents.registry import parse_agent
    from arena.games.registry import parse_game
    from arena.spec import SpecError
    players = parse_game(game).make(0).num_players
    if not opponents:
        raise SpecError("give at least one opponent: --agent SPEC (e.g. --agent random)")
    if len(opponents) > players - 1:
        raise SpecError(f"{game} seats {players} players: give at most {players - 1} --agent")
    if not 0 <= seat < players:
        raise SpecError(f"--seat must be between 0 and {players - 1} for {game}")
    specs = list(opponents)
    last = parse_agent(specs[-1])
    while len(specs) < players - 1:
        specs.append(f"{last.name}{len(specs) + 1}={last.spec}")
    specs.insert(seat, "human")
    return specs


@command("overrides", RunConfig, only=("seed", "time_limit", "retries", "fallback"), partial=True)
def play_cmd(game: str = typer.Argument(..., help="game spec ID[:key=value,...]"),
             agent: list[str] = typer.Option(None, "--agent", "-a", help="opponent agent spec; repeatable"),
             seat: int = typer.Option(0, help="your seat (0 moves first in most games)"),
             overrides: dict[str, Any] = GENERATED,
             db: str = db_option("SQLite store the game is kept in")) -> None:
    """Play a game yourself against agents in this terminal (stored like any match; see `arena report`)."""
    from arena.spec import SpecError
    from arena.store import Store, StoreError
    from arena.tournaments.runner import execute, prepare, store_run
    try:
        specs = seat_specs(game, agent or [], seat)
        config = RunConfig(games=[game], agents=specs, games_per_pair=1, concurrency=1, **overrides)
        ready = prepare(config)  # every seat built and checked before the store is touched
        store = Store(db)
        run_id = store_run(store, ready)
        try:
            execute(store, run_id)
        except KeyboardInterrupt:
            err.print(f"\ninterrupted: the game is kept as pending; play it again with "
                      f"arena run --resume {run_id} --db {db}", highlight=False)
            raise typer.Exit(130) from None
    except (SpecError, StoreError, ValueError) as error:
        fail(str(error))
    err.print(f"stored as run {run_id} in {db}: arena report --db {db} --run {run_id}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("play")(play_cmd)
