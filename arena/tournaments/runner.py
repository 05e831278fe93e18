"""Executes a run: plans its matches, plays the pending ones and stores each as it ends.

Execution: in this process (matches overlap in one event loop up to
``concurrency``: LLM calls run concurrently and local models batch), in ``workers``
local processes (each with its own event loop and ``concurrency`` matches in flight),
or as Ray tasks (``backend = "ray"``).  Only this process writes the store, so a killed
run resumes from the store whatever executed it.

Before anything is written (:func:`prepare`, before a store is even opened) every agent is
built and its ``check()`` hook (if any) run, and the first plan is made and held to its bounds:
a model, package, key or server that is missing, a gauntlet focus that is not an agent or a
plan above ``max_matches`` stops the run with one line.  A match
ends ``normal``, ``forfeit`` (rated) or ``error`` (unrated; ``--resume`` plays it again).
A set ``stop`` event (the first Ctrl-C) starts no new match, gives the moves in flight
:data:`~arena.tournaments.interrupt.GRACE` seconds, marks the run ``interrupted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from arena.errors import ArenaError, NotReady
from arena.match import Policy, aplay_match, check_state_access
from arena.redact import redact, redact_config
from arena.agents.registry import AgentSpec, check_fit, parse_agent
from arena.games.registry import GameSpec, parse_game
from arena.spec import SpecError
from arena.store import PlannedMatch, Store
from arena.tournaments import schedule
from arena.tournaments.config import RunConfig
from arena.tournaments.interrupt import GRACE, Interrupted
from arena.trajectory import Outcome, Trajectory

log = logging.getLogger(__name__)
OnDone = Callable[[PlannedMatch, Outcome], None]  # every finished match (error ones too), as stored
OnMove = Callable[[str], None]  # the match id, once per move played (matches played in this process)


@dataclass
class Hooks:
    on_done: OnDone | None = None
    on_move: OnMove | None = None
    stop: threading.Event | None = None

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()


@dataclass
class Resolved:
    games: dict[str, GameSpec]
    agents: dict[str, AgentSpec]
    policy: Policy


def resolve(config: RunConfig, build: bool = True) -> Resolved:
    """Parse and check every spec of a run; raises :class:`SpecError` on the first bad one."""
    if not config.games or len(config.agents) < 2:
        raise SpecError("a run needs at least one --game and at least two --agent")
    if config.successive and (config.workers > 1 or config.backend == "ray"):
        raise SpecError("successive games (learning agents such as critic:) need --workers 1 and the local backend")
    games = [parse_game(g) for g in config.games]
    for game in games:
        seats = game.make(0).num_players
        if game.params.get("duplicate") and (config.games_per_pair % seats or not config.swap_seats):
            raise SpecError(f"{game.spec}: duplicate format needs games-per-pair a multiple of {seats} "
                            "and swapped seats, so every deal is played from every seat")
    agents = [parse_agent(a) for a in config.agents]
    if not config.allow_any:
        check_fit(agents, games)
    names = [a.name for a in agents]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"agent {name!r} is given twice; give each a name, e.g. --agent a2={name}")
    if build:
        for agent in agents:
            built = preflight(agent)  # fail fast: a plug-in that cannot be built, a missing model or key,
            for game in games:  # ... or a search agent seated where it would see hidden state
                check_state_access(game.make(0), game.spec, built)
    return Resolved({g.spec: g for g in games}, {a.name: a for a in agents}, config.policy())


def preflight(spec: AgentSpec) -> Any:
    """Build the agent and run its ``check()`` hook (raises :class:`NotReady` naming the agent); the agent."""
    agent = spec.make()  # a plug-in that cannot be built fails here
    check = getattr(agent, "check", None)
    if callable(check):
        try:
            check()
        except ArenaError as err:
            raise NotReady(f"agent {spec.name!r} ({spec.spec or spec.kind}) cannot play: {err}") from None
    return agent


def first_plan(run_id: str, config: RunConfig, resolved: Resolved) -> list[PlannedMatch]:
    games, agents = list(resolved.games.values()), list(resolved.agents.values())
    if config.schedule == "gauntlet":
        return schedule.gauntlet(run_id, games, agents, config.focus, config.games_per_pair, config.seed,
                                 config.swap_seats)
    if config.schedule == "swiss":
        return schedule.swiss_round(run_id, games, agents, [], config.games_per_pair, config.seed, 1, 0)
    return schedule.round_robin(run_id, games, agents, config.games_per_pair, config.seed, config.swap_seats)


@dataclass(frozen=True)
class Prepared:
    """A run checked and planned, nothing stored yet: its agents built and checked, its id, and a first
    plan within the run's bounds."""

    config: RunConfig
    resolved: Resolved
    run_id: str
    plan: list[PlannedMatch]


