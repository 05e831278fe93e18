"""Executes a run's pending matches (concurrently, in one event loop) and stores each as it ends."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from arena.match import Policy, aplay_match
from arena.redact import redact
from arena.registry import AgentSpec, GameSpec, SpecError, parse_agent, parse_game
from arena.store import PlannedMatch, Store
from arena.tournaments.schedule import round_robin
from arena.trajectory import Trajectory

log = logging.getLogger(__name__)
QUICKSTART_GAMES = ["prisoners-dilemma"]
QUICKSTART_AGENTS = ["tit-for-tat", "always-defect", "win-stay-lose-shift", "random"]


@dataclass
class RunConfig:
    games: list[str] = field(default_factory=lambda: list(QUICKSTART_GAMES))
    agents: list[str] = field(default_factory=lambda: list(QUICKSTART_AGENTS))
    games_per_pair: int = 2
    seed: int = 0
    retries: int = 2
    fallback: str = "random"
    time_limit: float | None = None
    concurrency: int = 8

    def policy(self) -> Policy:
        try:
            return Policy(self.retries, self.fallback, self.time_limit)
        except ValueError as err:
            raise SpecError(str(err)) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Resolved:
    games: dict[str, GameSpec]
    agents: dict[str, AgentSpec]
    policy: Policy


def resolve(config: RunConfig) -> Resolved:
    """Parse and check every spec of a run; raises :class:`SpecError` on the first bad one."""
    if not config.games or not config.agents:
        raise SpecError("a run needs at least one --game and at least two --agent")
    if config.concurrency < 1:
        raise SpecError("concurrency must be at least 1")
    games = [parse_game(g) for g in config.games]
    agents = [parse_agent(a) for a in config.agents]
    names = [a.name for a in agents]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"agent {name!r} is given twice; give each a name, e.g. --agent a2={name}")
    for agent in agents:
        agent.make()  # fail fast on a plug-in that cannot be built
    return Resolved({g.spec: g for g in games}, {a.name: a for a in agents}, config.policy())


def new_run(store: Store, config: RunConfig) -> str:
    resolved = resolve(config)
    run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    plan = round_robin(run_id, list(resolved.games.values()), list(resolved.agents.values()),
                       config.games_per_pair, config.seed)
    store.create_run(run_id, asdict(config), plan)
    return run_id


async def _play(store: Store, resolved: Resolved, match: PlannedMatch) -> Trajectory | None:
    game = resolved.games[match.game]
    try:
        agents = [resolved.agents[p.name].make() for p in match.players]
        traj = await aplay_match(game.make, agents, match.players, match.seed, match.match_id, match.game,
                                 game.params, resolved.policy)
    except Exception as err:  # a bug in a game or plug-in must not stop the tournament
        log.error("match %s failed: %s", match.match_id, redact(f"{type(err).__name__}: {err}"))
        store.fail_match(match.match_id, redact(f"{type(err).__name__}: {err}"))
        return None
    store.save_match(traj)
    return traj


async def aexecute(store: Store, run_id: str, on_done: Callable[[Trajectory | None], None] | None = None) -> None:
    config = RunConfig.from_dict(store.run_config(run_id))
    resolved = resolve(config)
    semaphore = asyncio.Semaphore(config.concurrency)

    async def one(match: PlannedMatch) -> None:
        async with semaphore:
            traj = await _play(store, resolved, match)
        if on_done:
            on_done(traj)

    await asyncio.gather(*(one(m) for m in store.pending(run_id)))
    store.set_status(run_id, "done")


def execute(store: Store, run_id: str, on_done: Callable[[Trajectory | None], None] | None = None) -> None:
    asyncio.run(aexecute(store, run_id, on_done))
