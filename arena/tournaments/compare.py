"""``arena compare A B --game G``: mirrored game pairs until a sequential test decides.

Each pair is two matches on the same seed with the seats swapped (A first, then B
first), so the luck of the seed cancels within a pair. Pairs are planned in batches
into an ordinary run of the store (a compare run is resumable like any run: finished
matches are kept, pending ones played on resume); after each batch the SPRT of
:mod:`arena.tournaments.sprt` reads the finished pairs and either decides or plans the
next batch, up to ``max_pairs``. A pair with a failed match (an infrastructure error)
is left out of the test. The test's parameters are kept in the store's
``compare_runs`` table beside the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from arena.options import option
from arena.spec import SpecError
from arena.store import PlannedMatch, Store
from arena.tournaments.config import RunConfig
from arena.tournaments.ratings import match_points
from arena.tournaments.runner import Prepared, execute, new_run_id, resolve, store_run
from arena.tournaments.schedule import match_seed
from arena.tournaments.sprt import Verdict, sprt
from arena.trajectory import Player

log = logging.getLogger(__name__)
TABLE = "CREATE TABLE IF NOT EXISTS compare_runs (run_id TEXT PRIMARY KEY, params TEXT NOT NULL)"


@dataclass(frozen=True)
class CompareParams:
    """The sequential test's parameters (the ``arena compare`` options)."""

    elo0: float = option(0.0, "H0: A is no better than this (logistic Elo)")
    elo1: float = option(20.0, "H1: A is better by at least this")
    alpha: float = option(0.05, "false-positive rate (accepting H1 when H0 holds)")
    beta: float = option(0.05, "false-negative rate (accepting H0 when H1 holds)")
    batch: int = option(8, "pairs played between two looks at the test")
    max_pairs: int = option(1000, "stop undecided after this many pairs")

    def __post_init__(self) -> None:
        if not self.elo0 < self.elo1:
            raise SpecError(f"--elo0 must be below --elo1 (got {self.elo0:g} and {self.elo1:g})")
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise SpecError("--alpha and --beta must be between 0 and 0.5")
        if self.batch < 1 or self.max_pairs < 1:
            raise SpecError("--batch and --max-pairs must be at least 1")


def plan_pairs(run_id: str, config: RunConfig, first_pair: int, n: int) -> list[PlannedMatch]:
    """Pairs ``first_pair .. first_pair + n - 1``: matches 2p (A in seat 0) and 2p+1 (B in seat 0), one seed."""
    resolved = resolve(config, build=False)
    (game,), (a, b) = list(resolved.games), list(resolved.agents.values())
    plan = []
    for pair in range(first_pair, first_pair + n):
        seed = match_seed(config.seed, pair)
        for idx, seats in ((2 * pair, (a, b)), (2 * pair + 1, (b, a))):
            players = [Player(s, agent.name, agent.spec) for s, agent in enumerate(seats)]
            plan.append(PlannedMatch(f"{run_id}-{idx:05d}", idx, game, seed, players))
    return plan


def pair_scores(store: Store, run_id: str, a: str) -> list[float]:
    """A's points (0..2) in every pair whose two matches finished, in pair order."""
    points: dict[int, list[float]] = {}
    for idx, _, players, outcome in store.results(run_id):
        seat = next(p.seat for p in players if p.name == a)
        points.setdefault(idx // 2, []).append(match_points(outcome.ranks, seat))
    return [sum(v) for _, v in sorted(points.items()) if len(v) == 2]


def plan(a: str, b: str, game: str, params: CompareParams, seed: int = 0, **options: object) -> Prepared:
    """The compare run with its agents checked and its first batch planned; nothing is stored (so a bad
    agent or game fails before any store is opened)."""
    config = RunConfig(games=[game], agents=[a, b], games_per_pair=2, seed=seed, **options)  # type: ignore[arg-type]
    resolved = resolve(config)
    if len(resolved.games) != 1 or next(iter(resolved.games.values())).make(0).num_players != 2:
        raise SpecError(f"compare needs one two-player game; {game} seats more")
    run_id = new_run_id()
    return Prepared(config, resolved, run_id, plan_pairs(run_id, config, 0, min(params.batch, params.max_pairs)))


def start(store: Store, ready: Prepared, params: CompareParams) -> str:
    """Store a planned compare run (as every run: its config redacted) and its test's parameters; its id."""
    run_id = store_run(store, ready)
    store.db.execute(TABLE)
    store.db.execute("INSERT INTO compare_runs VALUES (?, ?)", (run_id, json.dumps(asdict(params))))
    return run_id


def params_of(store: Store, run_id: str) -> CompareParams:
    store.run_config(run_id)  # a clear error for an unknown run
    store.db.execute(TABLE)
    row = store.db.execute("SELECT params FROM compare_runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise SpecError(f"run {run_id} is not a compare run (start one with `arena compare A B --game G`)")
    return CompareParams(**json.loads(row[0]))


def proceed(store: Store, run_id: str, on_batch: Callable[[Verdict], None] | None = None) -> Verdict:
    """Play pending pairs and further batches until the SPRT decides or ``max_pairs`` are planned."""
    params = params_of(store, run_id)
    config = RunConfig.from_dict(store.run_config(run_id))
    first = next(iter(resolve(config, build=False).agents))  # agent A
    while True:
        execute(store, run_id)
        verdict = sprt(pair_scores(store, run_id, first), params.elo0, params.elo1, params.alpha, params.beta)
        if on_batch:
            on_batch(verdict)
        planned = store.count(run_id) // 2
        if verdict.decision != "continue" or planned >= params.max_pairs:
            store.set_status(run_id, "done")
            return verdict
        more = min(params.batch, params.max_pairs - planned)
        store.add_matches(run_id, plan_pairs(run_id, config, planned, more), round_no=store.rounds_planned(run_id) + 1)
