"""Parallel execution: matches in local worker processes or as Ray tasks.

Workers only play; results come back as trajectory JSON and this process stores
them, so the store has one writer and resume works the same for every backend.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from arena.store import PlannedMatch, Store
from arena.tournaments.config import RunConfig
from arena.trajectory import Player, Trajectory

Result = tuple[str | None, str | None]  # (trajectory JSON, error text)


@lru_cache(maxsize=8)
def _resolved(config_json: str) -> Any:
    from arena.tournaments.runner import resolve
    return resolve(RunConfig.from_dict(json.loads(config_json)), build=False)


def play_remote(config_json: str, match: dict[str, Any]) -> Result:
    """Play one planned match in a worker; never raises (errors come back as text)."""
    from arena.tournaments.runner import play_one
    planned = PlannedMatch(**{**match, "players": [Player(**p) for p in match["players"]]})
    try:
        traj = asyncio.run(play_one(_resolved(config_json), planned))
    except Exception as err:
        return None, f"{type(err).__name__}: {err}"
    return traj.to_json(), None


class _Failure(Exception):
    pass


def _finish(store: Store, match: PlannedMatch, result: Result, on_done: Any) -> None:
    from arena.tournaments.runner import record
    text, error = result
    traj = Trajectory.from_json(text) if text else None
    record(store, match, traj, None if traj else _Failure(error))
    if on_done:
        on_done(traj)


def run_parallel(store: Store, config: RunConfig, pending: list[PlannedMatch], on_done: Any = None) -> None:
    config_json = json.dumps(asdict(config), sort_keys=True)
    if config.backend == "ray":
        _run_ray(store, config, config_json, pending, on_done)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=context) as pool:
        futures = {pool.submit(play_remote, config_json, asdict(m)): m for m in pending}
        for future in as_completed(futures):
            _finish(store, futures[future], future.result(), on_done)


def _run_ray(store: Store, config: RunConfig, config_json: str, pending: list[PlannedMatch], on_done: Any) -> None:
    import ray
    if not ray.is_initialized():
        ray.init(num_cpus=config.workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, ignore_reinit_error=True)
    task = ray.remote(play_remote)
    refs = {task.remote(config_json, asdict(m)): m for m in pending}
    waiting = list(refs)
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1)
        for ref in ready:
            _finish(store, refs[ref], ray.get(ref), on_done)
