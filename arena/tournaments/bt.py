"""Bradley–Terry ratings with bootstrap intervals: pure functions of match outcomes.

Model. P(i beats j) = σ(θ_i − θ_j + h), θ in logits, reported on the Elo scale
(400/ln 10 Elo points per logit) and anchored so that the mean rating (or one named
agent) has a given rating (default 1500). An N-player match counts as
every pair its ranks imply (one game per pair); a tie counts as half a win for each
side. `h`, fitted only when asked, is the advantage of the lower-numbered seat of a
pair: seat 0 (first mover / home) in a two-player game.

Fit. Penalised maximum likelihood with the shared core of :mod:`arena.tournaments.core`:
`prior` virtual draws of every parameter against an average opponent (default 2, so an
agent that won every game stays finite; 0 = plain MLE), Newton's method with step
halving, vectorised over bootstrap replicates.
Matches are first reduced to distinct *match types* (same agents in the same seats
with the same ranks) and their counts, so the cost does not grow with the number of
matches.

Bootstrap. Whole matches are resampled: a multinomial draw of match-type counts is
exactly a resample of the match list with replacement. Rating intervals are
percentiles; rank intervals are the quantiles of each agent's rank (1 = best,
competition ranking) over the replicates. Everything is a function of the results and
the seed only: the order of the results does not matter.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from arena.tournaments.core import (DEFAULT_PRIOR, expit, log_expit, ELO_PER_LOGIT, MEAN, anchor_index, bootstrap_counts,
                                    interval_rows, newton, to_elo, with_prior)
from arena.tournaments.ratings import Result

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["DEFAULT_PRIOR", "ELO_PER_LOGIT", "MEAN", "anchor_index", "bootstrap_counts", "interval_rows", "newton",
           "to_elo", "fit_bt", "bootstrap_bt", "bt_leaderboard", "win_matrix", "wilson", "pair_data", "match_types"]
Z95 = 1.959963984540054
Signature = tuple[tuple[str, int], ...]  # (agent, rank) in seat order


def match_types(results: Iterable[Result]) -> tuple[list[Signature], np.ndarray]:
    """Distinct (agent, rank)-in-seat-order signatures, sorted, and how many matches had each."""
    counter: Counter[Signature] = Counter()
    for _, _, players, outcome in results:
        if len(players) >= 2:
            seated = sorted(players, key=lambda p: p.seat)
            counter[tuple((p.name, int(outcome.ranks[p.seat])) for p in seated)] += 1
    types = sorted(counter)
    return types, np.array([counter[t] for t in types], dtype=np.int64)


def agents_of(types: Sequence[Signature]) -> list[str]:
    return sorted({name for sig in types for name, _ in sig})


def games_played(types: Sequence[Signature], counts: np.ndarray, agents: list[str]) -> np.ndarray:
    """(K,) number of matches each agent took part in."""
    index = {a: k for k, a in enumerate(agents)}
    games = np.zeros(len(agents), dtype=np.int64)
    for sig, n in zip(types, counts):
        for name in {name for name, _ in sig}:
            games[index[name]] += n
    return games


@dataclass(frozen=True)
class PairData:
    """Matches reduced to pair cells. A cell is (agent at the lower seat, agent at the higher seat)."""

    agents: list[str]
    first: np.ndarray  # (C,) agent index at the lower seat
    second: np.ndarray  # (C,) agent index at the higher seat
    counts: np.ndarray  # (T,) matches of each type
    wins: sparse.csr_matrix  # (T, C) wins of `first` (ties 1/2) in one match of each type
    games: sparse.csr_matrix  # (T, C) games in one match of each type
    played: np.ndarray  # (K,) matches per agent


def pair_data(results: Iterable[Result]) -> PairData:
    from scipy import sparse  # imported on use: start-up stays light
    types, counts = match_types(results)
    agents = agents_of(types)
    index = {a: k for k, a in enumerate(agents)}
    cells: dict[tuple[int, int], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    wins: list[float] = []
    for t, sig in enumerate(types):
        for (a, ra), (b, rb) in itertools.combinations(sig, 2):
            rows.append(t)
            cols.append(cells.setdefault((index[a], index[b]), len(cells)))
            wins.append(1.0 if ra < rb else 0.5 if ra == rb else 0.0)
    shape = (len(types), len(cells))
    pairs = np.array(list(cells), dtype=np.int64).reshape(-1, 2)
    return PairData(agents, pairs[:, 0], pairs[:, 1], counts,
                    sparse.csr_matrix((wins, (rows, cols)), shape=shape),
                    sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape),
                    games_played(types, counts, agents))


def _design(data: PairData, seat_advantage: bool) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """X (C, P): +1 for `first`, −1 for `second`, +1 in the seat column; and X⊗X row-wise (C, P²)."""
    from scipy import sparse  # imported on use: start-up stays light
    k, c = len(data.agents), len(data.first)
    p = k + seat_advantage
    cols = np.stack([data.first, data.second, np.full(c, k if seat_advantage else 0)], axis=1)
    vals = np.stack([np.ones(c), -np.ones(c), np.full(c, 1.0 if seat_advantage else 0.0)], axis=1)
    rows = np.repeat(np.arange(c), 3)
    x = sparse.csr_matrix((vals.ravel(), (rows, cols.ravel())), shape=(c, p))
    outer_cols = (cols[:, :, None] * p + cols[:, None, :]).reshape(c, 9)
    outer_vals = (vals[:, :, None] * vals[:, None, :]).reshape(c, 9)
    xx = sparse.csr_matrix((outer_vals.ravel(), (np.repeat(np.arange(c), 9), outer_cols.ravel())), shape=(c, p * p))
    return x, xx


def fit_logits(data: PairData, counts: np.ndarray, seat_advantage: bool, prior: float) -> np.ndarray:
    """Penalised BT MLE for each row of match-type counts (B, T); returns θ (B, K[+1]) in logits."""
    x, xx = _design(data, seat_advantage)
    wins = (data.wins.T @ counts.T).T  # (B, C)
    games = (data.games.T @ counts.T).T
    p = x.shape[1]

    def value(theta: np.ndarray) -> np.ndarray:
        d = (x @ theta.T).T
        return -(wins * log_expit(d) + (games - wins) * log_expit(-d)).sum(1)

    def derivatives(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = expit((x @ theta.T).T)
        grad = -(x.T @ (wins - games * q).T).T
        hess = (xx.T @ (games * q * (1 - q)).T).T.reshape(-1, p, p)
        return grad, hess

    gauge = np.r_[np.ones(len(data.agents)), np.zeros(p - len(data.agents))]
    return with_prior(value, derivatives, np.zeros((len(counts), p)), prior, gauge)


@dataclass(frozen=True)
class BTFit:
    ratings: dict[str, float]  # Elo, anchored
    seat_advantage: float | None  # Elo points for the lower seat of a pair; None when not fitted
    games: dict[str, int]


def fit_bt(results: Iterable[Result], *, anchor: str | None = None, anchor_rating: float = 1500.0,
           seat_advantage: bool = False, prior: float = DEFAULT_PRIOR) -> BTFit:
    data = pair_data(results)
    if not data.agents:
        return BTFit({}, 0.0 if seat_advantage else None, {})
    theta = fit_logits(data, data.counts[None, :].astype(float), seat_advantage, prior)[0]
    k = len(data.agents)
    elo = to_elo(theta[:k], anchor_index(data.agents, anchor), anchor_rating)
    return BTFit(dict(zip(data.agents, elo.tolist())),
                 float(theta[k] * ELO_PER_LOGIT) if seat_advantage else None,
                 dict(zip(data.agents, data.played.tolist())))


def bootstrap_bt(results: Iterable[Result], *, n_boot: int = 1000, seed: int = 0, anchor: str | None = None,
                 anchor_rating: float = 1500.0, seat_advantage: bool = False,
                 prior: float = DEFAULT_PRIOR) -> tuple[list[str], np.ndarray]:
    """Agents and (n_boot, K[+1]) bootstrap ratings in Elo; the last column is the seat advantage
    (Elo) when `seat_advantage`."""
    data = pair_data(results)
    k = len(data.agents)
    if not k:
        return [], np.zeros((n_boot, int(seat_advantage)))
    rng = np.random.default_rng(seed)
    anchor_at = anchor_index(data.agents, anchor)
    width = max(len(data.counts), len(data.first), (k + 1) ** 2)
    out = []
    for counts in bootstrap_counts(data.counts, n_boot, rng, width):
        theta = fit_logits(data, counts.astype(float), seat_advantage, prior)
        elo = to_elo(theta[:, :k], anchor_at, anchor_rating)
        out.append(np.c_[elo, theta[:, k:] * ELO_PER_LOGIT])
    return data.agents, np.concatenate(out)


def bt_leaderboard(results: Sequence[Result], *, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
                   anchor: str | None = None, anchor_rating: float = 1500.0, seat_advantage: bool = False,
                   prior: float = DEFAULT_PRIOR) -> list[dict[str, Any]]:
    """Rows (best first): agent, rating, ci_low, ci_high, rank, rank_low, rank_high, games."""
    options = dict(anchor=anchor, anchor_rating=anchor_rating, seat_advantage=seat_advantage, prior=prior)
    fit = fit_bt(results, **options)
    agents, boots = bootstrap_bt(results, n_boot=n_boot, seed=seed, **options)
    point = np.array([fit.ratings[a] for a in agents])
    return interval_rows(agents, point, boots[:, : len(agents)], np.array([fit.games[a] for a in agents]), level)


def wilson(wins: Any, n: Any, z: float = Z95) -> tuple[Any, Any]:
    """Wilson score interval for `wins` successes (ties as halves allowed) in `n` trials;
    works elementwise on arrays; (0, 1) where n == 0."""
    wins, n = np.asarray(wins, dtype=float), np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    p = wins / safe
    denom = 1 + z * z / safe
    centre = (p + z * z / (2 * safe)) / denom
    half = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return (float(low), float(high)) if low.ndim == 0 else (low, high)


@dataclass(frozen=True)
class WinMatrix:
    """Row agent i against column agent j over all seat orders; ties count 1/2."""

    agents: list[str]
    games: np.ndarray  # (K, K)
    wins: np.ndarray  # (K, K) wins of i over j
    rate: np.ndarray  # (K, K) wins / games, nan without games
    low: np.ndarray  # (K, K) Wilson 95% interval
    high: np.ndarray
    predicted: np.ndarray  # (K, K) BT P(i beats j), averaged over the seat orders played (neutral if none)

    def rows(self) -> list[dict[str, Any]]:
        k = len(self.agents)
        return [{"agent": self.agents[i], "opponent": self.agents[j], "games": int(self.games[i, j]),
                 "wins": float(self.wins[i, j]), "rate": float(self.rate[i, j]), "low": float(self.low[i, j]),
                 "high": float(self.high[i, j]), "predicted": float(self.predicted[i, j])}
                for i in range(k) for j in range(k) if i != j and self.games[i, j] > 0]


def win_matrix(results: Sequence[Result], fit: BTFit | None = None) -> WinMatrix:
    """Observed pairwise win rates with Wilson intervals beside the BT model's predictions
    (`fit` defaults to `fit_bt(results)`; pass the seat-advantage fit to predict with it)."""
    data = pair_data(results)
    fit = fit or fit_bt(results)
    k = len(data.agents)
    logit = np.array([fit.ratings[a] for a in data.agents]) / ELO_PER_LOGIT
    home = (fit.seat_advantage or 0.0) / ELO_PER_LOGIT
    games, wins, expected = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    n = data.games.T @ data.counts
    w = data.wins.T @ data.counts
    q = expit(logit[data.first] - logit[data.second] + home)
    for i, j, nc, wc, qc in zip(data.first, data.second, n, w, q):
        if i != j:
            games[i, j] += nc
            games[j, i] += nc
            wins[i, j] += wc
            wins[j, i] += nc - wc
            expected[i, j] += nc * qc
            expected[j, i] += nc * (1 - qc)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, wins / games, np.nan)
        neutral = expit(logit[:, None] - logit[None, :])
        predicted = np.where(games > 0, expected / games, neutral)
    np.fill_diagonal(predicted, np.nan)
    low, high = wilson(wins, games)
    return WinMatrix(data.agents, games, wins, rate, low, high, predicted)
