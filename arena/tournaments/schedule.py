"""Schedules: which agents meet in which seats, in a fixed, seed-derived order."""

from __future__ import annotations

import hashlib
import itertools

from arena.registry import AgentSpec, GameSpec, SpecError
from arena.store import PlannedMatch
from arena.trajectory import Player


def match_seed(run_seed: int, idx: int) -> int:
    """A 31-bit seed for match ``idx`` of a run, independent of execution order."""
    return int(hashlib.sha256(f"{run_seed}:{idx}".encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def round_robin(run_id: str, games: list[GameSpec], agents: list[AgentSpec], games_per_pair: int,
                seed: int) -> list[PlannedMatch]:
    """Every group of agents meets ``games_per_pair`` times per game, seats rotating each game.

    Two-player games alternate seats (A-B, B-A, ...); N-player games take every
    combination of N agents and rotate the seating.
    """
    if games_per_pair < 1:
        raise SpecError("games per pair must be at least 1")
    plan: list[PlannedMatch] = []
    for game in games:
        n = game.make(0).num_players
        if len(agents) < n:
            raise SpecError(f"{game.spec} needs {n} players but only {len(agents)} agent(s) were given")
        for group in itertools.combinations(range(len(agents)), n):
            for k in range(games_per_pair):
                seats = group[k % n:] + group[:k % n]
                idx = len(plan)
                players = [Player(s, agents[a].name, agents[a].spec) for s, a in enumerate(seats)]
                plan.append(PlannedMatch(f"{run_id}-{idx:05d}", idx, game.spec, match_seed(seed, idx), players))
    return plan
