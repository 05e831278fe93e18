"""Time to fit Bradley–Terry + 1000 whole-match bootstraps on 100k synthetic matches.

20 agents with true Elo ratings spread over 1000..1950, random pairings and seats, a
30-Elo first-seat advantage. Prints the time of each stage, with and without the
seat-advantage covariate, and the largest error against the truth. ``--draw p`` makes a
fraction p of the matches draws regardless of strength (this compresses the ratings:
ties count as half a win, so the error against the truth grows).
Run: ``python bench/ratings_fit.py [--matches N] [--agents K] [--boot B] [--draw P]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from arena.tournaments.bt import ELO_PER_LOGIT, bootstrap_bt, fit_bt, pair_data
from arena.tournaments.ratings import Result
from arena.trajectory import Outcome, Player


def synthetic(n_matches: int, n_agents: int, seed: int = 0, home: float = 30.0,
              draw: float = 0.0) -> tuple[list[Result], dict[str, float]]:
    rng = np.random.default_rng(seed)
    truth = {f"agent{k:02d}": 1000.0 + 50.0 * k for k in range(n_agents)}
    names = list(truth)
    a = rng.integers(n_agents, size=n_matches)
    b = (a + rng.integers(1, n_agents, size=n_matches)) % n_agents
    elo = np.array(list(truth.values()))
    p_first = 1 / (1 + np.exp(-(elo[a] - elo[b] + home) / ELO_PER_LOGIT))
    u = rng.random(n_matches)
    results = []
    for m in range(n_matches):
        ranks = [1, 1] if u[m] < draw else [1, 2] if rng.random() < p_first[m] else [2, 1]
        players = [Player(0, names[a[m]], names[a[m]]), Player(1, names[b[m]], names[b[m]])]
        results.append((m, "synthetic", players, Outcome([float(ranks[1]), float(ranks[0])], ranks)))
    return results, truth


def timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"{label:<44} {time.perf_counter() - start:7.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--draw", type=float, default=0.0)
    args = parser.parse_args()
    results, truth = timed(f"simulate {args.matches} matches", synthetic, args.matches, args.agents,
                            draw=args.draw)
    timed("aggregate to match types", pair_data, results)
    for seat in (False, True):
        start = time.perf_counter()
        fit = timed(f"fit BT (seat_advantage={seat})", fit_bt, results, seat_advantage=seat)
        timed(f"{args.boot} bootstraps (seat_advantage={seat})", bootstrap_bt, results, n_boot=args.boot,
              seat_advantage=seat)
        print(f"{'total fit + bootstraps':<44} {time.perf_counter() - start:7.2f} s")
        anchor = min(truth)
        err = max(abs(fit.ratings[a] - (truth[a] - truth[anchor] + 1500.0)) for a in truth)
        home = "" if fit.seat_advantage is None else f", seat advantage {fit.seat_advantage:.1f} (true 30)"
        print(f"  max |error| vs truth {err:.1f} Elo{home}")


if __name__ == "__main__":
    main()
