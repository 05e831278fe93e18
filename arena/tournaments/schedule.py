"""Schedules: which agents meet in which seats, in a fixed, seed-derived order.

- round robin: every group of agents meets ``games_per_pair`` times per game;
  two-player games alternate seats (A-B, B-A, ...), N-player games take every
  combination of N agents and rotate the seating;
- gauntlet: one focus agent meets every other agent (seats alternate);
- swiss: rounds of pairings by current points (win 1, draw 1/2) among agents with
  equal or close points, never a rematch while another pairing exists; an odd agent
  out gets a bye (no game).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Sequence

from arena.agents.registry import AgentSpec

from arena.games.registry import GameSpec

from arena.spec import SpecError
from arena.store import PlannedMatch
from arena.trajectory import Outcome, Player

Pairing = tuple[int, ...]


def match_seed(run_seed: int, idx: int) -> int:
    """A 31-bit seed for match ``idx`` of a run, independent of execution order."""
    return int(hashlib.sha256(f"{run_seed}:{idx}".encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def expand(run_id: str, games: Sequence[GameSpec], agents: Sequence[AgentSpec], groups: dict[str, list[Pairing]],
           games_per_pair: int, seed: int, start: int = 0, swap: bool = True) -> list[PlannedMatch]:
    """Matches for the given groups of agent indices per game, seats rotating game by game (if ``swap``)."""
    plan: list[PlannedMatch] = []
    for game in games:
        duplicate = bool(game.params.get("duplicate"))  # each block of seat rotations replays the same deals
        for group in groups[game.spec]:
            n = len(group)
            for k in range(games_per_pair):
                shift = k % n if swap else 0
                seats = group[shift:] + group[:shift]
                idx = start + len(plan)
                seed_idx = idx - k % n if duplicate else idx
                players = [Player(s, agents[a].name, agents[a].spec) for s, a in enumerate(seats)]
                plan.append(PlannedMatch(f"{run_id}-{idx:05d}", idx, game.spec, match_seed(seed, seed_idx), players))
    return plan


def seats_of(game: GameSpec) -> int:
    return game.make(0).num_players


def round_robin(run_id: str, games: Sequence[GameSpec], agents: Sequence[AgentSpec], games_per_pair: int,
                seed: int, swap: bool = True) -> list[PlannedMatch]:
    groups = {}
    for game in games:
        n = seats_of(game)
        if len(agents) < n:
            raise SpecError(f"{game.spec} needs {n} players but only {len(agents)} agent(s) were given")
        groups[game.spec] = list(itertools.combinations(range(len(agents)), n))
    return expand(run_id, games, agents, groups, games_per_pair, seed, swap=swap)


def gauntlet(run_id: str, games: Sequence[GameSpec], agents: Sequence[AgentSpec], focus: str,
             games_per_pair: int, seed: int, swap: bool = True) -> list[PlannedMatch]:
    names = [a.name for a in agents]
    if focus not in names:
        raise SpecError(f"gauntlet focus {focus!r} is not one of the agents: {', '.join(names)}")
    _two_player_only(games, "gauntlet")
    me = names.index(focus)
    groups = {g.spec: [(me, other) for other in range(len(agents)) if other != me] for g in games}
    return expand(run_id, games, agents, groups, games_per_pair, seed, swap=swap)


def swiss_rounds(n_agents: int, asked: int) -> int:
    return asked or max(1, math.ceil(math.log2(max(n_agents, 2))))


def swiss_pairings(n_agents: int, results: Sequence[tuple[list[Player], Outcome]], names: list[str],
                   seed: int, round_no: int) -> list[Pairing]:
    """Pair agents of similar points, avoiding rematches; deterministic for a seed and round."""
    points = {name: 0.0 for name in names}
    met: set[frozenset[str]] = set()
    for players, outcome in results:
        best = min(outcome.ranks)
        winners = [p.name for p in players if outcome.ranks[p.seat] == best]
        for p in players:
            if p.name in winners:
                points[p.name] += 1.0 / len(winners) if len(winners) > 1 else 1.0
        met.add(frozenset(p.name for p in players))
    order = list(range(n_agents))
    random.Random(f"{seed}:swiss:{round_no}").shuffle(order)
    order.sort(key=lambda i: -points[names[i]])
    pairs = _pair(order, names, met)
    return pairs if pairs is not None else [tuple(order[i:i + 2]) for i in range(0, len(order) - 1, 2)]


def _pair(order: list[int], names: list[str], met: set[frozenset[str]]) -> list[Pairing] | None:
    if len(order) < 2:
        return []
    first, rest = order[0], order[1:]
    for j, other in enumerate(rest):
        if frozenset((names[first], names[other])) in met:
            continue
        tail = _pair(rest[:j] + rest[j + 1:], names, met)
        if tail is not None:
            return [(first, other)] + tail
    if len(order) % 2 == 1:  # the top agent may take the bye instead
        return _pair(rest, names, met)
    return None


def _two_player_only(games: Sequence[GameSpec], schedule: str) -> None:
    for game in games:
        if seats_of(game) != 2:
            raise SpecError(f"the {schedule} schedule needs two-player games; {game.spec} seats {seats_of(game)}")


def swiss_round(run_id: str, games: Sequence[GameSpec], agents: Sequence[AgentSpec], results: Sequence[tuple[list[Player], Outcome]],
                games_per_pair: int, seed: int, round_no: int, start: int) -> list[PlannedMatch]:
    _two_player_only(games, "swiss")
    names = [a.name for a in agents]
    pairs = swiss_pairings(len(agents), results, names, seed, round_no)
    return expand(run_id, games, agents, {g.spec: pairs for g in games}, games_per_pair, seed, start)
