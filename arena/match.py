"""Plays one match: the env loop, per-move time limits and the illegal-move policy.

``play_match`` never writes storage; it returns a :class:`Trajectory` and emits
events to an optional sink.  An agent that raises (in ``act``, ``reset`` or ``finish``)
forfeits the match (the reason is recorded); illegal answers are explained to the agent
and retried ``retries`` times, then the fallback (a random legal action, or forfeit)
applies and is counted.  An :class:`~arena.errors.InfrastructureError` is not the
agent's fault: it propagates (the match ends as ``error``).

What agents get and give is fenced: each :class:`Turn` is the agent's own copy (lists
and data fresh per Turn; rules text computed once per player per match, the structured
data only when read, or when a Turn outlives its decision; the observation text once per
decision, for the trajectory, and shared with the agent that reads it); a search agent (``needs_state``) gets a clone of the state, and in an
imperfect-information game only ``determinize(player, rng)`` of it; every answer
passes :func:`~arena.agents.validate.checked_decision` (an invalid one is an illegal
answer).  With ``--time-limit`` a synchronous agent runs in a thread that is abandoned
when late: its answer is discarded and it is not asked again until it has returned
(an isolated agent's process is killed instead, see :mod:`arena.agents.isolate`).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from arena.agents.base import Decision, Lazy, Turn
from arena.agents.hooks import (
    AgentDied,
    AgentFailed,
    ChildInfrastructureError,
    ask_in_time,
    close_agent,
    finish_agent,
    reset_agent_async,
)
from arena.agents.validate import InvalidDecision, checked_decision
from arena.errors import InfrastructureError
from arena.games.base import CHANCE, State, rank_scores
from arena.redact import redact
from arena.spec import SpecError
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


class HiddenStateError(SpecError):
    """A search agent asked for the state of an imperfect-information game that has no ``determinize``."""


class _Views:
    """What one match shows its agents: rules text once per player, search states fenced."""

    def __init__(self, state: State, game: str, seed: int) -> None:
        self.rules: dict[int, str] = {}
        self.state, self.game, self.seed = state, game, seed
        self._hidden: bool | None = None  # looked up only for a search agent: scripted play imports no registry

    @property
    def hidden(self) -> bool:
        if self._hidden is None:
            self._hidden = _is_imperfect(self.state, self.game)
        return self._hidden

    def rules_text(self, player: int) -> str:
        if player not in self.rules:
            self.rules[player] = self.state.rules_text(player)
        return self.rules[player]

    def search_state(self, state: State, player: int, index: int, attempt: int) -> State:
        """A clone for a ``needs_state`` agent; only a determinization when information is hidden."""
        if not self.hidden:
            return state.clone()
        determinize = getattr(state, "determinize", None)
        if determinize is None:
            raise HiddenStateError(f"{state.game_id} hides information and has no determinize(): "
                                   "search agents (needs_state) cannot play it")
        return determinize(player, random.Random(f"determinize:{self.seed}:{index}:{player}:{attempt}"))


def check_state_access(state: State, game: str, agent: Any) -> None:
    """Refuse (one line) to seat a search agent (``needs_state``) in a game whose hidden
    information it could only see through ``determinize``, when the game has none."""
    if getattr(agent, "needs_state", False) and _is_imperfect(state, game) \
            and not callable(getattr(state, "determinize", None)):
        raise HiddenStateError(f"{game or state.game_id} hides information and has no determinize(): "
                               "search agents (needs_state) cannot play it")


def _is_imperfect(state: State, game: str) -> bool:
    from arena.games.registry import game_info
    own = getattr(state, "information", None)  # a State's own say first (a TextArena board made blind)
    if own in ("perfect", "imperfect"):
        return own == "imperfect"
    for game_id in dict.fromkeys([state.game_id, game.split(":")[0], ":".join(game.split(":")[:2])]):
        try:
            return game_info(game_id).information == "imperfect"
        except (SpecError, ValueError, ImportError):
            continue
    return callable(getattr(state, "determinize", None))  # an unregistered game: trust what it offers


def _turn(state: State, player: int, agent: Any, views: _Views, legal: list[str] | None, text: Lazy,
          data: Lazy, policy: Policy, match_id: str, index: int, attempts: list[Attempt]) -> Turn:
    """The agent's own copy of what it may know now (lists fresh, data deep-copied, text lazy)."""
    attempt = len(attempts)
    return Turn(state.game_id, player, Lazy(lambda: views.rules_text(player)), text,
                None if legal is None else list(legal), Lazy(lambda: copied(data.compute())),
                None if policy.time_limit is None else time.monotonic() + policy.time_limit,
                match_id, index, attempt, attempts[-1].error if attempts else None,
                views.search_state(state, player, index, attempt) if getattr(agent, "needs_state", False) else None,
                None if legal is not None else state.answer_pattern(player))


