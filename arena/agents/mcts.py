"""Search agents over the rules ``State``: ``mcts`` (UCT, random rollouts) and ``llm-mcts`` (PUCT, LLM prior).

Both set ``needs_state = True`` and search clones of ``turn.state``; they work for any
game whose State implements ``clone()`` (cheaply, ideally: one clone per simulation).

* Chance nodes (``to_move() == [CHANCE]``): in a game that has them (it overrides
  ``chance_outcomes``/``apply_chance``/``sample_chance``) each simulation's clone gets a
  fresh ``rng`` drawn from the search's generator, and outcomes are sampled with that
  state rng; the tree branches on the sampled outcome (an open loop under
  determinisation, below).  Games without chance nodes keep the clone's rng as is.
* Simultaneous nodes (several players in ``to_move()``): played as sequential in the
  tree; at the root the searching player moves first, deeper the listed order is used.
* Any number of players: each node's value is the mean return of the player who moved
  into it, so every player maximises its own return.
* Imperfect information by determinisation: a State may offer the optional method
  ``determinize(player, rng) -> State`` -- a clone in which everything ``player``
  cannot see (others' cards, the deck order, ...) is resampled with ``rng``
  consistently with what ``player`` knows.  When present, every simulation starts
  from a fresh determinisation instead of a clone (single-observer information-set
  MCTS: the tree is keyed by actions, a child's exploration term uses how often it was
  available, and chance outcomes are sampled without branching).  The agents refuse a
  hidden-information game without ``determinize`` (:mod:`arena.games.hidden`) unless
  ``allow_peeking=true``: then it is searched on plain clones, seeing every card, and the
  decision's info says ``peeking``.
* Free-text nodes (``legal_actions() is None``) take the game's ``free_text_default``.

``mcts``: UCT with Q rescaled to [-1, 1] by the smallest/largest return seen so far,
so ``c`` means the same on any score scale as on a +1/-1 game (OpenSpiel's convention;
``c=1.4`` beat ``c=2.8`` 14-7, 3 draws, in 24 connect-four games at 1000 simulations).
``info`` records visits and the mean raw return per root action.  ``search(...)`` is
the same search as a pure function.

``llm-mcts`` (in :mod:`arena.agents.llm_mcts`; Schultz et al. 2024 "Mastering Board Games by External and Internal
Planning with Language Models"; PokéChamp): PUCT whose prior at each expanded node is
a softmax (``prior_temperature``) over the LLM's log-likelihood of each legal action,
scored with ``backend.score`` on the same prompt the LLM agent uses.  Leaves are valued
by a random rollout or, with ``llm_value=true``, by asking the model "will you win,
draw or lose?" from the mover's view and scoring the three one-word answers:
value = p(win) + p(draw)/2 for the mover, (N/2 - value)/(N - 1) for each of the N - 1
others.  Values are in [0, 1] per player: 1 for beating every opponent, 1/2 per tie
(terminal scores are ranked).  Selection: Q + c_puct * P * sqrt(N) / (1 + n), with
Q = 1/2 for unvisited actions.  ``top_k`` keeps only the k actions with the best prior
at the root ("the LLM proposes, search evaluates").  Priors and values are cached per
(player, observation text, legal actions) within one decision (hits need games whose
text does not spell out the move order).  A backend that cannot score gives a uniform
prior (noted in ``info``).  ``info`` holds visits, Q, the root prior, LLM calls, cache hits.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn
from arena.games.base import CHANCE, State
from arena.games.hidden import check_peeking

Stats = dict[str, tuple[int, float]]


class _Node:
    __slots__ = ("avail", "children", "isq", "n", "outcome", "player", "priors", "q", "untried", "w")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.untried: list[str] | None = None  # UCT: actions not expanded yet (shuffled)
        self.priors: dict[str, float] | None = None  # PUCT: set when expanded
        self.n = 0
        self.w = 0.0  # sum of the returns of the player who moved into this node
        self.q = 0.0  # w / n
        self.isq = 1.0  # 1 / sqrt(n)
        self.avail = 0  # determinised UCT: simulations in which this action was legal
        self.outcome: list[float] | None = None  # MCTS-Solver: the proven returns of this node
        self.player = CHANCE  # who chooses among the children (set when first visited)


def _stochastic(state: State) -> bool:
    """Whether the game has chance nodes (it overrides the chance methods of :class:`State`)."""
    kind = type(state)
    return any(getattr(kind, m) is not getattr(State, m) for m in ("chance_outcomes", "apply_chance", "sample_chance"))


def _start(state: State, player: int, rng: random.Random, stochastic: bool) -> State:
    """One simulation's root: a determinisation if the game offers one, else a clone.

    A game with chance nodes gets a fresh generator per simulation (a clone's copy would
    replay the same outcomes); others keep theirs untouched (cheap, lazily copied rngs).
    """
    determinize = getattr(state, "determinize", None)
    sim = determinize(player, rng) if determinize is not None else state.clone()
    if stochastic:
        sim.rng = random.Random(rng.getrandbits(64))
    return sim


def _chance(s: State) -> str:
    outcomes = s.chance_outcomes()
    pick = s.rng.choices([o for o, _ in outcomes], weights=[p for _, p in outcomes])[0]
    s.apply_chance(pick)
    return pick


def _rollout(s: State, rnd: Any, max_depth: int) -> None:
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


def _check_root(state: State, player: int) -> list[str]:
    if player not in state.to_move():
        raise ValueError(f"player {player} is not to move (to_move={state.to_move()})")
    return state.legal_actions(player) or [state.free_text_default]


def _stop_time(seconds: float, deadline: float | None) -> float:
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
    _check_root(state, player)
    rng = rng or random.Random()
    root = _Node()
    stop = _stop_time(seconds, deadline)
    stochastic = _stochastic(state)
    if getattr(state, "determinize", None) is None:
        solver = _Solver(getattr(state, "max_utility", None)) if solve and not stochastic else None
        _uct(state, player, root, simulations, stop, c, max_depth, rng, stochastic, solver)
        if proven is not None:
            proven.update({a: ch.outcome[player] for a, ch in root.children.items() if ch.outcome is not None})
    else:
        bounds = [math.inf, -math.inf]
        done = 0
        while (simulations <= 0 or done < simulations) and (done & 7 or not done or time.monotonic() < stop):
            sim = _start(state, player, rng, stochastic)
            _simulate_determinised(sim, player, root, c, max_depth, rng, bounds)
            done += 1
    return {a: (ch.n, ch.q) for a, ch in root.children.items() if ch.n}


class _Solver:
    """MCTS-Solver's proofs: a node is proven when its mover has a proven child with the best
    possible return (``max_utility``, when the game states it) or when every child is proven.
    Proofs stop at simultaneous nodes (the tree serialises them: a proof would let the
    second mover see the first one's choice)."""

    def __init__(self, max_utility: float | None) -> None:
        self.max_utility = max_utility
        self.active = True

    def prove(self, path: list[_Node]) -> None:
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


def _uct(state: State, player: int, root: _Node, simulations: int, stop: float, c: float, max_depth: int,
         rng: random.Random, stochastic: bool, solver: _Solver | None = None) -> None:
    """The simulations of a perfect-information search: one flat loop, the hot path."""
    rnd, sqrt, log, clone, monotonic = rng.random, math.sqrt, math.log, state.clone, time.monotonic
    lo, hi, scale = math.inf, -math.inf, 0.0
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
                outcome = _chance(s)
                child = node.children.get(outcome)
                if child is None:
                    child = node.children[outcome] = _Node()
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
                    child = node.children[action] = _Node()
                    path.append(child)
                    movers.append(p)
                    if solver is not None and solver.active and not s.to_move():
                        child.outcome = s.returns()  # a terminal child is proven at once
                        solver.prove(path)
                    else:
                        _rollout(s, rnd, max_depth)
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
            path.append(child)
            movers.append(p)
        if returns is None:
            returns = s.returns()
        for node, mover in zip(path, movers):
            node.n = n = node.n + 1
            if mover >= 0:
                node.w += returns[mover]
                node.q = node.w / n
            node.isq = 1.0 / sqrt(n)
        lo, hi = min(lo, *returns), max(hi, *returns)
        scale = 2.0 / (hi - lo) if hi > lo else 0.0


def _simulate_determinised(s: State, player: int, root: _Node, c: float, max_depth: int,
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
            child = node.children[action] = _Node()
            child.avail = 1
            path.append(child)
            movers.append(p)
            _rollout(s, rng.random, max_depth)
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
        path.append(child)
        movers.append(p)
    _backup(s.returns(), path, movers, bounds)


def _backup(returns: list[float], path: list[_Node], movers: list[int], bounds: list[float]) -> None:
    for node, mover in zip(path, movers):
        node.n += 1
        if mover >= 0:
            node.w += returns[mover]
            node.q = node.w / node.n
        node.isq = 1.0 / math.sqrt(node.n)
    bounds[0] = min(bounds[0], *returns)
    bounds[1] = max(bounds[1], *returns)


def _best(stats: Stats, proven: dict[str, float] | None = None) -> str:
    """Most visits, then best value; with proofs (OpenSpiel's order) the proven value comes first,
    an unproven action counting as 0 (a draw on a win/loss scale)."""
    proven = proven or {}
    return max(stats.keys() | proven.keys(),
               key=lambda a: (proven.get(a, 0.0), *stats.get(a, (0, -math.inf))))


class MCTSAgent:
    """UCT with random rollouts (see the module docstring)."""

    needs_state = True

    def __init__(self, simulations: int = 1000, seconds: float = 0.0, c: float = 1.4, seed: int = 0,
                 max_depth: int = 0, solve: bool = True, allow_peeking: bool = False) -> None:
        if simulations < 0 or seconds < 0 or (simulations == 0 and seconds == 0):
            raise ValueError("simulations and seconds must be >= 0, and not both 0")
        self.simulations, self.seconds, self.c, self.seed, self.max_depth = simulations, seconds, c, seed, max_depth
        self.solve, self.allow_peeking = solve, allow_peeking
        self.rng = random.Random(seed)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{self.seed}:{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> Decision:
        state = _state_of(turn, "mcts")
        peeking = check_peeking(state, "mcts", self.allow_peeking)
        started = time.perf_counter()
        proven: dict[str, float] = {}
        stats = search(state, turn.player, self.simulations, c=self.c, seconds=self.seconds,
                       max_depth=self.max_depth, rng=self.rng, deadline=turn.deadline, solve=self.solve,
                       proven=proven)
        info = _info(stats, time.perf_counter() - started)
        if proven:
            info["proven"] = proven
        if peeking:
            info["peeking"] = True
        return Decision(_best(stats, proven), info=info)


def _state_of(turn: Turn, kind: str) -> State:
    if turn.state is None:
        raise ValueError(f"{kind} needs the rules state (turn.state); it searches clones of it")
    return turn.state


def _info(stats: Stats, seconds: float) -> dict[str, Any]:
    sims = sum(n for n, _ in stats.values())
    return {"visits": {a: n for a, (n, _) in stats.items()}, "q": {a: round(q, 4) for a, (_, q) in stats.items()},
            "simulations": sims, "seconds": round(seconds, 4),
            "simulations_per_second": round(sims / max(seconds, 1e-9))}


# --- PUCT with an LLM prior ---------------------------------------------------------


AGENTS = {
    "mcts": AgentInfo(MCTSAgent, {"simulations": 1000, "seconds": 0.0, "c": 1.4, "seed": 0, "max_depth": 0,
                                  "solve": True, "allow_peeking": False},
                      "UCT Monte Carlo tree search with random rollouts and MCTS-Solver proofs (any game with clone())"),
}
