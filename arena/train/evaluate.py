"""Is the tuned model better?  Mirrored matches on fresh seeds, replicates removed, paired bootstrap CIs, SPRT.

- **Mirrored pairs**: for every opponent and every evaluation seed, two matches with the same
  seed (same deals) and the seats swapped; the unit of every statistic is that pair (the mean
  over its two matches), so seat and deal luck cancel within it.
- **Replicates**: a game without chance whose pair came out identical to another seed's (the
  seed changed nothing: deterministic agents) is one experiment, not several -- later copies are
  dropped before any statistic; in a game with chance only exact repeats (same seed) are.
- **Scores**: the mean payoff of the model per pair (chips in poker, points in general-sum
  games) with a 95% percentile bootstrap over pairs; against each fixed anchor the tuned model's
  pairs are compared with the base model's on the same seeds (paired bootstrap of the differences).
- **SPRT** (:func:`sprt`): on the head-to-head tuned vs base, the pair's points (win 1, draw 1/2,
  loss 0 per match: 0, 1/2, 1, 3/2 or 2 per mirrored pair), H0: Elo difference ``elo0`` vs H1:
  ``elo1``, through the tournaments' pentanomial GSPRT (:mod:`arena.tournaments.sprt`, the one
  ``arena compare`` uses); "better" when it accepts H1, "not better" when it accepts H0, else
  "undecided".
"""

from __future__ import annotations

import json
import math
import random
from statistics import fmean
from typing import Any

from arena.store import PlannedMatch, Store
from arena.tournaments.config import RunConfig
from arena.tournaments.ratings import match_points
from arena.tournaments.runner import Prepared, execute, new_run_id, resolve, store_run
from arena.trajectory import Player, Trajectory

EVAL_SEED0 = 7_000_000  # evaluation seeds start here; play runs draw theirs from match_seed hashes


def eval_seeds(n: int, offset: int = 0) -> list[int]:
    return [EVAL_SEED0 + offset + i for i in range(n)]


def play_mirrored(store: Store, game: str, agents: list[str], pairs: list[tuple[str, str]], seeds: list[int],
                  concurrency: int = 8) -> str:
    """One run: for each (a, b) in ``pairs`` and each seed, a plays seat 0 then seat 1 on that seed."""
    config = RunConfig(games=[game], agents=agents, seed=seeds[0] if seeds else 0, concurrency=concurrency)
    resolved = resolve(config)
    (spec,) = [g.spec for g in resolved.games.values()]
    by_name = resolved.agents
    run_id = new_run_id()
    plan: list[PlannedMatch] = []
    for a, b in pairs:
        for s in seeds:
            for order in ((a, b), (b, a)):
                players = [Player(seat, by_name[n].name, by_name[n].spec) for seat, n in enumerate(order)]
                plan.append(PlannedMatch(f"{run_id}-{len(plan):05d}", len(plan), spec, s, players))
    store_run(store, Prepared(config, resolved, run_id, plan))
    execute(store, run_id)
    return run_id


def _fingerprint(traj: Trajectory) -> list[Any]:
    return [[s.player, s.observation, s.action] for s in traj.steps] + [traj.outcome.scores if traj.outcome else None]


def mirrored_pairs(store: Store, run_id: str, me: str, other: str, chance: bool) -> tuple[list[dict[str, Any]], int]:
    """Per seed, ``me``'s mean payoff and score over the two mirrored matches against ``other``; and how
    many pairs were dropped as replicates (see the module doc)."""
    games: dict[int, list[tuple[Trajectory, int]]] = {}
    for match_id, players in store.match_players(run_id).items():
        names = [p.name for p in players]
        if sorted(names) != sorted([me, other]):
            continue
        traj = store.trajectory(match_id)
        if traj.outcome is None or traj.outcome.reason == "error":
            continue
        games.setdefault(int(traj.seed), []).append((traj, names.index(me)))
    rows, seen, dropped = [], set(), 0
    for seed in sorted(games):
        pair = sorted(games[seed], key=lambda x: x[1])
        if len(pair) != 2:
            continue
        key = json.dumps(([seed] if chance else []) + [_fingerprint(t) for t, _ in pair], sort_keys=True)
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        rows.append({"seed": seed, "payoff": fmean(float(t.outcome.scores[s]) for t, s in pair),  # type: ignore[union-attr]
                     "score": fmean(match_points(t.outcome.ranks, s) for t, s in pair)})  # type: ignore[union-attr]
    return rows, dropped


def bootstrap(values: list[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, 2.5%, 97.5%) of the mean by the percentile bootstrap; NaNs for no values."""
    if not values:
        return math.nan, math.nan, math.nan
    rng = random.Random(seed)
    n = len(values)
    means = sorted(fmean(rng.choices(values, k=n)) for _ in range(n_boot))
    return fmean(values), means[int(0.025 * (n_boot - 1))], means[int(0.975 * (n_boot - 1))]


def paired_difference(tuned: list[dict[str, Any]], base: list[dict[str, Any]], n_boot: int = 2000,
                      seed: int = 0) -> dict[str, Any]:
    """tuned - base payoff on the seeds both were evaluated on (paired bootstrap over those seeds)."""
    by_seed = {r["seed"]: r["payoff"] for r in base}
    diffs = [r["payoff"] - by_seed[r["seed"]] for r in tuned if r["seed"] in by_seed]
    mean, lo, hi = bootstrap(diffs, n_boot, seed)
    return {"mean": mean, "ci": [lo, hi], "pairs": len(diffs)}


def summarize(rows: list[dict[str, Any]], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    mean, lo, hi = bootstrap([r["payoff"] for r in rows], n_boot, seed)
    return {"payoff": mean, "ci": [lo, hi], "pairs": len(rows),
            "score": fmean(r["score"] for r in rows) if rows else math.nan}


VERDICTS = {"H1": "better", "H0": "not better", "continue": "undecided"}


def sprt(scores: list[float], elo0: float = 0.0, elo1: float = 50.0, alpha: float = 0.05,
         beta: float = 0.05) -> dict[str, Any]:
    """The SPRT of H1: Elo ``elo1`` against H0: ``elo0`` on per-pair mean scores in [0, 1]."""
    from arena.tournaments.sprt import sprt as pentanomial_sprt
    verdict = pentanomial_sprt([2 * s for s in scores], elo0, elo1, alpha, beta)
    return {"elo0": elo0, "elo1": elo1, "alpha": alpha, "beta": beta, "lower": verdict.lower,
            "upper": verdict.upper, "n": verdict.pairs, "llr": verdict.llr, "verdict": VERDICTS[verdict.decision],
            "pentanomial": list(verdict.counts), "elo": verdict.elo, "elo_ci": list(verdict.elo_ci)}
