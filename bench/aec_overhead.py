"""Cost of the PettingZoo AEC adapter over a bare loop on its State, at the default prisoner's dilemma.

Both loops do the same game work per step: the mover's observation text and legal
actions, a random legal action, apply.  Each repetition times both loops back to back
(order alternating) and takes their ratio; the median and range of those paired ratios
are printed (target: median <= 1.3x).  Run: ``python bench/aec_overhead.py [GAME]``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable

from arena.games.env import ArenaEnv
from arena.games.registry import GameSpec, parse_game


def bare(game: GameSpec, episodes: int) -> int:
    steps = 0
    for ep in range(episodes):
        state, rng = game.make(ep), random.Random(ep)
        while moving := state.to_move():
            player = moving[0]
            state.observation(player)
            state.apply(player, rng.choice(state.legal_actions(player)))
            steps += 1
    return steps


def aec(game: GameSpec, episodes: int) -> int:
    env, steps = ArenaEnv(game.make, "bench"), 0
    for ep in range(episodes):
        env.reset(seed=ep)
        rng = random.Random(ep)
        for _agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.step(None)
                continue
            env.step(rng.choice(obs["action_mask"].nonzero()[0].tolist()))
            steps += 1
    return steps


def seconds(fn: Callable[[GameSpec, int], int], game: GameSpec, episodes: int) -> float:
    start = time.perf_counter()
    fn(game, episodes)
    return time.perf_counter() - start


def paired_ratios(game: GameSpec, episodes: int = 300, reps: int = 15) -> list[float]:
    ratios = []
    for rep in range(reps):
        if rep % 2:
            t_aec, t_bare = seconds(aec, game, episodes), seconds(bare, game, episodes)
        else:
            t_bare, t_aec = seconds(bare, game, episodes), seconds(aec, game, episodes)
        ratios.append(t_aec / t_bare)
    return ratios


if __name__ == "__main__":
    spec = sys.argv[1] if len(sys.argv) > 1 else "prisoners-dilemma"  # the default game a user gets
    ratios = paired_ratios(parse_game(spec))
    print(f"{spec}: AEC / bare State loop, {len(ratios)} paired runs: median {statistics.median(ratios):.2f}x "
          f"(range {min(ratios):.2f}x-{max(ratios):.2f}x; target <= 1.3x)")
