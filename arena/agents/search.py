"""The shared search core over the rules ``State``: tree nodes, UCT/PUCT selection, expansion,
rollouts, backup with MCTS-Solver proofs, chance and determinisation handling.

Used by :mod:`arena.agents.mcts` (UCT, random rollouts) and :mod:`arena.agents.llm_mcts`
(PUCT with an LLM prior); :func:`search` is the UCT search as a pure function.  A game is
searchable when its State implements ``clone()`` (cheaply, ideally: one clone per simulation).

* Chance nodes (``to_move() == [CHANCE]``): in a game that has them (it overrides
  ``chance_outcomes``/``apply_chance``/``sample_chance``, :func:`has_chance_nodes`) each
  simulation's clone gets a fresh ``rng`` drawn from the search's generator, and outcomes are
  sampled with that state rng (:func:`sample_chance`); the tree branches on the sampled
  outcome (an open loop under determinisation, below).  Games without chance nodes keep the
  clone's rng as is.
* Simultaneous nodes (several players in ``to_move()``): played as sequential in the
  tree; at the root the searching player moves first, deeper the listed order is used.
* Any number of players: each node's value is the mean return of the player who moved
  into it, so every player maximises its own return.
* Imperfect information by determinisation: a State may offer the optional method
  ``determinize(player, rng) -> State`` -- a clone in which everything ``player``
  cannot see (others' cards, the deck order, ...) is resampled with ``rng``
  consistently with what ``player`` knows.  When present, every simulation starts
  from a fresh determinisation instead of a clone (:func:`simulation_root`; single-observer
  information-set MCTS: the tree is keyed by actions, a child's exploration term uses how
  often it was available, and chance outcomes are sampled without branching).
* Free-text nodes (``legal_actions() is None``) take the game's ``free_text_default``.
* MCTS-Solver (Winands et al. 2008, as OpenSpiel's ``solve=True``, :class:`Solver`):
  proven returns are backed up in deterministic sequential games.

UCT rescales Q to [-1, 1] by the smallest/largest return seen so far, so ``c`` means the
same on any score scale as on a +1/-1 game (OpenSpiel's convention).
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from arena.agents.base import Turn
from arena.games.base import CHANCE, State

#: Root statistics of a search: ``{action: (visits, mean return of the searching player)}``.
Stats = dict[str, tuple[int, float]]


class Node:
    """A search-tree node: visits ``n``, summed/mean return ``w``/``q`` of the player who moved
    into it, children by action (or chance outcome), and its proof (``outcome``) once solved."""

    __slots__ = ("avail", "children", "isq", "n", "outcome", "player", "priors", "q", "untried", "w")

    def __init__(self) -> None:
        self.children: dict[str, Node] = {}
        self.untried: list[str] | None = None  # UCT: actions not expanded yet (shuffled)
        self.priors: dict[str, float] | None = None  # PUCT: set when expanded
        self.n = 0
        self.w = 0.0  # sum of the returns of the player who moved into this node
        self.q = 0.0  # w / n
        self.isq = 1.0  # 1 / sqrt(n)
        self.avail = 0  # determinised UCT: simulations in which this action was legal
        self.outcome: list[float] | None = None  # MCTS-Solver: the proven returns of this node
        self.player = CHANCE  # who chooses among the children (set when first visited)


def has_chance_nodes(state: State) -> bool:
    """Whether the game has chance nodes (it overrides the chance methods of :class:`State`)."""
    kind = type(state)
    return any(getattr(kind, m) is not getattr(State, m) for m in ("chance_outcomes", "apply_chance", "sample_chance"))


def simulation_root(state: State, player: int, rng: random.Random, stochastic: bool) -> State:
    """One simulation's root: a determinisation if the game offers one, else a clone.

    A game with chance nodes gets a fresh generator per simulation (a clone's copy would
    replay the same outcomes); others keep theirs untouched (cheap, lazily copied rngs).
    """
    determinize = getattr(state, "determinize", None)
    sim = determinize(player, rng) if determinize is not None else state.clone()
    if stochastic:
        sim.rng = random.Random(rng.getrandbits(64))
    return sim


def sample_chance(s: State) -> str:
    """Apply one chance outcome drawn with the state's own rng; returns it (the child's key)."""
    outcomes = s.chance_outcomes()
    pick = s.rng.choices([o for o, _ in outcomes], weights=[p for _, p in outcomes])[0]
    s.apply_chance(pick)
    return pick


def rollout(s: State, rnd: Any, max_depth: int) -> None:
    """Uniformly random play until the end (or ``max_depth`` moves)."""
    depth = 0
    while True:
        movers = s.to_move()
        if not movers or (max_depth and depth >= max_depth):
            return
        p = movers[0]
        if p == CHANCE:
            s.sample_chance()
            continue
        legal = s.legal_actions(p)
        s.apply(p, legal[int(rnd() * len(legal))] if legal else s.free_text_default)
        depth += 1


def root_actions(state: State, player: int) -> list[str]:
    """The root's actions for ``player``; refuses a player who is not to move."""
    if player not in state.to_move():
        raise ValueError(f"player {player} is not to move (to_move={state.to_move()})")
    return state.legal_actions(player) or [state.free_text_default]


