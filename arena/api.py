"""The public Python API: play a match, run a tournament, rate it, export preferences.

Async first (:func:`aplay`, :func:`atournament`), with synchronous wrappers that also work
where an event loop is already running (Jupyter): there the work runs in a worker thread
with its own loop and the call blocks until it is done, instead of failing with
"asyncio.run() cannot be called from a running event loop".

Agents and games are given as spec strings (``"tit-for-tat"``, ``"chess:max_plies=40"``)
or, for :func:`play`, as agent objects.  A tournament is stored in a SQLite store (a
temporary file unless ``db`` is given), so :func:`leaderboard`, ``arena report`` and
:func:`export_preferences` read it like any run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from arena.trajectory import Player, Trajectory

T = TypeVar("T")


def run_sync(work: Callable[[], Awaitable[T]] | Callable[[], T]) -> T:
    """Run ``work`` (a coroutine function or a plain function) to completion from synchronous code:
    here when no event loop runs in this thread, else in a worker thread (with its own loop)."""
    def here() -> T:
        out = work()
        return asyncio.run(out) if asyncio.iscoroutine(out) else out  # type: ignore[return-value]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return here()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="arena-sync") as pool:
        return pool.submit(here).result()


# --- one match -----------------------------------------------------------------------
async def aplay(game: str, agents: Sequence[Any], seed: int = 0, *, retries: int = 2, fallback: str = "random",
                time_limit: float | None = None, match_id: str | None = None) -> Trajectory:
    """Play one match of ``game`` between ``agents`` (spec strings or agent objects, in seat order)."""
    from arena.match import Policy, aplay_match
    from arena.agents.registry import parse_agent
    from arena.games.registry import parse_game
    spec = parse_game(game)
    built, players = [], []
    for seat, agent in enumerate(agents):
        if isinstance(agent, str):
            parsed = parse_agent(agent)
            built.append(parsed.make())
            players.append(Player(seat, parsed.name, parsed.spec))
        else:
            built.append(agent)
            name = getattr(agent, "name", type(agent).__name__)
            players.append(Player(seat, str(name), f"{type(agent).__module__}:{type(agent).__qualname__}"))
    return await aplay_match(spec.make, built, players, seed, match_id or f"play-{seed}", spec.spec, spec.params,
                             Policy(retries, fallback, time_limit))


def play(game: str, agents: Sequence[Any], seed: int = 0, **options: Any) -> Trajectory:
    """Synchronous :func:`aplay` (safe inside a running event loop)."""
    return run_sync(lambda: aplay(game, agents, seed, **options))


# --- tournaments -----------------------------------------------------------------------
@dataclass
class Results:
    """A finished tournament: where it is stored, its results document and its matches."""

    run_id: str
    db: Path
    document: dict[str, Any]
    matches: list[Trajectory] = field(default_factory=list)

    @property
    def leaderboard(self) -> list[dict[str, Any]]:
        return list(self.document.get("leaderboard", []))


def _tournament(games: Sequence[str], agents: Sequence[str], db: Path, options: dict[str, Any]) -> Results:
    from arena.spec import SpecError
    from arena.store import Store
    from arena.tournaments.config import RunConfig
    from arena.tournaments.runner import execute, prepare, store_run
    from arena.tournaments.summary import store_document
    rating = {k: options.pop(k) for k in ("anchor", "n_boot") if k in options}
    known = {f.name for f in fields(RunConfig)} - {"games", "agents"}
    if set(options) - known:
        raise SpecError(f"unknown tournament option(s) {', '.join(sorted(set(options) - known))}; valid: "
                        f"{', '.join(sorted(known | set(('anchor', 'n_boot'))))}")
    ready = prepare(RunConfig(games=list(games), agents=list(agents), **options))  # before the store is touched
    store = Store(db)
    try:
        run_id = store_run(store, ready)
        execute(store, run_id)
        document = store_document(store, run_id, **rating)
        matches = [store.trajectory(m) for m in sorted(store.match_players(run_id))]
    finally:
        store.close()
    return Results(run_id, db, document, matches)


async def atournament(games: Sequence[str], agents: Sequence[str], *, db: str | Path | None = None,
                      **options: Any) -> Results:
    """Play a tournament (options as in a spec file: games_per_pair, schedule, seed, retries, ...;
    ``anchor`` and ``n_boot`` for the ratings) and return its :class:`Results`."""
    path = Path(db) if db is not None else Path(tempfile.mkdtemp(prefix="arena-")) / "arena.db"
    return await asyncio.to_thread(_tournament, games, agents, path, dict(options))


def tournament(games: Sequence[str], agents: Sequence[str], **options: Any) -> Results:
    """Synchronous :func:`atournament` (safe inside a running event loop)."""
    return run_sync(lambda: atournament(games, agents, **options))


def leaderboard(results_or_db: Results | str | Path, run_id: str | None = None, **options: Any) -> list[dict[str, Any]]:
    """Leaderboard rows (ratings with intervals, W/D/L, move statistics) of a tournament or a store."""
    from arena.store import Store
    from arena.tournaments.summary import store_document
    if isinstance(results_or_db, Results):
        if not options:
            return results_or_db.leaderboard
        results_or_db, run_id = results_or_db.db, run_id or results_or_db.run_id

    def rows() -> list[dict[str, Any]]:
        store = Store(results_or_db)  # type: ignore[arg-type]
        try:
            return list(store_document(store, run_id, **options)["leaderboard"])
        finally:
            store.close()
    return run_sync(rows)


def export_preferences(results_or_db: Results | str | Path, out: str | Path | None = None, **options: Any) -> Any:
    """Preference / KTO / SFT rows of stored matches (see ``arena export preferences``); an ``ExportResult``."""
    from arena.export.preferences import export_preferences as export
    if isinstance(results_or_db, Results):
        options.setdefault("run_id", results_or_db.run_id)
        results_or_db = results_or_db.db
    return run_sync(lambda: export(results_or_db, out, **options))
