"""Matches/s of an 8-agent x 2-game round robin with --workers 1 vs 2 (same run, same seed).

Run: ``python bench/workers_scaling.py``.  On a 2-core machine the ideal ratio is 2x;
the store is written by the parent only, so the ratio also shows that cost.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run

AGENTS = ["tit-for-tat", "grim-trigger", "always-defect", "always-cooperate", "alternate",
          "win-stay-lose-shift", "suspicious-tit-for-tat", "random:seed=1"]
GAMES = ["prisoners-dilemma", "rock-paper-scissors"]


def matches_per_second(workers: int, folder: Path) -> float:
    store = Store(folder / f"w{workers}.db")
    run_id = new_run(store, RunConfig(games=GAMES, agents=AGENTS, games_per_pair=20, workers=workers))
    start = time.perf_counter()
    execute(store, run_id)
    elapsed = time.perf_counter() - start
    return store.count(run_id, "done") / elapsed


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        one = matches_per_second(1, Path(tmp))
        two = matches_per_second(2, Path(tmp))
    print("8 agents x 2 games round robin, 1120 matches of 10 rounds")
    print(f"--workers 1 : {one:8.1f} matches/s")
    print(f"--workers 2 : {two:8.1f} matches/s")
    print(f"ratio       : {two / one:8.2f}x")
