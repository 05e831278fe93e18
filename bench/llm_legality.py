"""Benchmark: how often the embedded model's answers are legal, and what each answer path costs.

For SmolLM2 (``local:smollm2``) against a random player on a short prisoner's dilemma,
connect four and bargaining, three ways of answering: ``generate`` (free text, parsed;
refusals re-asked twice, then a random fallback), ``generate+constrain`` (the answer
decoded under the legal set / the game's answer grammar) and ``choice`` (every legal
option scored; free-text bargaining has no option list, so it generates constrained).
Printed per game and path: illegal-answer rate (refused answers / answers), fallback
rate (moves decided by the fallback / moves), decisions/s, and the median (range) over
seeds of the per-decision time of constrained over free generation, the paths run
interleaved seed by seed (the machine may be shared).  Run:
``python bench/llm_legality.py [--seeds N]``.  No network; the model cache must be warm
or is built once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _report import load_line, spread  # noqa: E402  (bench/ is on sys.path when run as a script)

from arena.match import Policy, aplay_match  # noqa: E402
from arena.agents.registry import parse_agent  # noqa: E402
from arena.games.registry import parse_game
from arena.trajectory import Player  # noqa: E402

GAMES = ["prisoners-dilemma:rounds=3", "connect-four:rows=4,cols=4", "bargaining:max_turns=4"]
PATHS = {"generate": "local:smollm2:constrain=false", "generate+constrain": "local:smollm2:constrain=true",
         "choice": "local:smollm2:mode=choice"}
PLAYERS = [Player(0, "llm", "llm"), Player(1, "random", "random")]


async def one(game: str, spec: str, seed: int) -> tuple[int, int, int, int, float]:
    """(moves, answers, refused, fallbacks, seconds) of the LLM in one match."""
    agents = [parse_agent(spec).make(), parse_agent("random").make()]
    started = time.perf_counter()
    traj = await aplay_match(parse_game(game).make, agents, PLAYERS, seed, f"{game}-{seed}", policy=Policy())
    seconds = time.perf_counter() - started
    mine = [s for s in traj.steps if s.player == 0]
    refused = sum(len(s.attempts) for s in mine)
    answers = refused + sum(not s.fallback for s in mine)
    return len(mine), answers, refused, sum(s.fallback for s in mine), seconds


async def main(seeds: int) -> None:
    totals = {(g, p): [0, 0, 0, 0, 0.0] for g in GAMES for p in PATHS}
    ratios: dict[str, list[float]] = {g: [] for g in GAMES}
    for seed in range(seeds):
        for game in GAMES:
            per_move = {}
            for path, spec in PATHS.items():
                got = await one(game, spec, seed)
                totals[game, path] = [a + b for a, b in zip(totals[game, path], got, strict=True)]
                per_move[path] = got[4] / max(got[0], 1)
            ratios[game].append(per_move["generate+constrain"] / per_move["generate"])
    print(f"{'game':32} {'path':20} {'moves':>5} {'illegal':>8} {'fallback':>8} {'dec/s':>6}")
    for (game, path), (moves, answers, refused, fallbacks, seconds) in totals.items():
        print(f"{game:32} {path:20} {moves:5d} {refused / max(answers, 1):8.1%} {fallbacks / max(moves, 1):8.1%} "
              f"{moves / seconds:6.2f}")
    for game, found in ratios.items():
        print(f"{game}: constrained / free time per decision: {spread(found, 'seeds')}")
    print(load_line())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    asyncio.run(main(parser.parse_args().seeds))
