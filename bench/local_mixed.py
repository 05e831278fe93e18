"""Benchmark: choice (scoring) and generate agents sharing one local model, served fairly.

``--matches`` prisoner's-dilemma matches of a ``choice`` SmolLM2 and as many of a
``generate`` (constrained) SmolLM2, each against tit-for-tat, all in flight at once on one
event loop, so both kinds of request queue at the same local backend.  Printed: the mean
(and max) time a request of each kind waited in the queue before its batch started, their
ratio (target: neither mean above 2x the other), and the wall time.  Run:
``python bench/local_mixed.py [--matches N] [--rounds R]``.  No network.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from arena.agents.backends.local import LocalBackend, queue_waits  # noqa: E402
from arena.match import aplay_match  # noqa: E402
from arena.registry import parse_agent, parse_game  # noqa: E402
from arena.trajectory import Player  # noqa: E402

PLAYERS = [Player(0, "llm", "llm"), Player(1, "tit-for-tat", "tit-for-tat")]


async def main(matches: int, rounds: int) -> None:
    LocalBackend("smollm2").load()  # loading is not queueing
    game = parse_game(f"prisoners-dilemma:rounds={rounds}")
    specs = ["local:smollm2:mode=choice"] * matches + ["local:smollm2"] * matches
    started = time.perf_counter()
    await asyncio.gather(*(aplay_match(game.make, [parse_agent(s).make(), parse_agent("tit-for-tat").make()],
                                       PLAYERS, seed, f"m{seed}") for seed, s in enumerate(specs)))
    wall = time.perf_counter() - started
    waits = queue_waits()
    means = {k: statistics.mean(v) for k, v in waits.items() if v}
    for kind, found in waits.items():
        print(f"{kind:9} requests {len(found):4d}  mean wait {statistics.mean(found):7.3f}s  max {max(found):7.3f}s")
    ratio = max(means.values()) / max(min(means.values()), 1e-9)
    print(f"ratio of mean waits (larger / smaller): {ratio:.2f}  wall {wall:.1f}s")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.matches, args.rounds))
