"""Counterfactual values of candidate actions at a decision point, and the best-vs-worst pair filter.

**Rollouts.** At a :class:`~arena.export.replay.DecisionPoint` of player ``p`` each candidate
action is applied to ``R`` copies of the node state, and each copy is played to the end
by the rollout policy; a sample is ``p``'s final return.  Rollout ``r`` uses the same
seeds for every candidate (common random numbers: same chance draws, same rollout-agent
seeds), so a gap between two actions is measured by paired differences.  Rollout
policies (``rollout=``):

- ``random``: every player takes a uniformly random legal action (free text: the game's
  default) -- cheap, and the value of an action under a uniformly random future;
- ``players`` (the export's default): each seat is played by the agent the match had there (its stored spec;
  LLM seats call their model, so this costs LLM calls) -- an on-policy Q estimate;
- any agent spec (``tit-for-tat``, ``local:smollm2``, ``pkg.mod:Class``): that agent for every seat;
- ``mcts`` or ``mcts:simulations=N``: no rollouts; each of the ``R`` samples is the root Q
  (mean return) of one independent UCT search of :func:`arena.agents.mcts.search` from the
  node (the module is optional; an error says so when it is missing).

**Simultaneous moves.** The other movers of ``p``'s node chose without seeing ``p``'s choice,
and ``p`` did not see theirs.  By default (``co_movers="policy"``) they choose again in every
rollout, by the rollout policy: the value of an action averages over what they might have
done, as ``p`` had to, and the standard error counts that uncertainty.  ``co_movers="stored"``
keeps their stored actions instead (a hindsight value: lower variance, but each pair then
answers "what was best against what they actually did", and its standard error ignores
that the opponents' choice was one draw).

**Hidden information.** When the State has ``determinize(player, rng) -> State`` -- a copy
in which everything ``player`` cannot see (others' private cards, the deck order, ...)
is resampled with ``rng`` consistently with what ``player`` knows -- every rollout starts
from a fresh determinisation for ``p``, so the values average over the hidden states ``p``
considered possible; the other movers of a simultaneous node then always act by the rollout
policy (their stored choices were made knowing the true hidden state).  The movers of
the node are those of the determinisation (in werewolf the night's movers follow the roles).
A hidden-information game without ``determinize`` is refused by the export
(:mod:`arena.games.hidden`) unless ``allow_peeking``: then the rollouts start from the true state
and every row's ``value_source`` ends in ``+peeking``.

**Batched rollouts.** The rollouts of a decision point (every candidate x every rollout) run as
concurrent asyncio tasks through the agents' async ``aact`` path, at most ``limit`` of them at a
time (an :class:`asyncio.Semaphore` the caller may share across decision points, e.g. the export's
``--rollout-batch``).  The LLM decisions that are pending at the same moment reach the local
backend together and its batcher (:mod:`arena.agents.backends.local`) serves them as one
left-padded forward pass; ``limit`` of 1 is the sequential path (one rollout after another).
Each rollout keeps its own seeds (and every seat its own fallback generator), so the values
do not depend on the batching: identical to the sequential path for scripted policies, and for
LLM policies up to the float rounding of a batched forward pass (an exact tie may flip).

**Pairs.** :func:`select_pair` keeps best vs worst only when the gap exceeds ``min_margin``
standard errors of the gap (MCTS-DPO / step-level Q-value preference style).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Any

from arena.agents.base import Turn, ask, reset_agent
from arena.agents.hooks import close_agent
from arena.agents.registry import AgentSpec, parse_agent
from arena.export.options import CO_MOVERS
from arena.export.replay import DecisionPoint
from arena.games.base import CHANCE, State
from arena.spec import SpecError, split_params
from arena.trajectory import Trajectory

MAX_MOVES = 100_000  # a rollout longer than this is a game that never ends
TIE = 1e-12
Actor = Callable[[State, int], Awaitable[str]]


# --- rollout policies -------------------------------------------------------------------
class RolloutPolicy:
    """How the game continues after a branch: ``random``, ``players``, ``mcts[:simulations=N]`` or an agent spec."""

    def __init__(self, spec: str = "random") -> None:
        self.spec = spec.strip() or "random"
        self.simulations = 0
        self._specs: dict[str, AgentSpec] = {}
        if self.spec == "mcts" or self.spec.startswith("mcts:"):
            _, raw = split_params(self.spec.partition(":")[2], "rollout mcts")
            unknown = set(raw) - {"simulations"}
            if unknown:
                raise SpecError(f"rollout mcts: unknown parameter(s) {', '.join(sorted(unknown))}; valid: simulations")
            self.simulations = int(raw.get("simulations", 200))
        elif self.spec not in ("random", "players"):
            self._agent_spec(self.spec)  # fail now on a bad spec

    @property
    def is_mcts(self) -> bool:
        return self.simulations > 0

    @property
    def source(self) -> str:
        return f"mcts:simulations={self.simulations}" if self.is_mcts else f"rollout:{self.spec}"

    def _agent_spec(self, spec: str) -> AgentSpec:
        if spec not in self._specs:
            self._specs[spec] = parse_agent(spec)
        return self._specs[spec]

    def actors(self, traj: Trajectory, seed: int, rng: random.Random) -> list[Actor]:
        """One actor per seat for one rollout (fresh agents, reset with the rollout's seed)."""
        n = len(traj.players)
        if self.spec == "random":
            return [_RandomActor(rng)] * n
        specs = [p.spec for p in traj.players] if self.spec == "players" else [self.spec] * n
        actors: list[Actor] = []
        for seat, spec in enumerate(specs):
            agent = self._agent_spec(spec).make()
            reset_agent(agent, {"match_id": f"{traj.match_id}/rollout", "seed": seed, "player": seat,
                                "game": traj.game, "num_players": n})
            # each seat its own fallback generator: simultaneous movers may resume in any order
            actors.append(_AgentActor(agent, random.Random(rng.getrandbits(64)), f"{traj.match_id}/rollout"))
        return actors


class _RandomActor:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    async def __call__(self, state: State, player: int) -> str:
        legal = state.legal_actions(player)
        return self.rng.choice(legal) if legal else state.free_text_default


class _AgentActor:
    """An agent asked like in a match (no retries: an unusable answer becomes a random legal action)."""

    def __init__(self, agent: Any, rng: random.Random, match_id: str) -> None:
        self.agent, self.rng, self.match_id = agent, rng, match_id
        self.moves = 0

    async def __call__(self, state: State, player: int) -> str:
        legal = state.legal_actions(player)
        turn = Turn(state.game_id, player, state.rules_text(player), state.observation(player), legal,
                    state.observation_data(player), None, self.match_id, self.moves, 0, None,
                    state.clone() if getattr(self.agent, "needs_state", False) else None)
        self.moves += 1
        try:
            decision = await ask(self.agent, turn)
            action = state.parse(player, str(decision.action))
            if legal is not None and action not in legal:
                raise ValueError(action)
            return action
        except Exception:  # an agent's failure inside a rollout only costs that move
            return self.rng.choice(legal) if legal else state.free_text_default


# --- estimation ---------------------------------------------------------------------------
def has_determinize(state: State) -> bool:
    return callable(getattr(state, "determinize", None))


async def _rollout(point: DecisionPoint, action: str, r: int, policy: RolloutPolicy, seed: int,
                   co_movers: str, limit: asyncio.Semaphore | None = None) -> float:
    if limit is None:
        return await _play_out(point, action, r, policy, seed, co_movers)
    async with limit:
        return await _play_out(point, action, r, policy, seed, co_movers)


def seed_key(traj: Trajectory) -> str:
    """What the export's random draws are keyed on: the game and the match's own seed, not its id
    (ids carry the time the run was made, so a rerun of the same seeds would draw differently)."""
    return f"{traj.game}:{traj.seed}"


async def _play_out(point: DecisionPoint, action: str, r: int, policy: RolloutPolicy, seed: int,
                    co_movers: str) -> float:
    p = point.player
    rng = random.Random(f"{seed}:{seed_key(point.traj)}:{point.step.index}:{r}")
    determinized = has_determinize(point.state)
    s = point.state.determinize(p, rng) if determinized else point.state.clone()  # type: ignore[attr-defined]
    s.rng = random.Random(rng.getrandbits(64))
    actors = policy.actors(point.traj, rng.getrandbits(31), rng)
    try:
        return await _continue(point, s, action, actors, determinized, co_movers)
    finally:  # an isolated agent's process ends with its rollout, not at garbage collection
        for actor in actors:
            close_agent(getattr(actor, "agent", None))


async def _continue(point: DecisionPoint, s: State, action: str, actors: list[Actor], determinized: bool,
                    co_movers: str) -> float:
    """Play the node with ``action`` for the point's player, then the game to its end; the player's return."""
    p = point.player
    if determinized or co_movers == "policy":
        movers = s.to_move() if determinized else [st.player for st in point.node]  # roles may have moved
        others = [m for m in movers if m != p]
        chosen = dict(zip(others, await asyncio.gather(*(actors[m](s, m) for m in others)), strict=True))
        chosen[p] = action
        for m in movers:
            s.apply(m, chosen[m])
    else:
        for st in point.node:
            s.apply(st.player, action if st.player == p else st.action)
    for _ in range(MAX_MOVES):
        while s.to_move() == [CHANCE]:
            s.sample_chance()
        movers = s.to_move()
        if not movers:
            return float(s.returns()[p])
        actions = await asyncio.gather(*(actors[m](s, m) for m in movers))
        for m, a in zip(movers, actions, strict=True):
            s.apply(m, a)
    raise RuntimeError(f"a rollout of {point.traj.game} did not end within {MAX_MOVES} moves")


def _mcts_samples(point: DecisionPoint, candidates: list[str], policy: RolloutPolicy, rollouts: int,
                  seed: int) -> dict[str, list[float]]:
    try:
        from arena.agents.mcts import search
    except ImportError as err:
        raise SpecError(f"rollout mcts needs the module arena.agents.mcts ({err})") from None
    samples: dict[str, list[float]] = {a: [] for a in candidates}
    for r in range(rollouts):
        rng = random.Random(f"{seed}:{seed_key(point.traj)}:{point.step.index}:mcts:{r}")
        stats = search(point.state, point.player, policy.simulations, rng=rng)
        for a in candidates:
            if a in stats:
                samples[a].append(float(stats[a][1]))
    return {a: v for a, v in samples.items() if len(v) == rollouts}  # unvisited in some search: no value


async def estimate(point: DecisionPoint, candidates: list[str], policy: RolloutPolicy, rollouts: int,
                   seed: int = 0, co_movers: str = "policy",
                   limit: asyncio.Semaphore | None = None) -> dict[str, list[float]]:
    """Per candidate action, ``rollouts`` samples of the player's return (sample ``r`` shares seeds).

    The rollouts run concurrently, at most ``limit`` at a time when given (see "Batched rollouts")."""
    if co_movers not in CO_MOVERS:
        raise ValueError(f"unknown co_movers {co_movers!r}; valid: {', '.join(CO_MOVERS)}")
    if policy.is_mcts:
        return _mcts_samples(point, candidates, policy, rollouts, seed)
    jobs = [_rollout(point, a, r, policy, seed, co_movers, limit) for a in candidates for r in range(rollouts)]
    flat = await asyncio.gather(*jobs)
    return {a: list(flat[i * rollouts:(i + 1) * rollouts]) for i, a in enumerate(candidates)}


class RolloutWindow:
    """Decision points valued concurrently, with at most ``size`` rollouts in flight in all.

    ``limit`` is the semaphore to hand to :func:`estimate`; :meth:`submit` starts a decision
    point's coroutine once fewer than ``size / rollouts + 1`` are running (enough to keep the
    window full across point and match boundaries without holding every point of a store at
    once); :meth:`results` returns their results in submission order."""

    def __init__(self, size: int, rollouts: int) -> None:
        if size < 1:
            raise ValueError(f"rollout batch must be at least 1, got {size}")
        self.limit = asyncio.Semaphore(size)
        self._points = asyncio.Semaphore(-(-size // max(rollouts, 1)) + 1)
        self._tasks: list[asyncio.Task[Any]] = []

    async def submit(self, job: Awaitable[Any]) -> None:
        await self._points.acquire()
        task = asyncio.ensure_future(job)
        task.add_done_callback(lambda _: self._points.release())
        self._tasks.append(task)

    async def results(self) -> list[Any]:
        return list(await asyncio.gather(*self._tasks))


# --- pairs --------------------------------------------------------------------------------
@dataclass
class Pair:
    chosen: str
    rejected: str
    gap: float  # difference of mean returns, in the game's score units
    se: float | None  # standard error of the gap (None: cannot be estimated)

    @property
    def z(self) -> float | None:
        """Gap in standard errors (None when the SE is 0 or unknown)."""
        return self.gap / self.se if self.se else None


def std_error(values: list[float]) -> float | None:
    return stdev(values) / math.sqrt(len(values)) if len(values) >= 2 else None


def action_errors(samples: dict[str, list[float]]) -> dict[str, float | None]:
    """Per-action standard error of the mean; an action seen once borrows the pooled within-action SD."""
    groups = [v for v in samples.values() if len(v) >= 2]
    dof = sum(len(v) - 1 for v in groups)
    pooled = math.sqrt(sum((x - fmean(v)) ** 2 for v in groups for x in v) / dof) if dof else None
    out: dict[str, float | None] = {}
    for a, v in samples.items():
        if len(v) >= 2:
            out[a] = std_error(v)
        else:
            out[a] = pooled / math.sqrt(len(v)) if pooled is not None and v else None
    return out


def deterministic(samples: dict[str, list[float]]) -> bool:
    """Every candidate's rollouts gave the same value (deterministic game and policies): the standard
    error is 0 and says nothing, so :func:`select_pair` uses the absolute gap instead."""
    return all(len(v) >= 2 and max(v) - min(v) <= TIE for v in samples.values()) and len(samples) >= 2


def select_pair(samples: dict[str, list[float]], min_margin: float, paired: bool,
                min_gap: float = 0.0) -> tuple[Pair | None, str]:
    """Best vs worst action by mean, kept if ``gap > min_margin * SE(gap)`` and ``gap > min_gap``; else
    ``(None, why)`` (``single``, ``tie``, ``gap``, ``margin``).

    ``paired``: samples with the same index share seeds (rollouts), so SE(gap) is the SE of the
    per-index differences; otherwise sqrt(SE_best^2 + SE_worst^2) (see :func:`action_errors`).
    Ties (gap 0) are never pairs.  ``min_margin <= 0`` keeps any positive gap.  When the rollouts are
    :func:`deterministic` the SE test is void (SE = 0) and only the absolute ``min_gap`` applies.
    """
    means = {a: fmean(v) for a, v in samples.items() if v}
    if len(means) < 2:
        return None, "single"
    best = max(means, key=lambda a: means[a])
    worst = min(means, key=lambda a: means[a])
    gap = means[best] - means[worst]
    if gap <= TIE:
        return None, "tie"
    if gap <= min_gap:
        return None, "gap"
    if deterministic(samples):
        return Pair(best, worst, gap, 0.0), "ok"
    b, w = samples[best], samples[worst]
    if paired and len(b) == len(w):
        se = std_error([x - y for x, y in zip(b, w)])
    else:
        errors = action_errors(samples)
        se_b, se_w = errors[best], errors[worst]
        se = math.hypot(se_b, se_w) if se_b is not None and se_w is not None else None
    if min_margin > 0 and (se is None or gap <= min_margin * se):
        return None, "margin"
    return Pair(best, worst, gap, se), "ok"