_ATOMS = (str, int, float, bool, type(None))


def copied(value: Any) -> Any:
    """A deep copy of observation data (dicts, lists, tuples of plain values: fast; anything else: deepcopy)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list or kind is tuple:
        if all(type(v) in _ATOMS for v in value):
            return list(value) if kind is list else value
        return kind(copied(v) for v in value)
    if kind is dict:
        return {k: copied(v) for k, v in value.items()}
    return copy.deepcopy(value)


def _once(compute: Callable[[], Any]) -> Lazy:
    """A lazy value computed at most once, however many Turns read it."""
    box: list[Any] = []

    def get() -> Any:
        if not box:
            box.append(compute())
        return box[0]
    return Lazy(get)


async def _decide(state: State, player: int, agent: Any, policy: Policy, rng: random.Random,
                  match_id: str, index: int, views: _Views) -> Step:
    legal = state.legal_actions(player)
    text = _once(lambda: state.observation(player))
    data = _once(lambda: state.observation_data(player))
    attempts: list[Attempt] = []
    turns: list[weakref.ref[Turn]] = []
    for _ in range(policy.retries + 1):
        turn = _turn(state, player, agent, views, legal, text, data, policy, match_id, index, attempts)
        turns.append(weakref.ref(turn))
        start = time.perf_counter()
        try:
            decision = checked_decision(await ask_in_time(agent, turn, policy.time_limit), legal)
        except TimeoutError:
            attempts.append(Attempt("", f"no answer within the time limit of {policy.time_limit:g}s"))
            continue
        except InvalidDecision as err:
            attempts.append(Attempt("", f"invalid answer: {err}", latency=time.perf_counter() - start))
            continue
        except (InfrastructureError, MemoryError) as err:  # the backend/machine failed, not the agent: unrated
            raise MatchError(player, _failure("", err).strip()) from None
        except Exception as err:  # noqa: BLE001 - the agent's own failure forfeits its match
            raise Forfeit(player, _failure("agent raised", err)) from None
        latency = time.perf_counter() - start
        if policy.strict and decision.downgrades:
            raise MatchError(player, f"strict: downgrade: {'; '.join(decision.downgrades)}")
        try:
            action = state.parse(player, decision.action)
            if legal is not None and action not in legal:
                raise ValueError(f"{action!r} is not legal now; legal: {', '.join(legal)}")
        except ValueError as err:
            attempts.append(Attempt(decision.action, redact(str(err)), decision.completion, decision.tokens_in,
                                    decision.tokens_out, decision.cost, latency))
            continue
        turn = None  # ours dropped: only a Turn someone else still holds outlives the decision
        _seal(data, turns)
        return _step(index, player, text.compute(), legal, action, decision, attempts, latency)
    turn = None
    _seal(data, turns)
    if policy.fallback == "forfeit":
        raise Forfeit(player, f"illegal move after {len(attempts)} attempt(s): {attempts[-1].error}")
    action = rng.choice(legal) if legal else state.free_text_default
    step = _step(index, player, text.compute(), legal, action, Decision(action=""), attempts, 0.0)
    step.fallback = True
    return step


def _seal(data: Lazy, turns: list[weakref.ref[Turn]]) -> None:
    """Compute this node's data now only if one of its Turns outlives the decision (kept by the agent,
    or still with an abandoned late one): read after the move, it must show this move's data.  A Turn
    nobody holds any more is gone, and data nobody read is never computed."""
    if any(ref() is not None for ref in turns):
        data.compute()


def _failure(what: str, err: BaseException) -> str:
    if isinstance(err, AgentDied):
        return redact(str(err))
    if isinstance(err, (AgentFailed, ChildInfrastructureError)):
        return redact(f"{what} {err.reason}")
    return redact(f"{what} {type(err).__name__}: {err}")


def _step(index: int, player: int, text: str, legal: list[str] | None, action: str, d: Decision,
          attempts: list[Attempt], latency: float) -> Step:
    return Step(index, player, text, None if legal is None else list(legal), action, d.action, attempts, False,
                latency, d.messages, d.completion, d.tokens_in, d.tokens_out, d.cost, d.info,
                downgrades=list(d.downgrades))


async def aplay_match(make_state: Callable[[int], State], agents: Sequence[Any], players: list[Player],
                      seed: int, match_id: str, game: str = "", config: dict[str, Any] | None = None,
                      policy: Policy = Policy(), sink: Sink | None = None) -> Trajectory:
    """Play one match to the end and return its trajectory."""
    try:
        return await _play(make_state, agents, players, seed, match_id, game, config, policy, sink)
    finally:
        for agent in agents:
            close_agent(agent)


async def _play(make_state: Callable[[int], State], agents: Sequence[Any], players: list[Player], seed: int,
                match_id: str, game: str, config: dict[str, Any] | None, policy: Policy,
                sink: Sink | None) -> Trajectory:
    state = make_state(seed)
    if len(agents) != state.num_players:
        raise ValueError(f"{game or state.game_id} needs {state.num_players} players, got {len(agents)}")
    traj = Trajectory(match_id, game or state.game_id, dict(config or {}), seed, list(players),
                      started=time.time())
    rng = random.Random(f"fallback:{seed}")
    names = [p.name for p in players]
    views = _Views(state, traj.game, seed)
    forfeit: Forfeit | None = None
    try:
        for seat, agent in enumerate(agents):
            await _hook(seat, "reset", reset_agent_async(agent, {
                "match_id": match_id, "seed": seed, "player": seat, "game": traj.game,
                "num_players": state.num_players, "players": list(names)}))
        while True:
            while state.to_move() == [CHANCE]:
                state.sample_chance()
            movers = state.to_move()
            if not movers:
                break
            base = len(traj.steps)
            steps = await _together([_decide(state, p, agents[p], policy, rng, match_id, base + k, views)
                                     for k, p in enumerate(movers)])
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
        try:
            await _hook(seat, "finish", finish_agent(agent, lambda seat=seat: {
                "match_id": match_id, "game": traj.game, "player": seat, "players": list(names),
                "rules": views.rules_text(seat), "final_observation": state.observation(seat),
                "outcome": copy.deepcopy(traj.outcome)}))
        except Forfeit as err:
            log.info("match %s: player %d forfeits: %s", match_id, err.player, err.reason)
            if forfeit is None:
                forfeit = err
                traj.outcome = _outcome(state, forfeit)
    if sink:
        sink("end", {"match_id": match_id, "outcome": traj.outcome})
    return traj


async def _together(calls: list[Any]) -> list[Step]:
    """The decisions of one node; when one fails (a forfeit), the others are cancelled, not left running."""
    if len(calls) == 1:
        return [await calls[0]]
    tasks = [asyncio.ensure_future(c) for c in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _hook(seat: int, name: str, call: Any) -> None:
    """Run an agent's ``reset``/``finish`` hook: its failure is that agent's forfeit."""
    try:
        await call
    except InfrastructureError as err:  # a backend failing in the hook: the match is an error, unrated
        raise MatchError(seat, _failure(f"agent's {name}():", err)) from None
    except Exception as err:  # noqa: BLE001 - any failure of the hook is the agent's
        raise Forfeit(seat, _failure(f"agent's {name}() raised", err)) from None


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