def stop_time(seconds: float, deadline: float | None) -> float:
    """When to stop: ``seconds`` from now (0 = no limit), at most 50 ms before ``deadline``."""
    stop = time.monotonic() + seconds if seconds > 0 else math.inf
    return min(stop, deadline - 0.05) if deadline is not None else stop


# --- UCT ---------------------------------------------------------------------------
def search(state: State, player: int, simulations: int = 1000, *, c: float = 1.4, seconds: float = 0.0,
           max_depth: int = 0, rng: random.Random | None = None, deadline: float | None = None,
           solve: bool = True, proven: dict[str, float] | None = None) -> Stats:
    """UCT from ``state`` for ``player``: ``{action: (visits, mean return of player)}`` at the root.

    Stops after ``simulations`` (0 = no limit) or ``seconds`` of search (0 = none) or at the
    ``deadline`` (``time.monotonic()`` value, minus 50 ms), whichever comes first, or once the
    root is proven (``solve``), but runs at least one simulation; ``state`` is not modified.
    With ``solve`` (MCTS-Solver, Winands et al. 2008, as OpenSpiel's ``solve=True``) proven
    returns are backed up in deterministic sequential games; ``proven`` (if given) receives
    ``{action: proven return of player}`` for the root actions that were solved.
    """
    if simulations <= 0 and seconds <= 0 and deadline is None:
        raise ValueError("give a number of simulations or a time budget")
    root_actions(state, player)
    rng = rng or random.Random()
    root = Node()
    stop = stop_time(seconds, deadline)
    stochastic = has_chance_nodes(state)
    if getattr(state, "determinize", None) is None:
        solver = Solver(getattr(state, "max_utility", None)) if solve and not stochastic else None
        _uct(state, player, root, simulations, stop, c, max_depth, rng, stochastic, solver)
        if proven is not None:
            proven.update({a: ch.outcome[player] for a, ch in root.children.items() if ch.outcome is not None})
    else:
        bounds = [math.inf, -math.inf]
        done = 0
        while (simulations <= 0 or done < simulations) and (done & 7 or not done or time.monotonic() < stop):
            sim = simulation_root(state, player, rng, stochastic)
            _simulate_determinised(sim, player, root, c, max_depth, rng, bounds)
            done += 1
    return {a: (ch.n, ch.q) for a, ch in root.children.items() if ch.n}


