"""Replay a stored match to its decision points: the rules State every stored turn was taken in.

A match is replayed from its game spec and seed (``GameSpec.make(seed)``) by applying
every stored action in order, resolving chance nodes with the state's own generator
exactly as :func:`arena.match.aplay_match` does (``sample_chance`` until the node is
not a chance node, then the node's movers in order).  At every node the replayed
observation text and legal actions must equal the stored ones; a match where they do
not (the game changed since it was played, or its rules are not deterministic given
the seed) is skipped with a logged warning, never half-used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from arena.errors import ArenaError
from arena.games.base import CHANCE, State
from arena.games.registry import parse_game
from arena.trajectory import Step, Trajectory

log = logging.getLogger(__name__)
MakeState = Callable[[int], State]
ResolveGame = Callable[[str], MakeState]


class ReplayError(ArenaError, ValueError):
    """A stored match cannot be replayed faithfully (the message says where and why)."""


@dataclass
class DecisionPoint:
    """One stored turn with the state it was taken in.

    ``state`` is the node before any of its movers applied an action (at a simultaneous
    node every mover saw that same state); ``node`` are the stored steps of the node, in
    the order they were applied.  Never modify ``state``: clone it.
    """

    traj: Trajectory
    step: Step
    state: State
    node: list[Step]

    @property
    def player(self) -> int:
        return self.step.player


def default_resolver(game: str) -> MakeState:
    """The registry's factory for a stored game spec string (``prisoners-dilemma:rounds=3``)."""
    return parse_game(game).make


def replay(traj: Trajectory, make_state: MakeState) -> list[DecisionPoint]:
    """Every stored step of ``traj`` with its state; raises :class:`ReplayError` on any mismatch."""
    state = make_state(traj.seed)
    points: list[DecisionPoint] = []
    at = 0
    while at < len(traj.steps):
        while state.to_move() == [CHANCE]:
            state.sample_chance()
        movers = state.to_move()
        if not movers:
            raise ReplayError(f"the replayed game is over at step {at} but {len(traj.steps) - at} step(s) remain")
        node = traj.steps[at:at + len(movers)]
        if [s.player for s in node] != movers:
            raise ReplayError(f"step {at}: players to move are {movers}, stored {[s.player for s in node]}")
        snapshot = state.clone()
        for step in node:
            seen = state.observation(step.player)
            if seen != step.observation:
                raise ReplayError(f"step {step.index}: replayed observation differs from the stored one "
                                  f"({_first_difference(seen, step.observation)})")
            legal = state.legal_actions(step.player)
            if legal != step.legal_actions:
                raise ReplayError(f"step {step.index}: replayed legal actions {legal} != stored {step.legal_actions}")
            points.append(DecisionPoint(traj, step, snapshot, node))
        for step in node:
            try:
                state.apply(step.player, step.action)
            except ValueError as err:
                raise ReplayError(f"step {step.index}: stored action {step.action!r} is refused: {err}") from None
        at += len(movers)
    return points


def replay_or_skip(traj: Trajectory, resolve: ResolveGame) -> list[DecisionPoint] | None:
    """:func:`replay`, or ``None`` with a warning when the match cannot be replayed."""
    try:
        return replay(traj, resolve(traj.game))
    except Exception as err:  # a game that cannot be rebuilt or diverges: skip this match only
        log.warning("match %s (%s): skipped, replay failed: %s", traj.match_id, traj.game, err)
        return None


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at character {at}: replayed {a[at:at + 30]!r}, stored {b[at:at + 30]!r}"
