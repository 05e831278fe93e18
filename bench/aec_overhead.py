"""Cost of the PettingZoo AEC adapter over a bare loop on its State, at the default prisoner's dilemma.

Both loops do the same game work per step: the mover's observation text and legal
actions, a random legal action, apply.  The AEC loop is PettingZoo's own
(``agent_iter`` / ``last()`` / ``step``), so at the end ``last()`` also hands every
finished agent its final observation; the matched bare loop renders those too (same game
work on both sides: what is left is the adapter).  The plain bare loop skips them (its
ratio includes those final observations as adapter cost).  Each repetition times the
loops back to back (order rotating) and takes the ratios; the median and range of those
paired ratios are printed (target: matched median <= 1.3x), with the load average.
61 repetitions of 300 episodes by default: single ratios range about 0.8-2.1x on a shared
machine, and the median of 21 moved by about 0.02 from run to run.
Run: ``python bench/aec_overhead.py [GAME]``.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from arena.games.env import ArenaEnv
from arena.games.registry import GameSpec, parse_game


def bare(game: GameSpec, episodes: int, final: bool = False) -> int:
    """A loop on the State; ``final``: also each player's final observation (as the AEC loop's ``last()``)."""
    steps = 0
    for ep in range(episodes):
        state, rng = game.make(ep), random.Random(ep)
        while moving := state.to_move():
            player = moving[0]
            state.observation(player)
            state.apply(player, rng.choice(state.legal_actions(player)))
            steps += 1
        if final:
            for player in range(state.num_players):
                state.observation(player)
    return steps


def matched(game: GameSpec, episodes: int) -> int:
    return bare(game, episodes, final=True)


def aec(game: GameSpec, episodes: int) -> int:
    return play(ArenaEnv(game.make, "bench"), episodes)


def play(env: Any, episodes: int) -> int:
    """PettingZoo's loop over ``env``: the observation text and mask read, a random legal index picked."""
    steps = 0
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
    """CPU seconds of this process (single-threaded loops: the work, not the time other processes took)."""
    start = time.process_time()
    fn(game, episodes)
    return time.process_time() - start


def rotations(loops: list[Callable[[GameSpec, int], int]], game: GameSpec, episodes: int = 300,
              reps: int = 61) -> list[dict[str, float]]:
    """CPU seconds of each loop (by name), one dict per repetition: the loops back to back, the order rotating."""
    times = []
    for rep in range(reps):
        k = rep % len(loops)
        times.append({fn.__name__: seconds(fn, game, episodes) for fn in loops[k:] + loops[:k]})
    return times


def paired_ratios(game: GameSpec, episodes: int = 300, reps: int = 61) -> dict[str, list[float]]:
    """AEC time over each bare loop's, one ratio per repetition (the three loops timed back to back)."""
    times = rotations([aec, matched, bare], game, episodes, reps)
    return {name: [t["aec"] / t[name] for t in times] for name in ("matched", "bare")}


if __name__ == "__main__":
    spec = sys.argv[1] if len(sys.argv) > 1 else "prisoners-dilemma"  # the default game a user gets
    for name, r in paired_ratios(parse_game(spec)).items():
        what = ("matched bare loop (final observations too)" if name == "matched"
                else "plain bare loop (no final observations)")
        print(f"{spec}: AEC / {what}, {len(r)} paired runs: median {statistics.median(r):.2f}x "
              f"(range {min(r):.2f}x-{max(r):.2f}x){'; target <= 1.3x' if name == 'matched' else ''}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
