"""Counterfactual regret minimisation (vanilla CFR and CFR+) for small two-player zero-sum games.

Works on any rules :class:`~arena.games.base.State` whose whole tree fits in memory and
that has explicit chance nodes (``to_move() == [CHANCE]`` with ``chance_outcomes``):
the tree is expanded once by cloning, then CFR runs vectorised over its edges with
numpy (one forward pass for reach probabilities, one backward pass for values per
update).  Information sets are keyed by ``observation_data(p)["infoset"]`` when the game
provides it, else by the observation text (which holds exactly what the player knows).

- ``cfr+`` (default): regret matching+, alternating updates, linear averaging
  (Tammelin 2014); ``cfr``: vanilla CFR with alternating updates (Zinkevich et al. 2007).
- :meth:`Solver.value` — exact expected value of a profile (default: the average
  strategy) for player 0, enumerating chance; :meth:`Solver.exploitability` — mean of
  the two best-response gains against it (0 at a Nash equilibrium).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from arena.games.base import CHANCE, State

InfosetKey = Callable[[State, int], str]


def default_key(state: State, player: int) -> str:
    data = state.observation_data(player)
    return str(data["infoset"]) if "infoset" in data else state.observation(player)


@dataclass
class Tree:
    """The game tree as flat arrays; node 0 is the root (after no action)."""

    kind: list[int] = field(default_factory=list)  # CHANCE, 0, 1 (player to act) or 2 (terminal)
    depth: list[int] = field(default_factory=list)
    utility: list[float] = field(default_factory=list)  # player 0's return at terminals
    infoset: list[int] = field(default_factory=list)  # -1 unless a decision node
    edge_parent: list[int] = field(default_factory=list)
    edge_child: list[int] = field(default_factory=list)
    edge_sa: list[int] = field(default_factory=list)  # infoset-action slot, -1 for chance edges
    edge_prob: list[float] = field(default_factory=list)  # chance probability (1 for player edges)
    keys: list[str] = field(default_factory=list)  # infoset index -> key
    actions: list[list[str]] = field(default_factory=list)  # infoset index -> actions
    offset: list[int] = field(default_factory=list)  # infoset index -> first slot
    owner: list[int] = field(default_factory=list)  # infoset index -> player


def build_tree(root: State, key: InfosetKey = default_key, max_nodes: int = 1_000_000) -> Tree:
    if root.num_players != 2:
        raise ValueError("CFR here is for two-player zero-sum games")
    tree = Tree()
    index: dict[str, int] = {}
    stack: list[tuple[State, int, int, float, int]] = [(root, -1, -1, 1.0, 0)]
    while stack:
        state, parent, sa, prob, depth = stack.pop()
        node = len(tree.kind)
        if node >= max_nodes:
            raise ValueError(f"the game tree has more than {max_nodes} nodes: too large for tabular CFR")
        tree.depth.append(depth)
        if parent >= 0:
            tree.edge_parent.append(parent)
            tree.edge_child.append(node)
            tree.edge_sa.append(sa)
            tree.edge_prob.append(prob)
        movers = state.to_move()
        if not movers:
            tree.kind.append(2)
            tree.utility.append(float(state.returns()[0]))
            tree.infoset.append(-1)
            continue
        tree.utility.append(0.0)
        if movers == [CHANCE]:
            tree.kind.append(CHANCE)
            tree.infoset.append(-1)
            for outcome, p in state.chance_outcomes():
                child = state.clone()
                child.apply_chance(outcome)
                stack.append((child, node, -1, p, depth + 1))
            continue
        if len(movers) != 1:
            raise ValueError("CFR needs sequential moves (one player at a time)")
        player = movers[0]
        legal = state.legal_actions(player)
        if not legal:
            raise ValueError("CFR needs a finite list of legal actions at every decision")
        k = key(state, player)
        if k not in index:
            index[k] = len(tree.keys)
            tree.keys.append(k)
            tree.actions.append(list(legal))
            tree.offset.append(tree.offset[-1] + len(tree.actions[-2]) if len(tree.keys) > 1 else 0)
            tree.owner.append(player)
        i = index[k]
        if tree.actions[i] != list(legal) or tree.owner[i] != player:
            raise ValueError(f"information set {k!r} has different actions or players at two nodes")
        tree.kind.append(player)
        tree.infoset.append(i)
        for a, action in enumerate(legal):
            child = state.clone()
            child.apply(player, action)
            stack.append((child, node, tree.offset[i] + a, 1.0, depth + 1))
    return tree


class Solver:
    """Tabular CFR/CFR+ on an expanded tree; ``average`` maps infoset key -> {action: prob}."""

    def __init__(self, root: State, variant: str = "cfr+", key: InfosetKey = default_key) -> None:
        if variant not in ("cfr", "cfr+"):
            raise ValueError(f"unknown CFR variant {variant!r}; valid: cfr, cfr+")
        self.variant = variant
        self.tree = t = build_tree(root, key)
        self.n_nodes = len(t.kind)
        self.kind = np.array(t.kind)
        self.utility = np.array(t.utility)
        parent, child = np.array(t.edge_parent, dtype=np.int64), np.array(t.edge_child, dtype=np.int64)
        sa, prob = np.array(t.edge_sa, dtype=np.int64), np.array(t.edge_prob)
        self.n_sa = t.offset[-1] + len(t.actions[-1]) if t.keys else 0
        self.slot_infoset = np.repeat(np.arange(len(t.keys)), [len(a) for a in t.actions]).astype(np.int64)
        self.infoset_size = np.array([len(a) for a in t.actions], dtype=float)
        depth = np.array(t.depth)[parent]
        order = np.argsort(depth, kind="stable")
        bounds = np.flatnonzero(np.diff(depth[order])) + 1
        self.levels = [order[idx] for idx in np.split(np.arange(len(order)), bounds)] if len(order) else []
        self.parent, self.child, self.sa, self.prob = parent, child, sa, prob
        self.edge_kind = self.kind[parent]
        self.regret = np.zeros(self.n_sa)
        self.total = np.zeros(self.n_sa)
        self.iterations = 0

    # --- strategies ---------------------------------------------------------------
    def _normalise(self, weights: np.ndarray) -> np.ndarray:
        sums = np.bincount(self.slot_infoset, weights=weights, minlength=len(self.infoset_size))
        per = sums[self.slot_infoset]
        uniform = 1.0 / self.infoset_size[self.slot_infoset]
        return np.where(per > 0, weights / np.where(per > 0, per, 1.0), uniform)

    def current(self) -> np.ndarray:
        return self._normalise(np.maximum(self.regret, 0.0))

    def average_slots(self) -> np.ndarray:
        return self._normalise(self.total)

    @property
    def average(self) -> dict[str, dict[str, float]]:
        avg = self.average_slots()
        t = self.tree
        return {k: {a: float(avg[t.offset[i] + j]) for j, a in enumerate(t.actions[i])} for i, k in enumerate(t.keys)}

    # --- passes ---------------------------------------------------------------------
    def _edge_weights(self, sigma: np.ndarray) -> np.ndarray:
        return np.where(self.sa >= 0, sigma[np.maximum(self.sa, 0)], self.prob)

    def _reach(self, w: np.ndarray) -> np.ndarray:
        """(3, N) reach: player 0's, player 1's and chance's contributions."""
        reach = np.ones((3, self.n_nodes))
        for level in self.levels:
            p, c, k = self.parent[level], self.child[level], self.edge_kind[level]
            reach[:, c] = reach[:, p]
            for row, who in ((0, 0), (1, 1), (2, CHANCE)):
                mask = k == who
                reach[row, c[mask]] *= w[level][mask]
        return reach

    def _values(self, w: np.ndarray) -> np.ndarray:
        """Player 0's expected value at every node under edge weights ``w``."""
        v = np.where(self.kind == 2, self.utility, 0.0)
        for level in reversed(self.levels):
            p, c = self.parent[level], self.child[level]
            v += np.bincount(p, weights=w[level] * v[c], minlength=self.n_nodes)
        return v

    def iterate(self, iterations: int = 1) -> None:
        for _ in range(iterations):
            self.iterations += 1
            for player in (0, 1):
                sigma = self.current()
                w = self._edge_weights(sigma)
                reach = self._reach(w)
                v = self._values(w)
                if player == 1:
                    v = -v
                mine = self.edge_kind == player
                p, c, s = self.parent[mine], self.child[mine], self.sa[mine]
                cf = reach[1 - player, p] * reach[2, p]
                inst = np.bincount(s, weights=cf * (v[c] - v[p]), minlength=self.n_sa)
                self.regret += inst
                if self.variant == "cfr+":
                    np.maximum(self.regret, 0.0, out=self.regret)
                weight = self.iterations if self.variant == "cfr+" else 1.0
                self.total += weight * np.bincount(s, weights=reach[player, p] * sigma[s], minlength=self.n_sa)

    # --- evaluation -------------------------------------------------------------------
    def value(self, sigma: np.ndarray | None = None) -> float:
        """Exact expected return of player 0 under a profile (default: the average strategy)."""
        sigma = self.average_slots() if sigma is None else sigma
        return float(self._values(self._edge_weights(sigma))[0])

    def best_response_value(self, player: int, sigma: np.ndarray | None = None) -> float:
        """Value for ``player`` of a best response to the other player's part of ``sigma``."""
        sigma = self.average_slots() if sigma is None else sigma
        w = self._edge_weights(sigma)
        w_opp = np.where(self.edge_kind == player, 1.0, w)
        reach = self._reach(w_opp)
        cf = reach[1 - player] * reach[2]
        sign = 1.0 if player == 0 else -1.0
        v = np.where(self.kind == 2, sign * self.utility, 0.0)
        for level in reversed(self.levels):
            p, c, s, k = self.parent[level], self.child[level], self.sa[level], self.edge_kind[level]
            other = k != player
            v += np.bincount(p[other], weights=w[level][other] * v[c[other]], minlength=self.n_nodes)
            mine = ~other
            if not mine.any():
                continue
            q = np.bincount(s[mine], weights=cf[p[mine]] * v[c[mine]], minlength=self.n_sa)
            best = np.full(len(self.infoset_size), -np.inf)
            np.maximum.at(best, self.slot_infoset[s[mine]], q[s[mine]])
            choice = np.zeros(self.n_sa)
            for slot in np.unique(s[mine]):  # the first maximising action of each infoset
                i = self.slot_infoset[slot]
                if np.isfinite(best[i]) and q[slot] >= best[i] - 1e-12:
                    choice[slot] = 1.0
                    best[i] = np.inf
            v += np.bincount(p[mine], weights=choice[s[mine]] * v[c[mine]], minlength=self.n_nodes)
        return float(v[0])

    def exploitability(self, sigma: np.ndarray | None = None) -> float:
        """(BR value of player 0 + BR value of player 1) / 2, in the game's units per game."""
        return 0.5 * (self.best_response_value(0, sigma) + self.best_response_value(1, sigma))