def new_run_id() -> str:
    """A fresh run id: its start time, then six random hex digits."""
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def prepare(config: RunConfig, resolved: Resolved | None = None) -> Prepared:
    """Check every agent (unless already ``resolved``) and plan the run; a SpecError (a gauntlet focus
    that is not an agent, a plan above ``max_matches``) comes before any store is opened."""
    resolved = resolved or resolve(config)
    run_id = new_run_id()
    plan = first_plan(run_id, config, resolved)
    rounds = schedule.swiss_rounds(len(resolved.agents), config.swiss_rounds) if config.schedule == "swiss" else 1
    config.check_plan(len(plan) * rounds)
    return Prepared(config, resolved, run_id, plan)


def store_run(store: Store, ready: Prepared) -> str:
    """Write a prepared run (its config with every credential redacted) and its whole first plan; its run id.
    Every run is created here (tournaments, compare runs, self-play evaluations)."""
    store.create_run(ready.run_id, redact_config(asdict(ready.config)), ready.plan)
    return ready.run_id


def new_run(store: Store, config: RunConfig, resolved: Resolved | None = None) -> str:
    """Check every agent (unless already ``resolved``), then write the run and its whole plan."""
    return store_run(store, prepare(config, resolved))


def next_swiss_round(store: Store, run_id: str, config: RunConfig, resolved: Resolved) -> bool:
    """Plan the next swiss round once the current one is finished; False when all rounds are done."""
    total, rounds_done = store.count(run_id), store.rounds_planned(run_id)
    if rounds_done >= schedule.swiss_rounds(len(resolved.agents), config.swiss_rounds):
        return False
    results = [(players, outcome) for _, _, players, outcome in store.results(run_id)]
    plan = schedule.swiss_round(run_id, list(resolved.games.values()), list(resolved.agents.values()), results,
                                config.games_per_pair, config.seed, rounds_done + 1, total)
    store.add_matches(run_id, plan, round_no=rounds_done + 1)
    return True


def resume(store: Store, run_id: str) -> Resolved:
    """Check a stored run's agents, then make its ``error`` matches pending again (nothing is
    written when a check fails)."""
    resolved = resolve(RunConfig.from_dict(store.run_config(run_id)))
    again = store.retry_errors(run_id)
    if again:
        log.info("run %s: %d error match(es) will be played again", run_id, again)
    return resolved


async def play_one(resolved: Resolved, match: PlannedMatch, on_move: OnMove | None = None) -> Trajectory:
    game = resolved.games[match.game]
    agents = [resolved.agents[p.name].make() for p in match.players]
    sink = None if on_move is None else (lambda kind, _data: on_move(match.match_id) if kind == "step" else None)
    return await aplay_match(game.make, agents, match.players, match.seed, match.match_id, match.game,
                             game.params, resolved.policy, sink)


