"""Steps/s of prisoners-dilemma through the PettingZoo AEC adapter vs a bare loop over its State.

Both loops do the same game work per step: read the mover's observation text and
legal actions, pick a random legal action, apply it.  The ratio is the adapter's
cost (target <= 1.3x).  Run: ``python bench/aec_overhead.py``.
"""

from __future__ import annotations

import random
import time

from arena.games.env import ArenaEnv
from arena.registry import parse_game

GAME = parse_game("prisoners-dilemma:rounds=100")


def bare(episodes: int) -> int:
    steps = 0
    for ep in range(episodes):
        state, rng = GAME.make(ep), random.Random(ep)
        while moving := state.to_move():
            player = moving[0]
            state.observation(player)
            state.apply(player, rng.choice(state.legal_actions(player)))
            steps += 1
    return steps


def aec(episodes: int) -> int:
    env, steps = ArenaEnv(GAME.make, "pd"), 0
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


def rate(fn, episodes: int) -> float:
    start = time.perf_counter()
    steps = fn(episodes)
    return steps / (time.perf_counter() - start)


if __name__ == "__main__":
    # interleaved, best of 7 each, so a busy moment hurts both loops alike
    runs = [(rate(bare, 200), rate(aec, 200)) for _ in range(7)]
    bare_rate, aec_rate = max(r[0] for r in runs), max(r[1] for r in runs)
    print(f"bare State loop : {bare_rate:10.0f} steps/s")
    print(f"PettingZoo AEC  : {aec_rate:10.0f} steps/s")
    print(f"AEC cost ratio  : {bare_rate / aec_rate:10.2f}x   (target <= 1.3x)")
