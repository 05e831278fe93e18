"""Benchmark: step-value export with LLM rollouts, sequential (``rollout_batch=1``) vs batched.

One store of ``--matches`` SmolLM2 (``mode=choice``, or ``--mode generate``) vs tit-for-tat
prisoner's-dilemma matches is played once; then the step export (rollout policy ``players``: the
model plays its own seat in every rollout) runs ``--repeats`` times in each mode, the two modes
interleaved and their order alternating, and the paired ratio sequential/batched time is reported
as median and range.  The values of both modes are checked to be identical, and the batch sizes
the local model served are counted.  Run from the repository root:
``python bench/rollout_batching.py [--repeats 3] [--rollouts 4] [--batch 32] [--rounds 3]``.
No network is used (the SmolLM2 cache is built on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arena.agents.backends import local
from arena.export.preferences import export_preferences
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from bench._report import load_line, spread

SIZES: Counter = Counter()
_EXECUTE = local._execute


def _counting(shared: Any, kind: str, batch: list[Any]) -> list[Any]:
    SIZES[len(batch)] += 1
    return _EXECUTE(shared, kind, batch)


def play(path: Path, args: argparse.Namespace) -> Store:
    store = Store(path)
    llm = f"local:smollm2:mode={args.mode}"
    run = new_run(store, RunConfig(games=[f"prisoners-dilemma:rounds={args.rounds}"], agents=[llm, "tit-for-tat"],
                                   games_per_pair=args.matches, seed=0))
    execute(store, run)
    return store


def timed(store: Store, batch: int, args: argparse.Namespace) -> tuple[float, list[Any], Counter]:
    SIZES.clear()
    started = time.perf_counter()
    rows = export_preferences(store, kind="step", rollouts=args.rollouts, min_margin=0.0, rollout_batch=batch).rows
    return time.perf_counter() - started, [json.loads(r["values"]) for r in rows], Counter(SIZES)


def main(args: argparse.Namespace) -> None:
    local.LocalBackend("smollm2").load()
    local._execute = _counting
    with tempfile.TemporaryDirectory() as folder:
        store = play(Path(folder) / "bench.db", args)
        timed(store, args.batch, args)  # warm-up
        ratios, seq_times, batch_times = [], [], []
        for i in range(args.repeats):
            order = (1, args.batch) if i % 2 == 0 else (args.batch, 1)
            got = {b: timed(store, b, args) for b in order}
            (t1, v1, s1), (tb, vb, sb) = got[1], got[args.batch]
            if v1 != vb:
                raise SystemExit(f"values differ between the modes: {v1} vs {vb}")
            seq_times.append(t1)
            batch_times.append(tb)
            ratios.append(t1 / tb)
        decisions = sum(s1.values())
    print(f"prisoners-dilemma:rounds={args.rounds}, {args.matches} match(es), smollm2 mode={args.mode} vs "
          f"tit-for-tat, rollouts={args.rollouts}, {len(v1)} decision points, {decisions} rollout LLM decisions")
    print(f"batch sizes served, sequential: {dict(sorted(s1.items()))}; batched: {dict(sorted(sb.items()))}")
    print(f"sequential (rollout_batch=1): {spread(seq_times, 'runs')} s")
    print(f"batched (rollout_batch={args.batch}): {spread(batch_times, 'runs')} s")
    print(f"ratio sequential/batched: {spread(ratios, 'pairs')}x; values identical in every pair")
    print(f"{load_line()}; median decisions/s sequential {decisions / statistics.median(seq_times):.2f}, "
          f"batched {decisions / statistics.median(batch_times):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved pairs of runs")
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32, help="rollout_batch of the batched mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--matches", type=int, default=1, help="games per pair (each plays both seat orders)")
    parser.add_argument("--mode", default="choice", choices=("choice", "generate"))
    main(parser.parse_args())
