"""The floor under ``bench/aec_overhead.py``: the least any AEC env can cost at the default prisoner's dilemma.

``FloorEnv`` is hard-wired to the 2-player game: a constant action mask (all zeros once finished; no legal-set call, no
mask cache, no action check), rewards written out for two agents, no metrics in the infos.  It
still keeps what PettingZoo's AEC contract obliges (the text wrapper, the observation dict,
``last()``'s five values, cumulative rewards, terminations and the dead steps at the end), and
the loop over it is the bench's own AEC loop.  The paired ratio against the bench's matched bare
loop (same method: CPU time, the loops back to back, order rotating, median and range) is what
no general adapter can beat; ``ArenaEnv``'s ratio is printed beside it.
Run: ``python bench/aec_floor.py``.
"""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_line  # noqa: E402
from aec_overhead import aec, matched, play, rotations  # noqa: E402

from arena.games.env import ArenaEnv, TextObservation  # noqa: E402
from arena.games.registry import GameSpec, parse_game  # noqa: E402

MASK, DONE = np.ones(2, np.int8), np.zeros(2, np.int8)  # every action legal; none (a finished agent)
MASK.flags.writeable = DONE.flags.writeable = False
VOCAB = ("C", "D")
AGENTS = ("player_0", "player_1")
SEAT = {"player_0": 0, "player_1": 1}


class FloorEnv:
    """Just enough of an ``AECEnv`` for the bench's loop over a 2-player, 2-action repeated game."""

    def __init__(self, game: GameSpec) -> None:
        self.make = game.make

    def reset(self, seed: int) -> None:
        self.state = self.make(seed)
        self.agents = list(AGENTS)
        self.rewards = {"player_0": 0.0, "player_1": 0.0}
        self._cumulative_rewards = {"player_0": 0.0, "player_1": 0.0}
        self.terminations = {"player_0": False, "player_1": False}
        self.truncations = {"player_0": False, "player_1": False}
        self.infos: dict[str, dict[str, Any]] = {"player_0": {}, "player_1": {}}
        self._returns = [0.0, 0.0]
        self.agent_selection = "player_0"

    def agent_iter(self):  # type: ignore[no-untyped-def]
        while self.agents:
            yield self.agent_selection

    def last(self) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        agent = self.agent_selection
        done = self.terminations[agent]
        obs = {"observation": TextObservation(self.state.observation(SEAT[agent])), "action_mask": DONE if done else MASK}
        return obs, self._cumulative_rewards[agent], done, self.truncations[agent], self.infos[agent]

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent]:
            del self.terminations[agent], self.truncations[agent], self.rewards[agent]
            del self._cumulative_rewards[agent], self.infos[agent]
            self.agents.remove(agent)
            if self.agents:
                self.agent_selection = self.agents[0]
            self.rewards = dict.fromkeys(self.agents, 0.0)
            return
        self._cumulative_rewards[agent] = 0.0
        state = self.state
        state.apply(SEAT[agent], VOCAB[action])  # type: ignore[index]
        movers = state.to_move()
        if movers:
            self.agent_selection = AGENTS[movers[0]]
        else:
            self.terminations = {"player_0": True, "player_1": True}
            self.agent_selection = "player_0"
        after, before = state.returns(), self._returns
        if after != before:
            r0, r1 = after[0] - before[0], after[1] - before[1]
            self.rewards = {"player_0": r0, "player_1": r1}
            self._cumulative_rewards["player_0"] += r0
            self._cumulative_rewards["player_1"] += r1
            self._returns = after
        else:
            self.rewards = {"player_0": 0.0, "player_1": 0.0}


def floor(game: GameSpec, episodes: int) -> int:
    """The bench's AEC loop, over ``FloorEnv``."""
    return play(FloorEnv(game), episodes)


def transcript(env: Any, seed: int) -> list[tuple[Any, ...]]:
    """What the bench's loop sees from ``env`` in one episode: agent, text, mask, reward, flags, rewards."""
    env.reset(seed=seed)
    rng, seen = random.Random(seed), []
    for agent in env.agent_iter():
        obs, reward, term, trunc, _ = env.last()
        seen.append((agent, str(obs["observation"]), obs["action_mask"].tolist(), reward, term, trunc))
        env.step(None if term or trunc else rng.choice(obs["action_mask"].nonzero()[0].tolist()))
        seen.append(dict(env.rewards))
    return seen


if __name__ == "__main__":
    game = parse_game("prisoners-dilemma")
    for seed in range(5):  # the floor does the same work as ArenaEnv for this game, only hard-wired
        assert transcript(FloorEnv(game), seed) == transcript(ArenaEnv(game.make, "floor"), seed)
    times = rotations([floor, aec, matched], game, 300, 61)
    ratios = {name: [t[name] / t["matched"] for t in times] for name in ("floor", "aec")}
    for name, r in ratios.items():
        what = "FloorEnv (hard-wired)" if name == "floor" else "ArenaEnv"
        print(f"prisoners-dilemma: {what} / matched bare loop, {len(r)} paired runs: "
              f"median {statistics.median(r):.2f}x (range {min(r):.2f}x-{max(r):.2f}x)")
    print(load_line())
