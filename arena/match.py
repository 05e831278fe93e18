"""Plays one match: the env loop, per-move time limits and the illegal-move policy.

``play_match`` never writes storage; it returns a :class:`Trajectory` and emits
events to an optional sink.  An agent that raises forfeits the match (the reason is
recorded); illegal answers are explained to the agent and retried ``retries`` times,
then the fallback (a random legal action, or forfeit) applies and is counted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from arena.agents.base import Decision, Turn, ask, reset_agent
from arena.errors import InfrastructureError
from arena.games.base import CHANCE, State, rank_scores
from arena.redact import redact
from arena.trajectory import Attempt, Outcome, Player, Step, Trajectory

log = logging.getLogger(__name__)
Sink = Callable[[str, dict[str, Any]], None]
FALLBACKS = ("random", "forfeit")


@dataclass(frozen=True)
class Policy:
    retries: int = 2
    fallback: str = "random"
    time_limit: float | None = None
    strict: bool = False  # any downgrade an agent reports ends its match as ``error``

    def __post_init__(self) -> None:
        if self.fallback not in FALLBACKS:
            raise ValueError(f"unknown fallback {self.fallback!r}; valid: {', '.join(FALLBACKS)}")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.time_limit is not None and self.time_limit <= 0:
            raise ValueError("time limit must be positive")


class Forfeit(Exception):
    def __init__(self, player: int, reason: str) -> None:
        super().__init__(reason)
        self.player, self.reason = player, reason


class MatchError(Forfeit):
    """Not the agent's fault (an :class:`InfrastructureError`, or a downgrade under ``strict``):
    the match ends as ``error``, unrated and replayed by ``--resume``."""


async def _ask_in_time(agent: Any, turn: Turn, limit: float | None) -> Decision:
    if limit is None:
        return await ask(agent, turn)
    if hasattr(agent, "aact"):
        return await asyncio.wait_for(ask(agent, turn), limit)
    return await asyncio.wait_for(asyncio.to_thread(lambda: asyncio.run(ask(agent, turn))), limit)


async def _decide(state: State, player: int, agent: Any, policy: Policy, rng: random.Random,
                  match_id: str, index: int) -> Step:
    legal = state.legal_actions(player)
    text, rules, data = state.observation(player), state.rules_text(player), state.observation_data(player)
    attempts: list[Attempt] = []
    for attempt in range(policy.retries + 1):
        turn = Turn(state.game_id, player, rules, text, legal, data,
                    None if policy.time_limit is None else time.monotonic() + policy.time_limit,
                    match_id, index, attempt, attempts[-1].error if attempts else None,
                    state.clone() if getattr(agent, "needs_state", False) else None,
                    None if legal is not None else state.answer_pattern(player))
        start = time.perf_counter()
        try:
            decision = await _ask_in_time(agent, turn, policy.time_limit)
        except (asyncio.TimeoutError, TimeoutError):
            attempts.append(Attempt("", f"no answer within the time limit of {policy.time_limit:g}s"))
            continue
        except (InfrastructureError, MemoryError) as err:  # the backend/machine failed, not the agent: unrated
            raise MatchError(player, redact(f"{type(err).__name__}: {err}")) from None
        except Exception as err:  # the agent's own failure forfeits its match
            raise Forfeit(player, redact(f"agent raised {type(err).__name__}: {err}")) from None
        latency = time.perf_counter() - start
        if policy.strict and decision.downgrades:
            raise MatchError(player, f"strict: downgrade: {'; '.join(decision.downgrades)}")
        try:
            action = state.parse(player, str(decision.action))
            if legal is not None and action not in legal:
                raise ValueError(f"{action!r} is not legal now; legal: {', '.join(legal)}")
        except ValueError as err:
            attempts.append(Attempt(str(decision.action), str(err), decision.completion, decision.tokens_in,
                                    decision.tokens_out, decision.cost, latency))
            continue
        return _step(index, player, text, legal, action, decision, attempts, latency)
    if policy.fallback == "forfeit":
        raise Forfeit(player, f"illegal move after {len(attempts)} attempt(s): {attempts[-1].error}")
    action = rng.choice(legal) if legal else state.free_text_default
    step = _step(index, player, text, legal, action, Decision(action=""), attempts, 0.0)
    step.fallback = True
    return step


def _step(index: int, player: int, text: str, legal: list[str] | None, action: str, d: Decision,
          attempts: list[Attempt], latency: float) -> Step:
    return Step(index, player, text, legal, action, str(d.action), attempts, False, latency,
                d.messages, d.completion, d.tokens_in, d.tokens_out, d.cost, d.info,
                downgrades=list(d.downgrades))


async def aplay_match(make_state: Callable[[int], State], agents: Sequence[Any], players: list[Player],
                      seed: int, match_id: str, game: str = "", config: dict[str, Any] | None = None,
                      policy: Policy = Policy(), sink: Sink | None = None) -> Trajectory:
    """Play one match to the end and return its trajectory."""
    state = make_state(seed)
    if len(agents) != state.num_players:
        raise ValueError(f"{game or state.game_id} needs {state.num_players} players, got {len(agents)}")
    traj = Trajectory(match_id, game or state.game_id, dict(config or {}), seed, list(players),
                      started=time.time())
    rng = random.Random(f"fallback:{seed}")
    names = [p.name for p in players]
    for seat, agent in enumerate(agents):
        reset_agent(agent, {"match_id": match_id, "seed": seed, "player": seat, "game": traj.game,
                            "num_players": state.num_players, "players": names})
    forfeit: Forfeit | None = None
    try:
        while True:
            while state.to_move() == [CHANCE]:
                state.sample_chance()
            movers = state.to_move()
            if not movers:
                break
            base = len(traj.steps)
            steps = await asyncio.gather(*(
                _decide(state, p, agents[p], policy, rng, match_id, base + k) for k, p in enumerate(movers)))
            for step in steps:
                state.apply(step.player, step.action)
                step.rewards = state.returns()
                traj.steps.append(step)
                if sink:
                    sink("step", {"match_id": match_id, "step": step})
    except Forfeit as err:
        forfeit = err
        log.info("match %s: player %d %s: %s", match_id, err.player,
                 "errors" if isinstance(err, MatchError) else "forfeits", err.reason)
    traj.outcome = _outcome(state, forfeit)
    traj.finished = time.time()
    for seat, agent in enumerate(agents):
        await _finish(agent, {"match_id": match_id, "game": traj.game, "player": seat, "players": names,
                              "rules": state.rules_text(seat), "final_observation": state.observation(seat),
                              "outcome": traj.outcome})
    if sink:
        sink("end", {"match_id": match_id, "outcome": traj.outcome})
    return traj


async def _finish(agent: Any, result: dict[str, Any]) -> None:
    """Tell an agent how its match ended (optional ``finish``/``afinish`` hook: learning agents)."""
    try:
        if hasattr(agent, "afinish"):
            await agent.afinish(result)
        elif hasattr(agent, "finish"):
            agent.finish(result)
    except Exception as err:  # a failing hook must not lose the finished match
        log.warning("agent finish hook failed in %s: %s", result["match_id"], redact(f"{type(err).__name__}: {err}"))


def _outcome(state: State, forfeit: Forfeit | None) -> Outcome:
    scores = [float(s) for s in state.returns()]
    metrics = state.metrics()
    if forfeit is None:
        return Outcome(scores, rank_scores(scores), metrics=metrics)
    ranks = [state.num_players if p == forfeit.player else 1 for p in range(state.num_players)]
    if isinstance(forfeit, MatchError):  # unrated: nobody forfeited, nothing is ranked
        return Outcome(scores, [1] * state.num_players, "error", None, f"seat {forfeit.player}: {forfeit.reason}",
                       metrics)
    return Outcome(scores, ranks, "forfeit", forfeit.player, forfeit.reason, metrics)


def play_match(*args: Any, **kwargs: Any) -> Trajectory:
    """Synchronous :func:`aplay_match`."""
    return asyncio.run(aplay_match(*args, **kwargs))
