"""Visual replays: every stored step of a match with the game's visual of what its player saw.

The positions are rebuilt by replaying the stored actions from the seed through the game's
own State (:func:`arena.export.replay.replay`); each step's visual is drawn from the mover's
view before its action, and one last frame shows the end of the match in the public view.
A match that cannot be replayed (the game changed) keeps its text transcript only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from arena.export.replay import default_resolver, replay_or_skip
from arena.games.base import CHANCE, State
from arena.report import visuals
from arena.trajectory import Trajectory

log = logging.getLogger(__name__)


@dataclass
class Replay:
    """The frames of one match: ``frames[i]`` belongs to stored step ``i``; ``end`` is the final position."""

    family: str | None
    frames: list[dict[str, Any] | None] = field(default_factory=list)
    end: dict[str, Any] | None = None
    chart: Any = None


def final_state(points: list[Any]) -> State | None:
    """The position after the last stored node (chance resolved as the match did)."""
    if not points:
        return None
    last = points[-1]
    state = last.state.clone()
    for step in last.node:
        state.apply(step.player, step.action)
    while state.to_move() == [CHANCE]:
        state.sample_chance()
    return state


def build_replay(traj: Trajectory) -> Replay | None:
    """The replay of ``traj``, or None when its game has no visual or it cannot be replayed."""
    points = replay_or_skip(traj, default_resolver)
    if points is None:
        return None
    first = points[0].state if points else default_resolver(traj.game)(traj.seed)
    family = visuals.family(first)
    if family is None:
        return None
    rep = Replay(family, [visuals.frame(p.state, p.player) for p in points])
    end = final_state(points)
    if end is not None:
        rep.end = visuals.frame(end, None)
        rep.chart = visuals.match_chart(end)
    return rep