class Solver:
    """MCTS-Solver's proofs: a node is proven when its mover has a proven child with the best
    possible return (``max_utility``, when the game states it) or when every child is proven.
    Proofs stop at simultaneous nodes (the tree serialises them: a proof would let the
    second mover see the first one's choice)."""

    def __init__(self, max_utility: float | None) -> None:
        self.max_utility = max_utility
        self.active = True

    def prove(self, path: list[Node]) -> None:
        """Back proofs up ``path`` (its last node is proven) as far as they go."""
        for node in reversed(path[:-1]):
            if not self.active or node.player < 0:
                return
            p, best, complete = node.player, None, not node.untried  # untried actions: not all proven
            for child in node.children.values():
                if child.outcome is None:
                    complete = False
                elif best is None or child.outcome[p] > best[p]:
                    best = child.outcome
            if best is None or not (complete or (self.max_utility is not None and best[p] >= self.max_utility)):
                return
            node.outcome = best


def _uct(state: State, player: int, root: Node, simulations: int, stop: float, c: float, max_depth: int,
         rng: random.Random, stochastic: bool, solver: Solver | None = None) -> None:
    """The simulations of a perfect-information search: one flat loop, the hot path."""
    rnd, sqrt, log, clone, monotonic = rng.random, math.sqrt, math.log, state.clone, time.monotonic
    bounds, scale = [math.inf, -math.inf], 0.0  # the smallest and largest return seen
    done = 0
    while (simulations <= 0 or done < simulations) and (done & 7 or not done or monotonic() < stop):
        if root.outcome is not None:
            break  # solved: nothing left to learn
        done += 1
        s = clone()
        if stochastic:
            s.rng = random.Random(rng.getrandbits(64))
        node, path, movers = root, [root], [CHANCE]
        returns: list[float] | None = None
        while True:
            if node.outcome is not None:  # a proven node: its value is known, no need to play on
                returns = node.outcome
                break
            to_move = s.to_move()
            if not to_move:
                if solver is not None and solver.active:
                    node.outcome = returns = s.returns()
                    solver.prove(path)
                break
            if solver is not None and len(to_move) > 1:
                solver.active = False
            p = player if node is root else to_move[0]
            node.player = p
            if p == CHANCE:
                outcome = sample_chance(s)
                child = node.children.get(outcome)
                if child is None:
                    child = node.children[outcome] = Node()
            else:
                untried = node.untried
                if untried is None:
                    untried = node.untried = list(s.legal_actions(p) or [s.free_text_default])
                    for i in range(len(untried) - 1, 0, -1):  # shuffle with the search's rng
                        j = int(rnd() * (i + 1))
                        untried[i], untried[j] = untried[j], untried[i]
                if untried:
                    action = untried.pop()
                    s.apply(p, action)
                    child = node.children[action] = Node()
                    path.append(child)
                    movers.append(p)
                    if solver is not None and solver.active and not s.to_move():
                        child.outcome = s.returns()  # a terminal child is proven at once
                        solver.prove(path)
                    else:
                        rollout(s, rnd, max_depth)
                    break
                # UCB1 on Q rescaled to [-1, 1] (its constant shift does not change the argmax);
                # a proven child counts at its proven value, without exploration
                explore = c * sqrt(log(node.n))
                best, child = -math.inf, None
                for a, ch in node.children.items():
                    value = ch.q * scale + explore * ch.isq if ch.outcome is None else ch.outcome[p] * scale
                    if value > best:
                        best, action, child = value, a, ch
                s.apply(p, action)
            node = child
            _enter(path, movers, child, p)
        backup(s.returns() if returns is None else returns, path, movers, bounds)
        lo, hi = bounds
        scale = 2.0 / (hi - lo) if hi > lo else 0.0


