"""Held-out fit of the ratings: k-fold cross-validated log-loss and Brier score.

The (distinct) matches are split into ``k`` folds at random (seeded). For each fold the
Bradley–Terry model is fitted on the other folds, with the same prior as the
leaderboard, and predicts every pair of players in the held-out matches (the pairs an
N-player ranking implies; a tie is y = 1/2): P(lower seat beats higher seat) =
σ(θ_a − θ_b); an agent unseen in training gets the mean rating. Two references are scored
on the same pairs:

- coin: 1/2 always (log-loss ln 2 ≈ 0.693, Brier 0.25);
- per-pair win rate: (wins + 1/2) / (games + 1) of that pair of agents in training, either
  seat order (1/2 for an unseen pair) — a model with a free parameter per pair, which
  captures non-transitive structure (rock beats scissors beats paper beats rock) that one
  number per agent cannot.

The fit is flagged poor when the per-pair model beats the ratings by more than
:data:`POOR_MARGIN` nats per game (the ratings miss structure in the data), or when the
ratings do no better than the coin while the per-pair model does.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from arena.tournaments.bt import fit_bt
from arena.tournaments.core import DEFAULT_PRIOR, ELO_PER_LOGIT
from arena.tournaments.ratings import Result

POOR_MARGIN = 0.05
MIN_MATCHES = 10


def pair_outcomes(result: Result) -> list[tuple[str, str, float]]:
    """(lower-seat agent, higher-seat agent, score of the first) for every pair of one match."""
    _, _, players, outcome = result
    seated = sorted(players, key=lambda p: p.seat)
    return [(a.name, b.name, 1.0 if outcome.ranks[a.seat] < outcome.ranks[b.seat] else
             0.5 if outcome.ranks[a.seat] == outcome.ranks[b.seat] else 0.0)
            for a, b in itertools.combinations(seated, 2) if a.name != b.name]


def _scores(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), float(np.mean((p - y) ** 2))


def _pair_rates(train: Sequence[Result]) -> dict[frozenset[str], tuple[str, float, float]]:
    table: dict[frozenset[str], list[Any]] = {}
    for result in train:
        for a, b, y in pair_outcomes(result):
            entry = table.setdefault(frozenset((a, b)), [a, 0.0, 0.0])
            entry[1] += y if entry[0] == a else 1 - y
            entry[2] += 1
    return {key: (ref, wins, games) for key, (ref, wins, games) in table.items()}


def cross_validate(results: Sequence[Result], k: int = 5, seed: int = 0,
                   prior: float = DEFAULT_PRIOR) -> dict[str, Any] | None:
    """Held-out log-loss and Brier of the ratings, the coin and the per-pair model, and the verdict;
    None with fewer than :data:`MIN_MATCHES` rated matches."""
    rated = [r for r in results if pair_outcomes(r)]
    if len(rated) < MIN_MATCHES:
        return None
    k = min(k, len(rated))
    folds = np.random.default_rng(seed).permutation(len(rated)) % k
    pred: dict[str, list[float]] = {"ratings": [], "coin": [], "pair": []}
    truth: list[float] = []
    for fold in range(k):
        train = [r for r, f in zip(rated, folds) if f != fold]
        test = [r for r, f in zip(rated, folds) if f == fold]
        ratings = fit_bt(train, prior=prior).ratings
        mean = float(np.mean(list(ratings.values()))) if ratings else 0.0
        rates = _pair_rates(train)
        for result in test:
            for a, b, y in pair_outcomes(result):
                diff = (ratings.get(a, mean) - ratings.get(b, mean)) / ELO_PER_LOGIT
                pred["ratings"].append(1 / (1 + math.exp(-diff)))
                pred["coin"].append(0.5)
                ref, wins, games = rates.get(frozenset((a, b)), (a, 0.0, 0.0))
                rate = (wins + 0.5) / (games + 1)
                pred["pair"].append(rate if ref == a else 1 - rate)
                truth.append(y)
    y = np.array(truth)
    scores = {name: _scores(np.array(p), y) for name, p in pred.items()}
    out: dict[str, Any] = {"folds": k, "matches": len(rated), "games": len(y),
                           **{f"{name}_{metric}": round(scores[name][i], 4)
                              for name in pred for i, metric in enumerate(("log_loss", "brier"))}}
    bt, coin, pair = (scores[n][0] for n in ("ratings", "coin", "pair"))
    out["poor_fit"] = bool(bt - pair > POOR_MARGIN or (bt >= coin - 1e-3 and pair < coin - POOR_MARGIN))
    out["message"] = (f"poor fit: held-out log-loss of the ratings {bt:.3f} vs {pair:.3f} for per-pair win rates "
                      f"(coin {coin:.3f}); the population is not transitive — see Nash averaging and alpha-rank"
                      if out["poor_fit"] else
                      f"held-out log-loss {bt:.3f} (per-pair {pair:.3f}, coin {coin:.3f})")
    return out
