"""Parallel execution: matches in local worker processes or as Ray tasks.

Workers only play; each batch of matches comes back as ready-to-insert store rows
and this process writes them, so the store has one writer and resume works the
same for every backend.  Each worker plays its batch in its own event loop with up to
``concurrency`` matches in flight.  Workers ignore SIGINT: the first Ctrl-C is this
process's to handle (no new batch starts, running ones get a grace period, then the
workers are terminated and their matches stay pending).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from arena.lifeline import die_with_parent
from arena.store import MatchRows, PlannedMatch, Store, match_rows
from arena.tournaments.config import RunConfig
from arena.tournaments.interrupt import GRACE
from arena.trajectory import Outcome, Player

if TYPE_CHECKING:
    from arena.tournaments.runner import Hooks

Result = tuple[MatchRows | None, str | None]  # (store rows, error text)
BATCH = 8


@lru_cache(maxsize=8)
def _resolved(config_json: str) -> Any:
    from arena.tournaments.runner import resolve
    return resolve(RunConfig.from_dict(json.loads(config_json)), build=False)


def play_batch(config_json: str, matches: list[dict[str, Any]]) -> list[Result]:
    """Play planned matches in a worker, ``concurrency`` at a time; never raises (errors come back as text)."""
    return asyncio.run(_play_batch(config_json, matches))


async def _play_batch(config_json: str, matches: list[dict[str, Any]]) -> list[Result]:
    from arena.tournaments.runner import play_one
    resolved = _resolved(config_json)
    semaphore = asyncio.Semaphore(int(json.loads(config_json).get("concurrency", 1)))

    async def one(match: dict[str, Any]) -> Result:
        planned = PlannedMatch(**{**match, "players": [Player(**p) for p in match["players"]]})
        async with semaphore:
            try:
                return match_rows(await play_one(resolved, planned)), None
            except Exception as err:
                return None, f"{type(err).__name__}: {err}"

    return list(await asyncio.gather(*(one(m) for m in matches)))


def _start_worker(parent: int) -> None:
    """A worker ignores Ctrl-C (the parent stops the run) and dies with its parent, on kill -9 too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def _finish(store: Store, batch: list[PlannedMatch], results: list[Result], hooks: "Hooks") -> None:
    from arena.tournaments.runner import record
    for match, (rows, error) in zip(batch, results):
        if rows is not None:
            store.save_rows(rows)
            outcome = Outcome(**json.loads(rows[2]))
        else:
            outcome = record(store, match, None, error or "no result")
        if hooks.on_done:
            hooks.on_done(match, outcome)


def _batches(pending: list[PlannedMatch], workers: int, concurrency: int) -> list[list[PlannedMatch]]:
    """Batches of at least ``concurrency`` matches (so a worker has that many in flight) where there
    are enough, smaller ones while that still gives every worker several."""
    share = -(-len(pending) // workers)  # ceil
    size = max(1, min(max(BATCH, concurrency), share, max(concurrency, len(pending) // (4 * workers))))
    return [pending[i:i + size] for i in range(0, len(pending), size)]


def run_parallel(store: Store, config: RunConfig, pending: list[PlannedMatch], hooks: "Hooks") -> bool:
    """Play ``pending`` in worker processes (or Ray); True when stopped by ``hooks.stop``."""
    config_json = json.dumps(asdict(config), sort_keys=True)
    batches = _batches(pending, config.workers, config.concurrency)
    if config.backend == "ray":
        return _run_ray(store, config, config_json, batches, hooks)
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=config.workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(),))
    futures: dict[Future[list[Result]], list[PlannedMatch]] = {
        pool.submit(play_batch, config_json, [asdict(m) for m in b]): b for b in batches}
    waiting = set(futures)
    try:
        while waiting and not hooks.stopped():
            done, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                _finish(store, futures[future], future.result(), hooks)
        if not waiting:
            return False
        for future in waiting:  # batches not started: their matches stay pending
            future.cancel()
        done, running = wait([f for f in waiting if not f.cancelled()], timeout=GRACE)
        for future in done:
            if future.exception() is None:
                _finish(store, futures[future], future.result(), hooks)
        if running:  # still playing after the grace period: their matches stay pending
            for process in set(multiprocessing.active_children()) - before:
                process.terminate()
        return True
    finally:
        # One shutdown, that waits: it joins the pool's manager thread, which otherwise may still be closing
        # its wake-up pipe when the interpreter's exit hook writes to it (EBADF on Python 3.11).
        pool.shutdown(wait=True)


def _run_ray(store: Store, config: RunConfig, config_json: str, batches: list[list[PlannedMatch]],
             hooks: "Hooks") -> bool:
    import ray
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if not os.environ.get("RAY_ADDRESS"):  # a cluster address means: join it, don't start one
            options["num_cpus"] = config.workers
        ray.init(**options)
    task = ray.remote(play_batch)
    refs = {task.remote(config_json, [asdict(m) for m in b]): b for b in batches}
    waiting = list(refs)
    while waiting and not hooks.stopped():
        ready, waiting = ray.wait(waiting, num_returns=1, timeout=0.2)
        for ref in ready:
            _finish(store, refs[ref], ray.get(ref), hooks)
    for ref in waiting:
        ray.cancel(ref, force=True)  # their matches stay pending
    return hooks.stopped()
