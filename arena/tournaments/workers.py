"""Parallel execution: matches in local worker processes or as Ray tasks.

Workers only play; each batch of matches comes back as ready-to-insert store rows
and this process writes them, so the store has one writer and resume works the
same for every backend.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from arena.lifeline import die_with_parent
from arena.store import MatchRows, PlannedMatch, Store, match_rows
from arena.tournaments.config import RunConfig
from arena.trajectory import Player

Result = tuple[MatchRows | None, str | None]  # (store rows, error text)
BATCH = 8


@lru_cache(maxsize=8)
def _resolved(config_json: str) -> Any:
    from arena.tournaments.runner import resolve
    return resolve(RunConfig.from_dict(json.loads(config_json)), build=False)


def play_batch(config_json: str, matches: list[dict[str, Any]]) -> list[Result]:
    """Play planned matches in a worker; never raises (errors come back as text)."""
    from arena.tournaments.runner import play_one
    out: list[Result] = []
    for match in matches:
        planned = PlannedMatch(**{**match, "players": [Player(**p) for p in match["players"]]})
        try:
            out.append((match_rows(asyncio.run(play_one(_resolved(config_json), planned))), None))
        except Exception as err:
            out.append((None, f"{type(err).__name__}: {err}"))
    return out


class _Failure(Exception):
    pass


def _finish(store: Store, batch: list[PlannedMatch], results: list[Result], on_done: Any) -> None:
    from arena.tournaments.runner import record
    for match, (rows, error) in zip(batch, results):
        if rows is not None:
            store.save_rows(rows)
        else:
            record(store, match, None, _Failure(error))
        if on_done:
            on_done(None)


def _batches(pending: list[PlannedMatch], workers: int) -> list[list[PlannedMatch]]:
    size = max(1, min(BATCH, len(pending) // (4 * workers) or 1))
    return [pending[i:i + size] for i in range(0, len(pending), size)]


def run_parallel(store: Store, config: RunConfig, pending: list[PlannedMatch], on_done: Any = None) -> None:
    config_json = json.dumps(asdict(config), sort_keys=True)
    batches = _batches(pending, config.workers)
    if config.backend == "ray":
        _run_ray(store, config, config_json, batches, on_done)
        return
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(play_batch, config_json, [asdict(m) for m in b]): b for b in batches}
        for future in as_completed(futures):
            _finish(store, futures[future], future.result(), on_done)


def _run_ray(store: Store, config: RunConfig, config_json: str, batches: list[list[PlannedMatch]],
             on_done: Any) -> None:
    import ray
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if not os.environ.get("RAY_ADDRESS"):  # a cluster address means: join it, don't start one
            options["num_cpus"] = config.workers
        ray.init(**options)
    task = ray.remote(play_batch)
    refs = {task.remote(config_json, [asdict(m) for m in b]): b for b in batches}
    waiting = list(refs)
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1)
        for ref in ready:
            _finish(store, refs[ref], ray.get(ref), on_done)
