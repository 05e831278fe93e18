"""Sequential probability ratio test over game pairs (fishtest's pentanomial model).

A and B play *pairs* of games: the same seed twice with the seats swapped, so the
luck of a deal or an opening cancels within a pair. A pair scores 0, 1/2, 1, 3/2 or 2
points for A: the pentanomial outcome, counted in ``counts[0..4]``.

Hypotheses are on the logistic Elo scale: H0 elo = ``elo0``, H1 elo = ``elo1`` with the
expected score per game s = 1 / (1 + 10^(−elo/400)). The log-likelihood ratio is the
*generalised* one of fishtest (M. Van den Bergh, "Computing the LLR", used by fishtest's
``LLRcalc.LLR_logistic``): under each hypothesis the pentanomial distribution is replaced
by the maximum-likelihood distribution with mean score s (p_i / (1 + λ(a_i − s)), λ
solved numerically; a_i = 0, 1/4, 1/2, 3/4, 1 per game), and

    LLR = N · Σ_i p̂_i · log(p1_i / p0_i)

with p̂ the empirical frequencies (each count regularised by 1e-3, as fishtest does).
Wald's bounds: accept H1 when LLR ≥ log((1 − β)/α), accept H0 when LLR ≤ log(β/(1 − α)).

The Elo estimate is the logistic Elo of the mean score per game, with a 95% interval
from the variance of the pair scores (normal approximation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

SCORES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])  # pair score / 2, per outcome 0..4
EPSILON = 1e-3
Z95 = 1.959963984540054


def expected_score(elo: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def elo_of(score: float) -> float:
    score = min(max(score, 1e-9), 1 - 1e-9)
    return -400.0 * math.log10(1.0 / score - 1.0)


def _mle(pdf: np.ndarray, s: float) -> np.ndarray:
    """Maximum-likelihood distributions (..., 5) with mean ``s`` closest to the empirical ``pdf``:
    p_i / (1 + λ(a_i − s)), λ found by bisection on the mean constraint (vectorised)."""
    d = SCORES - s
    low = np.full(pdf.shape[:-1], -1.0 / d.max() + 1e-12)
    high = np.full(pdf.shape[:-1], -1.0 / d.min() - 1e-12)
    for _ in range(64):
        lam = (low + high) / 2
        mean = (pdf * d / (1 + lam[..., None] * d)).sum(-1)  # decreasing in λ
        low = np.where(mean > 0, lam, low)
        high = np.where(mean > 0, high, lam)
    lam = (low + high) / 2
    out = pdf / (1 + lam[..., None] * d)
    return out / out.sum(-1, keepdims=True)


def llr(counts: Any, elo0: float, elo1: float) -> np.ndarray:
    """Generalised log-likelihood ratio of H1 vs H0 for pentanomial counts (..., 5); vectorised."""
    counts = np.asarray(counts, dtype=float) + EPSILON
    n = counts.sum(-1)
    pdf = counts / n[..., None]
    p0, p1 = _mle(pdf, expected_score(elo0)), _mle(pdf, expected_score(elo1))
    return n * (pdf * np.log(p1 / p0)).sum(-1)


def bounds(alpha: float, beta: float) -> tuple[float, float]:
    """(lower, upper) LLR bounds of Wald's test."""
    return math.log(beta / (1 - alpha)), math.log((1 - beta) / alpha)


@dataclass(frozen=True)
class Verdict:
    decision: str  # "H1" (A is better by elo1), "H0" (not better than elo0), "continue"
    llr: float
    lower: float
    upper: float
    pairs: int
    counts: tuple[int, ...]
    elo: float
    elo_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "llr": round(self.llr, 4), "bounds": [round(self.lower, 4),
                round(self.upper, 4)], "pairs": self.pairs, "games": 2 * self.pairs,
                "pentanomial": list(self.counts), "elo": round(self.elo, 1),
                "elo_ci": [round(self.elo_ci[0], 1), round(self.elo_ci[1], 1)]}


def pentanomial(pairs: Any) -> tuple[int, ...]:
    """Counts of pair scores 0, 0.5, 1, 1.5, 2 from a sequence of pair scores (A's points in a pair)."""
    counts = [0] * 5
    for score in pairs:
        k = round(float(score) * 2)
        if not 0 <= k <= 4 or abs(float(score) * 2 - k) > 1e-9:
            raise ValueError(f"a pair score must be 0, 0.5, 1, 1.5 or 2; got {score!r}")
        counts[k] += 1
    return tuple(counts)


def elo_estimate(counts: Any) -> tuple[float, tuple[float, float]]:
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    if n == 0:
        return 0.0, (-math.inf, math.inf)
    mean = float((counts * SCORES).sum() / n)
    sd = math.sqrt(max(float((counts * (SCORES - mean) ** 2).sum() / n), 0.0) / n)
    return elo_of(mean), (elo_of(mean - Z95 * sd), elo_of(mean + Z95 * sd))


def sprt(pairs: Any, elo0: float = 0.0, elo1: float = 20.0, alpha: float = 0.05, beta: float = 0.05) -> Verdict:
    """The SPRT verdict after the given game pairs (A's points per pair: 0, 0.5, 1, 1.5 or 2)."""
    if not elo0 < elo1:
        raise ValueError(f"elo0 must be below elo1 (got {elo0}, {elo1})")
    if not (0 < alpha < 1 and 0 < beta < 1):
        raise ValueError("alpha and beta must be between 0 and 1")
    counts = pentanomial(pairs)
    lower, upper = bounds(alpha, beta)
    value = float(llr(counts, elo0, elo1)) if sum(counts) else 0.0
    decision = "H1" if value >= upper else "H0" if value <= lower else "continue"
    elo, ci = elo_estimate(counts)
    return Verdict(decision, value, lower, upper, sum(counts), counts, elo, ci)


@dataclass(frozen=True)
class Simulation:
    verdicts: list[str]  # per run: "H0", "H1" or "continue" (undecided after max_pairs)
    pairs: list[int]  # pairs each run played before it stopped
    outcomes: np.ndarray  # (runs, max_pairs) pentanomial outcome 0..4 of every simulated pair


def simulate(elo: float, runs: int = 100, seed: int = 0, elo0: float = 0.0, elo1: float = 20.0,
             alpha: float = 0.05, beta: float = 0.05, max_pairs: int = 5000, every: int = 8,
             draw: float = 0.4) -> Simulation:
    """SPRTs on synthetic pairs between agents ``elo`` apart: every game independently a win, draw
    (probability ``draw``) or loss with expected score s(elo); the test looks every ``every`` pairs
    (as ``arena compare`` looks after each batch). Vectorised: fast enough for error-rate checks."""
    rng = np.random.default_rng(seed)
    s = expected_score(elo)
    games = rng.choice(3, size=(runs, max_pairs, 2), p=[1 - s - draw / 2, draw, s - draw / 2])
    outcomes = games.sum(-1)
    counts = np.eye(5)[outcomes].cumsum(1)[:, every - 1::every]
    low, high = bounds(alpha, beta)
    values = llr(counts, elo0, elo1)
    verdicts, pairs = [], []
    for run in range(runs):
        stop = np.nonzero((values[run] >= high) | (values[run] <= low))[0]
        if len(stop):
            verdicts.append("H1" if values[run, stop[0]] >= high else "H0")
            pairs.append(int((stop[0] + 1) * every))
        else:
            verdicts.append("continue")
            pairs.append(max_pairs)
    return Simulation(verdicts, pairs, outcomes)
