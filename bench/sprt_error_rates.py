"""Error rates and average sample size of `arena compare`'s SPRT on synthetic agents.

For true Elo differences at H0, between the hypotheses and at H1 (default elo0=0, elo1=20,
alpha=beta=0.05), simulates ``--runs`` SPRTs on independent game pairs (draw rate ``--draw``,
looking every ``--every`` pairs, as compare does after each batch) and prints the share of
runs accepting H1, and the median and range of the games played.
Run: ``python bench/sprt_error_rates.py [--runs 1000] [--every 8] [--draw 0.4]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from arena.tournaments.sprt import simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--every", type=int, default=8)
    parser.add_argument("--draw", type=float, default=0.4)
    args = parser.parse_args()
    for elo in (-10.0, 0.0, 10.0, 20.0, 30.0):
        started = time.perf_counter()
        sim = simulate(elo, runs=args.runs, seed=int(elo) + 100, every=args.every, draw=args.draw)
        games = 2 * np.array(sim.pairs)
        share = sim.verdicts.count("H1") / args.runs
        print(f"elo {elo:+5.0f}: accept H1 {share:6.1%}  undecided {sim.verdicts.count('continue'):4d}  games median "
              f"{np.median(games):6.0f} range [{games.min()}, {games.max()}]  ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
