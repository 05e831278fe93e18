"""The PettingZoo adapter asks its State each thing once per node (issue 15, Deliver 3)."""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from arena.games.base import CHANCE
from arena.games.env import ArenaEnv
from arena.registry import game_listing, parse_game

PD = parse_game("prisoners-dilemma:rounds=3")
SPIED = ("to_move", "returns", "legal_actions", "legal_set", "observation", "metrics")


def spied(calls: Counter[str]):  # type: ignore[no-untyped-def]
    """States that count the calls the adapter (arena/games/env.py) makes, not the game's own."""
    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            if sys._getframe(1).f_code.co_filename.endswith("env.py"):
                calls[name] += 1
            return real(*args)
        return wrapper

    def make(seed: int | None):  # type: ignore[no-untyped-def]
        state = PD.make(seed)
        for name in SPIED:
            setattr(state, name, counted(name, getattr(state, name)))
        return state
    return make


def test_each_step_asks_the_state_once_per_node() -> None:
    calls: Counter[str] = Counter()
    env = ArenaEnv(spied(calls), "pd")
    env.reset(seed=1)
    calls.clear()
    steps = lasts = 0
    rewards = Counter()
    for agent in env.agent_iter():
        obs, reward, term, trunc, _ = env.last()
        lasts += 1
        rewards[agent] += reward
        if term or trunc:
            env.step(None)
            continue
        env.step(int(obs["action_mask"].nonzero()[0][-1]))  # D, always
        steps += 1
    assert (steps, lasts) == (6, 8)  # 3 rounds x 2 seats, then each finished agent's last()
    assert calls == Counter({"to_move": steps, "returns": steps, "legal_set": steps,
                             "observation": lasts, "metrics": 1})
    assert rewards == {"player_0": 3.0, "player_1": 3.0}  # (D, D) pays 1 each per round
    assert env.agents == [] and env.rewards == {}


def test_legal_set_is_legal_actions_as_a_tuple_for_every_builtin_game() -> None:
    """The adapter's cheap hook (``State.legal_set``; matrix games return shared tuples) agrees with
    ``legal_actions`` at every node of a random game of each built-in game."""
    specs = sorted(row[0] for row in game_listing() if not row[0].startswith("textarena:") and row[0] != "matrix")
    assert "prisoners-dilemma" in specs and len(specs) > 10
    for spec in specs + ["prisoners-dilemma:cheap_talk=true,rounds=2", "matrix:file=examples/games/deadlock.toml"]:
        state, rng = parse_game(spec).make(5), random.Random(5)
        for _ in range(300):
            movers = state.to_move()
            if not movers:
                break
            if movers == [CHANCE]:
                state.sample_chance()
                continue
            for p in movers:
                legal = state.legal_actions(p)
                assert state.legal_set(p) == (None if legal is None else tuple(legal)), (spec, p)
            legal = state.legal_actions(movers[0])
            state.apply(movers[0], rng.choice(legal) if legal else state.free_text_default)


def test_agents_truncated_from_outside_leave_by_pettingzoos_rule() -> None:
    """A time limit set by the caller (every agent truncated mid-game, not ended by the rules) takes
    PettingZoo's ``_was_dead_step`` path: each agent steps ``None`` once and leaves, the game unfinished."""
    env = ArenaEnv(PD.make, "pd")
    env.reset(seed=2)
    env.step(1)
    env.step(1)  # round 1: (D, D)
    env.truncations = dict.fromkeys(env.agents, True)
    seen = []
    for agent in env.agent_iter():
        _, _, term, trunc, info = env.last()
        assert (term, trunc, info) == (False, True, {})  # no metrics: the rules did not end the game
        seen.append(agent)
        env.step(None)
        assert set(env.rewards) == set(env.agents) == set(env.terminations)
    assert seen == ["player_0", "player_1"] and env.agents == []
    assert env.state.to_move() == [0, 1]  # round 2 is still open
    env.reset(seed=2)  # the next episode seats everyone again
    assert env.agents == ["player_0", "player_1"] and env.last()[2:4] == (False, False)
