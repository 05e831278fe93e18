"""Kuhn and Leduc poker: expected-value loss of each action against CFR's equilibrium.

The game's whole tree is solved once per game spec with CFR+ (:mod:`arena.agents.cfr`,
``ITERATIONS`` iterations; its exploitability is recorded). For an action a of player p
at information set I, the action values are counterfactual values normalised by the
opponent's and chance's reach of I's histories:

    q(I, a) = Σ_{h∈I} π_{−p}(h) · v_p(h·a) / Σ_{h∈I} π_{−p}(h)

with both players following the CFR average strategy σ* before and after (π from σ*). In
chips per hand:

- EV loss against the equilibrium: Σ_{a'} σ*(I, a')·q(I, a') − q(I, a), what a costs against
  playing the equilibrium mix here (0 for every action in the equilibrium's support);
- EV loss against a best response: max_{a'} q(I, a') − q(I, a) ≥ 0, what a costs against the
  best action here when the opponent plays the equilibrium.

Only single-hand matches (``hands=1``) are judged: the tree of a longer match is not tabular.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arena.agents.cfr import Solver, default_key
from arena.games.registry import parse_game

ITERATIONS = 1000


class PokerJudge:
    def __init__(self, game: str, iterations: int = ITERATIONS) -> None:
        spec = parse_game(game)
        self.single = int(spec.params.get("hands", 1)) == 1
        if not self.single:
            return
        self.solver = Solver(spec.make(0))
        self.solver.iterate(iterations)
        self.exploitability = self.solver.exploitability()
        self.sigma = self.solver.average_slots()
        self.q = np.zeros(self.solver.n_sa)
        for player in (0, 1):
            self._fill(self.q, player, self.sigma)

    def _fill(self, q: np.ndarray, player: int, sigma: np.ndarray) -> None:
        """q[slot] for the slots of ``player`` under the profile ``sigma``."""
        s = self.solver
        w = s._edge_weights(sigma)
        reach, v = s._reach(w), s._values(w)
        if player == 1:
            v = -v
        mine = s.edge_kind == player
        p, c, slot = s.parent[mine], s.child[mine], s.sa[mine]
        cf = reach[1 - player, p] * reach[2, p]
        num = np.bincount(slot, weights=cf * v[c], minlength=s.n_sa)
        den = np.bincount(slot, weights=cf, minlength=s.n_sa)
        owned = np.zeros(s.n_sa, dtype=bool)
        owned[slot] = True
        q[owned] = np.where(den[owned] > 0, num[owned] / np.where(den[owned] > 0, den[owned], 1), 0.0)

    def _losses(self, infoset: int, slot: int) -> tuple[float, float]:
        t = self.solver.tree
        span = slice(t.offset[infoset], t.offset[infoset] + len(t.actions[infoset]))
        q, sigma = self.q[span], self.sigma[span]
        return float(q @ sigma - self.q[slot]), float(q.max() - self.q[slot])

    def analyse(self, points: list[Any]) -> dict[int, dict[str, Any]]:
        if not self.single:
            return {}
        t = self.solver.tree
        index = {k: i for i, k in enumerate(t.keys)}
        out = {}
        for point in points:
            infoset = index.get(default_key(point.state, point.player))
            if infoset is None or point.step.action not in t.actions[infoset]:
                continue
            slot = t.offset[infoset] + t.actions[infoset].index(point.step.action)
            eq, br = self._losses(infoset, slot)
            out[point.step.index] = {"kind": "poker", "ev_loss_equilibrium": round(eq, 6),
                                     "ev_loss_best_response": round(br, 6),
                                     "equilibrium_probability": round(float(self.sigma[slot]), 4),
                                     "exploitability": round(self.exploitability, 6)}
        return out
