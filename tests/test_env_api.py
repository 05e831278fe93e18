"""Every registered game passes PettingZoo's api_test and seed_test through the one adapter."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from arena.games.base import IllegalAction
from arena.games.env import ArenaEnv
from arena.registry import game_listing, parse_game

EXTRA_SPECS = ["prisoners-dilemma:cheap_talk=true,rounds=3", "ordinal-2x2:number=77",
               "matrix:file=examples/games/deadlock.toml", "public-goods:players=5,rounds=3"]
# from the listing (TextArena's catalogue cached per version): collecting this file probes no env
SPECS = sorted({row[0] for row in game_listing()} - {"matrix"}) + EXTRA_SPECS


def make_env(spec: str) -> ArenaEnv:
    game = parse_game(spec)
    return ArenaEnv(game.make, name=spec)


@pytest.mark.parametrize("spec", SPECS)
def test_api(spec: str) -> None:
    api_test(make_env(spec), num_cycles=30)


@pytest.mark.parametrize("spec", SPECS)
def test_seed(spec: str) -> None:
    seed_test(lambda: make_env(spec), num_cycles=30)


def test_rewards_add_up_to_returns() -> None:
    env = make_env("prisoners-dilemma:rounds=4")
    env.reset(seed=3)
    totals = {a: 0.0 for a in env.possible_agents}
    for agent in env.agent_iter():
        obs, reward, term, trunc, _ = env.last()
        totals[agent] += reward
        env.step(None if term or trunc else ("C" if agent == "player_0" else 1))
    # row always C, column always D: S=0 and T=5 per round
    assert totals == {"player_0": 0.0, "player_1": 20.0}


def test_string_actions_and_masks() -> None:
    env = make_env("prisoners-dilemma:cheap_talk=true,rounds=1")
    env.reset(seed=0)
    obs, *_ = env.last()
    assert list(obs["action_mask"]) == [0, 0, 1]  # message phase: only the default message index
    env.step("let's both cooperate")
    env.step(2)
    obs, *_ = env.last()
    assert list(obs["action_mask"]) == [1, 1, 0]
    assert "let's both cooperate" in env.observe("player_1")["observation"]


def test_index_actions_are_checked_against_this_nodes_legal_set() -> None:
    env = make_env("tic-tac-toe")
    env.reset(seed=0)
    obs, *_ = env.last()
    env.step(np.int64(4))  # a NumPy index (what `mask.nonzero()` gives) is an index like any other
    assert env.agent_selection == "player_1"
    obs, *_ = env.last()
    assert obs["action_mask"][4] == 0 and obs["action_mask"].sum() == 8
    for bad, message in [(4, "'5' is not legal now"), (9, "index below 9"), (-1, "index below 9"),
                         (None, "index below 9")]:
        with pytest.raises(IllegalAction, match=message):
            env.step(bad)
        assert env.agent_selection == "player_1"  # refused: nothing applied, the same agent still moves
    env.step(0)
    # no last() at this node: the index is still checked, against the legal set asked then
    with pytest.raises(IllegalAction, match="'1' is not legal now"):
        env.step(0)
    env.step(8.0)  # any number int() accepts, as before
    assert env.state.legal_actions(1) == ["2", "3", "4", "6", "7", "8"]  # X on 5 and 9, O on 1
