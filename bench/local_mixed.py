"""Benchmark: choice (scoring) and generate agents sharing one local model, served fairly.

``--matches`` prisoner's-dilemma matches of a ``choice`` SmolLM2 and as many of a
``generate`` (constrained) SmolLM2, each against tit-for-tat, all in flight at once on one
event loop, so both kinds of request queue at the same local backend.  Printed: the mean
(and max) time a request of each kind waited in the queue before its batch started, their
ratio (target: neither mean above 2x the other), and the wall time, per run; then the
median and range of the ratio over ``--repeats`` runs.  Run:
``python bench/local_mixed.py [--matches N] [--rounds R] [--repeats K]``.  No network.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _report import load_line, spread  # noqa: E402  (bench/ is on sys.path when run as a script)

from arena.agents.backends.local import LocalBackend, queue_waits  # noqa: E402
from arena.match import aplay_match  # noqa: E402
from arena.agents.registry import parse_agent  # noqa: E402
from arena.games.registry import parse_game
from arena.trajectory import Player  # noqa: E402

PLAYERS = [Player(0, "llm", "llm"), Player(1, "tit-for-tat", "tit-for-tat")]


async def once(matches: int, rounds: int) -> tuple[dict[str, list[float]], float]:
    game = parse_game(f"prisoners-dilemma:rounds={rounds}")
    specs = ["local:smollm2:mode=choice"] * matches + ["local:smollm2"] * matches
    started = time.perf_counter()
    await asyncio.gather(*(aplay_match(game.make, [parse_agent(s).make(), parse_agent("tit-for-tat").make()],
                                       PLAYERS, seed, f"m{seed}") for seed, s in enumerate(specs)))
    return queue_waits(), time.perf_counter() - started


def main(matches: int, rounds: int, repeats: int) -> None:
    LocalBackend("smollm2").load()  # loading is not queueing
    ratios = []
    for repeat in range(repeats):
        waits, wall = asyncio.run(once(matches, rounds))  # a fresh loop: a fresh batcher and statistics
        means = {k: statistics.mean(v) for k, v in waits.items()}
        ratios.append(max(means.values()) / max(min(means.values()), 1e-9))
        print(f"run {repeat + 1}: " + "  ".join(f"{k} {len(v)} requests, mean wait {means[k]:.3f}s "
                                                 f"(max {max(v):.3f}s)" for k, v in waits.items())
              + f"  wall {wall:.1f}s")
    print(f"ratio of mean waits (larger / smaller): {spread(ratios)}; target <= 2")
    print(load_line())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    main(args.matches, args.rounds, args.repeats)