def _simulate_determinised(s: State, player: int, root: Node, c: float, max_depth: int,
                           rng: random.Random, bounds: list[float]) -> None:
    """One simulation of single-observer ISMCTS on a determinisation (availability counts)."""
    node, path, movers = root, [root], [CHANCE]
    lo, hi = bounds
    scale = 2.0 / (hi - lo) if hi > lo else 0.0  # Q onto [-1, 1] (+ a constant)
    while True:
        to_move = s.to_move()
        if not to_move:
            break
        p = player if node is root else to_move[0]
        if p == CHANCE:  # open loop: chance is part of the sampled world
            s.sample_chance()
            continue
        legal = s.legal_actions(p) or [s.free_text_default]
        untried = [a for a in legal if a not in node.children]
        if untried:
            action = rng.choice(untried)
            s.apply(p, action)
            child = node.children[action] = Node()
            child.avail = 1
            path.append(child)
            movers.append(p)
            rollout(s, rng.random, max_depth)
            break
        best, child = -math.inf, None
        for a in legal:
            ch = node.children[a]
            ch.avail += 1
            value = ch.q * scale + c * math.sqrt(math.log(ch.avail)) * ch.isq
            if value > best:
                best, action, child = value, a, ch
        s.apply(p, action)
        node = child
        _enter(path, movers, child, p)
    backup(s.returns(), path, movers, bounds)


def _enter(path: list[Node], movers: list[int], child: Node, mover: int) -> None:
    """Record the step of a simulation into ``child`` (moved into by ``mover``)."""
    path.append(child)
    movers.append(mover)


def backup(returns: list[float], path: list[Node], movers: list[int], bounds: list[float] | None = None) -> None:
    """Add one simulation's ``returns`` along ``path`` (``movers[i]`` moved into ``path[i]``,
    CHANCE for the root and chance children); widen ``bounds`` (lo, hi) when given."""
    for node, mover in zip(path, movers):
        node.n += 1
        if mover >= 0:
            node.w += returns[mover]
            node.q = node.w / node.n
        node.isq = 1.0 / math.sqrt(node.n)
    if bounds is not None:
        bounds[0] = min(bounds[0], *returns)
        bounds[1] = max(bounds[1], *returns)


def best_action(stats: Stats, proven: dict[str, float] | None = None) -> str:
    """Most visits, then best value; with proofs (OpenSpiel's order) the proven value comes first,
    an unproven action counting as 0 (a draw on a win/loss scale).  Ties go to the first in the
    stats' order (the search's), then the proofs', never to a set's order (which varies per process)."""
    proven = proven or {}
    return max(dict.fromkeys([*stats, *proven]),
               key=lambda a: (proven.get(a, 0.0), *stats.get(a, (0, -math.inf))))


def puct_select(node: Node, legal: list[str], c_puct: float) -> str | None:
    """PUCT's choice among ``legal`` actions with a prior at ``node``: Q + c_puct * P * sqrt(N) / (1 + n),
    Q = 1/2 for an unvisited action; None when no legal action has a prior."""
    priors = node.priors or {}
    explore = c_puct * math.sqrt(max(node.n, 1))
    best, action = -math.inf, None
    for a in legal:
        if a not in priors:
            continue
        ch = node.children.get(a)
        q, n = (ch.w / ch.n, ch.n) if ch is not None and ch.n else (0.5, 0)
        score = q + explore * priors[a] / (1 + n)
        if score > best:
            best, action = score, a
    return action


def search_state(turn: Turn, kind: str) -> State:
    """The rules state a search agent searches (``turn.state``); refuses a turn without it."""
    if turn.state is None:
        raise ValueError(f"{kind} needs the rules state (turn.state); it searches clones of it")
    return turn.state


def search_info(stats: Stats, seconds: float) -> dict[str, Any]:
    """A decision's ``info``: visits and Q per root action, simulations, seconds, speed."""
    sims = sum(n for n, _ in stats.values())
    return {"visits": {a: n for a, (n, _) in stats.items()}, "q": {a: round(q, 4) for a, (_, q) in stats.items()},
            "simulations": sims, "seconds": round(seconds, 4),
            "simulations_per_second": round(sims / max(seconds, 1e-9))}
