"""The one rating core that Bradley–Terry, Plackett–Luce and team ratings share.

Scale. Strengths θ are logits; they are reported on the Elo scale (400/ln 10 Elo points
per logit) with, by default, the *mean* rating at the anchor rating (1500): the same
anchor in the library, the CLI and the report. An agent may be named as the anchor instead.

Prior (``prior``, default :data:`DEFAULT_PRIOR`). BayesElo-style virtual draws: every
parameter is credited with ``prior`` drawn games against a virtual opponent of average
strength (θ = 0). The penalty is ``prior · log(2·cosh(θ/2))`` per parameter, i.e. the
negative log-likelihood of those draws: about a Gaussian prior of precision prior/4 near
0 (standard deviation 2/√prior logits ≈ 490 Elo for 2 draws) with lighter shrinkage of
truly extreme strengths. An agent that won (or lost) every game thus gets a finite
rating and interval. ``prior=0`` is the plain maximum-likelihood fit, which diverges
under perfect separation.

Fit. Newton's method with step halving, vectorised over bootstrap replicates (B
objectives at once). Bootstrap replicates resample whole matches (a multinomial draw
of match-type counts), and rating intervals are bootstrap percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

ELO_PER_LOGIT = 400.0 / math.log(10.0)
DEFAULT_PRIOR = 2.0  # virtual draws per parameter against an average opponent
MEAN = "mean"  # anchor value: the mean rating (not one agent) sits at the anchor rating


def prior_value(theta: np.ndarray, prior: float) -> np.ndarray:
    """Penalty (B,) of θ (B, P): ``prior`` virtual draws of every parameter against θ = 0."""
    if prior == 0:
        return np.zeros(theta.shape[0])
    return -prior * (0.5 * log_expit(theta) + 0.5 * log_expit(-theta)).sum(1)


def prior_derivatives(theta: np.ndarray, prior: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (B, P) and Hessian diagonal (B, P) of :func:`prior_value`."""
    return 0.5 * prior * np.tanh(theta / 2), 0.25 * prior / np.cosh(theta / 2) ** 2


def newton(value: Callable[[np.ndarray], np.ndarray],
           derivatives: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
           theta: np.ndarray, gauge: np.ndarray | None, max_iter: int = 200, tol: float = 1e-9) -> np.ndarray:
    """Minimise B convex objectives at once. `value(θ)` -> (B,), `derivatives(θ)` -> gradient (B, P)
    and Hessian (B, P, P). `gauge` (for an unpenalised fit) spans the direction the likelihood cannot
    see (all θ shifted together); adding gauge·gaugeᵀ keeps the Hessian invertible without moving
    the optimum (a 1e-12 ridge keeps it invertible where the curvature vanishes). Without a prior a
    separable data set has no optimum: θ then grows about a logit per iteration until the curvature
    underflows the ridge (tens of logits)."""
    lift = (np.outer(gauge, gauge) if gauge is not None else 0.0) + 1e-12 * np.eye(theta.shape[1])
    for _ in range(max_iter):
        grad, hess = derivatives(theta)
        step = -np.linalg.solve(hess + lift, grad[..., None])[..., 0]
        before = value(theta)
        scale = np.ones(len(theta))
        for _ in range(40):
            worse = value(theta + scale[:, None] * step) > before + 1e-12 * (1.0 + np.abs(before))
            if not worse.any():
                break
            scale[worse] /= 2
        step *= scale[:, None]
        theta = theta + step
        if np.abs(step).max(initial=0.0) < tol:
            break
    return theta


def with_prior(value: Callable[[np.ndarray], np.ndarray],
               derivatives: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], theta0: np.ndarray,
               prior: float, gauge: np.ndarray) -> np.ndarray:
    """:func:`newton` on a negative log-likelihood plus the virtual-draw prior (the gauge lift only
    when ``prior`` is 0: the prior itself fixes the location)."""
    p = theta0.shape[1]

    def total(theta: np.ndarray) -> np.ndarray:
        return value(theta) + prior_value(theta, prior)

    def total_derivatives(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad, hess = derivatives(theta)
        g, h = prior_derivatives(theta, prior)
        hess = hess.copy()
        hess[:, np.arange(p), np.arange(p)] += h
        return grad + g, hess

    return newton(total, total_derivatives, theta0, gauge if prior == 0 else None)


def bootstrap_counts(counts: np.ndarray, n_boot: int, rng: np.random.Generator,
                     width: int) -> Iterator[np.ndarray]:
    """Resampled match-type counts in chunks of (≤chunk, T): whole matches drawn with replacement."""
    total = int(counts.sum())
    chunk = max(1, min(n_boot, 4_000_000 // max(width, 1)))
    for start in range(0, n_boot, chunk):
        yield rng.multinomial(total, counts / total, size=min(chunk, n_boot - start))


def anchor_index(agents: list[str], anchor: str | None) -> int:
    """Index of the anchor agent; -1 for :data:`MEAN` or None (the average is anchored instead)."""
    if anchor is None or (anchor == MEAN and MEAN not in agents):
        return -1
    if anchor not in agents:
        raise ValueError(f"anchor {anchor!r} is not among the rated agents: {', '.join(agents)}")
    return agents.index(anchor)


def to_elo(theta: np.ndarray, anchor: int, anchor_rating: float) -> np.ndarray:
    """Logits (..., K) -> Elo with the anchor agent (or, for -1, the mean) at `anchor_rating`."""
    ref = theta.mean(axis=-1, keepdims=True) if anchor < 0 else theta[..., anchor : anchor + 1]
    return anchor_rating + ELO_PER_LOGIT * (theta - ref)


def interval_rows(agents: list[str], point: np.ndarray, boots: np.ndarray, games: np.ndarray,
                  level: float = 0.95) -> list[dict[str, Any]]:
    """Leaderboard rows from point ratings (K,) and bootstrap ratings (B, K), best first."""
    tail = (1.0 - level) / 2
    low, high = np.quantile(boots, [tail, 1 - tail], axis=0)
    ranks = min_ranks(-np.asarray(point))
    boot_ranks = min_ranks(-np.asarray(boots))
    rank_low = np.quantile(boot_ranks, tail, axis=0, method="lower")
    rank_high = np.quantile(boot_ranks, 1 - tail, axis=0, method="higher")
    rows = [{"agent": a, "rating": float(point[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
             "rank": int(ranks[i]), "rank_low": int(rank_low[i]), "rank_high": int(rank_high[i]),
             "games": int(games[i])} for i, a in enumerate(agents)]
    return sorted(rows, key=lambda r: (-r["rating"], r["agent"]))


def min_ranks(values: np.ndarray) -> np.ndarray:
    """Competition ranks along the last axis (1 + how many values are smaller; ties share the
    lowest rank), as ``scipy.stats.rankdata(method="min")`` without importing scipy.stats."""
    return 1 + (values[..., None, :] < values[..., :, None]).sum(axis=-1)


def log_expit(x: np.ndarray) -> np.ndarray:
    """log(1 / (1 + e^-x)), stable for large |x| (scipy.special's, without importing scipy.special)."""
    return -np.logaddexp(0.0, -x)


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-x)."""
    return np.exp(log_expit(x))
