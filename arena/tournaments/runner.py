"""Executes a run: plans its matches, plays the pending ones and stores each as it ends.

Execution: in this process (matches overlap in one event loop up to
``concurrency``: LLM calls run concurrently and local models batch), in ``workers``
local processes, or as Ray tasks (``backend = "ray"``).  Only this process writes
the store, so a killed run resumes from the store whatever executed it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from arena.match import Policy, aplay_match, check_state_access
from arena.redact import redact, redact_config
from arena.registry import AgentSpec, GameSpec, SpecError, parse_agent, parse_game
from arena.store import PlannedMatch, Store
from arena.tournaments import schedule
from arena.tournaments.config import RunConfig
from arena.trajectory import Trajectory

log = logging.getLogger(__name__)
OnDone = Callable[[Trajectory | None], None]


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
    names = [a.name for a in agents]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"agent {name!r} is given twice; give each a name, e.g. --agent a2={name}")
    if build:
        for agent in agents:
            built = agent.make()  # fail fast on a plug-in that cannot be built
            for game in games:  # ... or a search agent seated where it would see hidden state
                check_state_access(game.make(0), game.spec, built)
    return Resolved({g.spec: g for g in games}, {a.name: a for a in agents}, config.policy())


def first_plan(run_id: str, config: RunConfig, resolved: Resolved) -> list[PlannedMatch]:
    games, agents = list(resolved.games.values()), list(resolved.agents.values())
    if config.schedule == "gauntlet":
        return schedule.gauntlet(run_id, games, agents, config.focus, config.games_per_pair, config.seed,
                                 config.swap_seats)
    if config.schedule == "swiss":
        return schedule.swiss_round(run_id, games, agents, [], config.games_per_pair, config.seed, 1, 0)
    return schedule.round_robin(run_id, games, agents, config.games_per_pair, config.seed, config.swap_seats)


def new_run(store: Store, config: RunConfig) -> str:
    resolved = resolve(config)
    run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    store.create_run(run_id, redact_config(asdict(config)), first_plan(run_id, config, resolved))
    return run_id


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


async def play_one(resolved: Resolved, match: PlannedMatch) -> Trajectory:
    game = resolved.games[match.game]
    agents = [resolved.agents[p.name].make() for p in match.players]
    return await aplay_match(game.make, agents, match.players, match.seed, match.match_id, match.game,
                             game.params, resolved.policy)


def record(store: Store, match: PlannedMatch, traj: Trajectory | None, error: BaseException | None) -> None:
    """Store a finished match, or mark it failed (a bug in a game or plug-in never stops the run)."""
    if traj is not None:
        store.save_match(traj)
        return
    reason = redact(f"{type(error).__name__}: {error}")
    log.error("match %s failed: %s", match.match_id, reason)
    store.fail_match(match.match_id, reason)


async def _inline(store: Store, config: RunConfig, resolved: Resolved, pending: list[PlannedMatch],
                  on_done: OnDone | None) -> None:
    semaphore = asyncio.Semaphore(config.concurrency)

    async def one(match: PlannedMatch) -> None:
        async with semaphore:
            try:
                traj, error = await play_one(resolved, match), None
            except Exception as err:
                traj, error = None, err
        record(store, match, traj, error)
        if on_done:
            on_done(traj)

    if not config.successive:
        await asyncio.gather(*(one(m) for m in pending))
        return

    async def chain(group: list[PlannedMatch]) -> None:
        for match in group:
            await one(match)

    await asyncio.gather(*(chain(g) for g in successive_groups(pending)))


def successive_groups(pending: list[PlannedMatch]) -> list[list[PlannedMatch]]:
    """Matches of the same game and the same agents, in schedule order: played one after another."""
    groups: dict[tuple[str, tuple[str, ...]], list[PlannedMatch]] = {}
    for match in pending:
        groups.setdefault((match.game, tuple(sorted(p.name for p in match.players))), []).append(match)
    return list(groups.values())


def execute(store: Store, run_id: str, on_done: OnDone | None = None) -> None:
    """Play every pending match of a run (planning further swiss rounds as they become due)."""
    config = RunConfig.from_dict(store.run_config(run_id))
    resolved = resolve(config)
    while True:
        pending = store.pending(run_id)
        if config.workers == 1 and config.backend == "local":
            asyncio.run(_inline(store, config, resolved, pending, on_done))
        else:
            from arena.tournaments.workers import run_parallel
            run_parallel(store, config, pending, on_done)
        if config.schedule != "swiss" or not next_swiss_round(store, run_id, config, resolved):
            break
    store.set_status(run_id, "done")