def failed(error: BaseException | str) -> Outcome:
    """The outcome stored for a match that raised (a bug or an infrastructure failure): ``error``."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Outcome([], [], "error", None, redact(text))


def record(store: Store, match: PlannedMatch, traj: Trajectory | None,
           error: BaseException | str | None) -> Outcome:
    """Store a finished match, or mark it ``error`` (a bug in a game or plug-in never stops the run)."""
    if traj is not None and traj.outcome is not None:
        store.save_match(traj)
        return traj.outcome
    outcome = failed(error or "no outcome")
    log.error("match %s failed: %s", match.match_id, outcome.detail)
    store.fail_match(match.match_id, outcome.detail)
    return outcome


def describe(match: PlannedMatch, outcome: Outcome) -> str | None:
    """One line for a forfeit or an error (agent, match, reason); None for a normal ending."""
    names = [p.name for p in sorted(match.players, key=lambda p: p.seat)]
    where = f"match {match.match_id} ({match.game}: {' vs '.join(names)})"
    if outcome.reason == "forfeit" and outcome.forfeited_by is not None:
        return f"forfeit: {names[outcome.forfeited_by]} in {where}: {_one_line(outcome.detail)}"
    if outcome.reason == "error":
        seat = re.match(r"seat (\d+): ", outcome.detail)
        who = f"{names[int(seat.group(1))]}: " if seat and int(seat.group(1)) < len(names) else ""
        detail = outcome.detail[seat.end():] if seat else outcome.detail
        return f"error (unrated, replayed by --resume): {where}: {who}{_one_line(detail)}"
    return None


def _one_line(text: str, most: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[:most - 1] + "…"


async def _inline(store: Store, config: RunConfig, resolved: Resolved, pending: list[PlannedMatch],
                  hooks: Hooks) -> bool:
    """Play ``pending`` in this event loop; True when stopped by ``hooks.stop``."""
    semaphore = asyncio.Semaphore(config.concurrency)

    async def one(match: PlannedMatch) -> None:
        async with semaphore:
            if hooks.stopped():
                return  # not started: stays pending
            try:
                traj, error = await play_one(resolved, match, hooks.on_move), None
            except Exception as err:
                traj, error = None, err
        outcome = record(store, match, traj, error)
        if hooks.on_done:
            hooks.on_done(match, outcome)

    async def chain(group: list[PlannedMatch]) -> None:
        for match in group:
            await one(match)

    groups = successive_groups(pending) if config.successive else [[m] for m in pending]
    work = asyncio.ensure_future(asyncio.gather(*(chain(g) for g in groups)))
    while not work.done():
        await asyncio.wait({work}, timeout=None if hooks.stop is None else 0.1)
        if hooks.stopped():
            break
    if not work.done():  # stopping: the moves in flight get a few seconds, then their matches stay pending
        await asyncio.wait({work}, timeout=GRACE)
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
    if not work.cancelled():
        work.result()  # a failure of the runner itself (e.g. the store) is not swallowed
    return hooks.stopped()


def successive_groups(pending: list[PlannedMatch]) -> list[list[PlannedMatch]]:
    """Matches of the same game and the same agents, in schedule order: played one after another."""
    groups: dict[tuple[str, tuple[str, ...]], list[PlannedMatch]] = {}
    for match in pending:
        groups.setdefault((match.game, tuple(sorted(p.name for p in match.players))), []).append(match)
    return list(groups.values())


def execute(store: Store, run_id: str, on_done: OnDone | None = None, *, on_move: OnMove | None = None,
            stop: threading.Event | None = None, resolved: Resolved | None = None) -> None:
    """Play every pending match of a run, holding its lease (a second executor of the run is refused).

    Raises :class:`~arena.tournaments.interrupt.Interrupted` (run marked ``interrupted``) when
    ``stop`` is set before the run is over."""
    with store.lease(run_id):
        _execute(store, run_id, on_done, on_move=on_move, stop=stop, resolved=resolved)


def _execute(store: Store, run_id: str, on_done: OnDone | None = None, *, on_move: OnMove | None = None,
             stop: threading.Event | None = None, resolved: Resolved | None = None) -> None:
    """Play every pending match of a run (planning further swiss rounds as they become due)."""
    config = RunConfig.from_dict(store.run_config(run_id))
    resolved = resolved or resolve(config)
    hooks = Hooks(on_done, on_move, stop)
    store.set_status(run_id, "running")
    while True:
        pending = store.pending(run_id)
        if config.workers == 1 and config.backend == "local":
            stopped = asyncio.run(_inline(store, config, resolved, pending, hooks))
        else:
            from arena.tournaments.workers import run_parallel
            stopped = run_parallel(store, config, pending, hooks)
        if stopped:
            store.set_status(run_id, "interrupted")
            raise Interrupted(run_id)
        if config.schedule != "swiss" or not next_swiss_round(store, run_id, config, resolved):
            break
    store.set_status(run_id, "done")
