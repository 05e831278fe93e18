"""Multi-player ratings: Plackett–Luce MLE with bootstrap intervals, OpenSkill, JSONL input.

Plackett–Luce reads a ranking as successive choices: first place is chosen from all n
players with probability e^θ_i / Σ_k e^θ_k, second from those left, and so on; the
last player left adds nothing. θ is reported on the same Elo scale as `bt` (400/ln 10
per logit), anchored the same way, fitted with the same prior and Newton method (the
shared core, :mod:`arena.tournaments.core`) and bootstrapped over whole matches in the
same way. A two-player match is exactly one
Bradley–Terry game, ties included, so on two-player data `fit_pl` equals `fit_bt`.

Ties are averaged: a tie means "order unknown, every order equally likely", and the
log-likelihood of the ranking is averaged over the orders of each tied group (the
expected log-likelihood under uniform random tie-breaking). For two players this is
exactly "half a win each". Computed exactly for tied groups of up to 8 players (the
still-unchosen part of a tied group G is the subset S with probability 1/C(|G|,|S|),
and each member of S is chosen next with probability 1/|S|); larger groups use
Efron's approximation of the same average (the tied players' weight in later
denominators falls linearly as they are chosen).

OpenSkill (Weng–Lin Plackett–Luce, the `openskill` library) is an online second view:
mu, sigma and ordinal (mu − 3σ) after processing the results in schedule order.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arena.tournaments.bt import Signature, agents_of, games_played, match_types
from arena.tournaments.core import DEFAULT_PRIOR, anchor_index, bootstrap_counts, interval_rows, to_elo, with_prior
from arena.tournaments.ratings import Result
from arena.trajectory import Outcome, Player

if TYPE_CHECKING:
    from scipy import sparse

EXACT_TIE_LIMIT = 8
Event = tuple[dict[int, float], dict[int, float], float]  # chosen shares, risk-set weights, weight


@dataclass(frozen=True)
class RankingData:
    """Matches reduced to choice events; events with the same risk set are pooled."""

    agents: list[str]
    counts: np.ndarray  # (T,) matches of each type
    chosen: sparse.csr_matrix  # (T, K) times each agent is chosen in one match of each type
    weight: sparse.csr_matrix  # (T, R) weight of each distinct risk set in one match of each type
    risk: sparse.csr_matrix  # (R, K) membership weights of each risk set
    played: np.ndarray  # (K,) matches per agent


def _group_events(group: list[int], rest: list[int]) -> list[Event]:
    """Choice events of a tied group `group` ranked above the players `rest` (agent indices)."""
    d, events = len(group), []
    if d <= EXACT_TIE_LIMIT:
        for s in range(1, d + 1):
            for subset in itertools.combinations(group, s):
                if s == 1 and not rest:
                    continue
                w = 1.0 / math.comb(d, s)
                events.append((_tally(subset, w / s), _tally(subset + tuple(rest), 1.0), w))
        return events
    for r in range(d):  # Efron
        risk = _tally(rest, 1.0)
        for k, v in _tally(group, 1.0 - r / d).items():
            risk[k] = risk.get(k, 0.0) + v
        events.append((_tally(group, 1.0 / d), risk, 1.0))
    return events


def _tally(agents: Iterable[int], each: float) -> dict[int, float]:
    out: dict[int, float] = {}
    for k in agents:
        out[k] = out.get(k, 0.0) + each
    return out


def _events(sig: Signature, index: dict[str, int]) -> list[Event]:
    by_rank: dict[int, list[int]] = {}
    for name, rank in sig:
        by_rank.setdefault(rank, []).append(index[name])
    ranks = sorted(by_rank)
    return [e for i, r in enumerate(ranks)
            for e in _group_events(by_rank[r], [k for q in ranks[i + 1:] for k in by_rank[q]])]


def ranking_data(results: Iterable[Result]) -> RankingData:
    types, counts = match_types(results)
    agents = agents_of(types)
    index = {a: k for k, a in enumerate(agents)}
    risks: dict[tuple[tuple[int, float], ...], int] = {}
    chosen: list[tuple[int, int, float]] = []
    weight: list[tuple[int, int, float]] = []
    for t, sig in enumerate(types):
        for shares, risk, w in _events(sig, index):
            chosen += [(t, k, v) for k, v in shares.items()]
            weight.append((t, risks.setdefault(tuple(sorted(risk.items())), len(risks)), w))
    risk_cells = [(r, k, v) for key, r in risks.items() for k, v in key]
    return RankingData(agents, counts, _sparse(chosen, (len(types), len(agents))),
                       _sparse(weight, (len(types), len(risks))),
                       _sparse(risk_cells, (len(risks), len(agents))), games_played(types, counts, agents))


def _sparse(cells: list[tuple[int, int, float]], shape: tuple[int, int]) -> sparse.csr_matrix:
    from scipy import sparse  # imported on use: start-up stays light
    rows, cols, vals = zip(*cells) if cells else ((), (), ())
    return sparse.csr_matrix((vals, (rows, cols)), shape=shape)


def _outer_rows(a: sparse.csr_matrix) -> sparse.csr_matrix:
    """Row-wise Kronecker product A⊗A, (R, K²): the products of membership weights within each risk set."""
    k = a.shape[1]
    cells = []
    for r in range(a.shape[0]):
        entries = list(zip(a.indices[a.indptr[r]:a.indptr[r + 1]], a.data[a.indptr[r]:a.indptr[r + 1]]))
        cells += [(r, i * k + j, vi * vj) for i, vi in entries for j, vj in entries]
    return _sparse(cells, (a.shape[0], k * k))


def fit_pl_logits(data: RankingData, counts: np.ndarray, prior: float) -> np.ndarray:
    """Penalised Plackett–Luce MLE for each row of match-type counts (B, T); θ (B, K) in logits."""
    k = len(data.agents)
    chosen = (data.chosen.T @ counts.T).T  # (B, K)
    weight = (data.weight.T @ counts.T).T  # (B, R)
    a, aa = data.risk, _outer_rows(data.risk)

    def log_denominators(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        top = theta.max(1, keepdims=True)
        e = np.exp(theta - top)
        denom = (a @ e.T).T  # (B, R)
        return e, denom, np.log(denom) + top

    def value(theta: np.ndarray) -> np.ndarray:
        return -(chosen * theta).sum(1) + (weight * log_denominators(theta)[2]).sum(1)

    def derivatives(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e, denom, _ = log_denominators(theta)
        expected = e * (a.T @ (weight / denom).T).T  # Σ_r w_r π_r
        grad = expected - chosen
        second = (aa.T @ (weight / denom**2).T).T.reshape(-1, k, k) * e[:, :, None] * e[:, None, :]
        hess = -second
        hess[:, np.arange(k), np.arange(k)] += expected
        return grad, hess

    return with_prior(value, derivatives, np.zeros((len(counts), k)), prior, np.ones(k))


def fit_pl(results: Iterable[Result], *, anchor: str | None = None, anchor_rating: float = 1500.0,
           prior: float = DEFAULT_PRIOR) -> dict[str, float]:
    """Plackett–Luce ratings in Elo, anchored."""
    data = ranking_data(results)
    if not data.agents:
        return {}
    theta = fit_pl_logits(data, data.counts[None, :].astype(float), prior)[0]
    return dict(zip(data.agents, to_elo(theta, anchor_index(data.agents, anchor), anchor_rating).tolist()))


def bootstrap_pl(results: Iterable[Result], *, n_boot: int = 1000, seed: int = 0, anchor: str | None = None,
                 anchor_rating: float = 1500.0, prior: float = DEFAULT_PRIOR) -> tuple[list[str], np.ndarray]:
    """Agents and (n_boot, K) bootstrap Plackett–Luce ratings in Elo (whole matches resampled)."""
    data = ranking_data(results)
    k = len(data.agents)
    if not k:
        return [], np.zeros((n_boot, 0))
    rng = np.random.default_rng(seed)
    anchor_at = anchor_index(data.agents, anchor)
    width = max(len(data.counts), data.risk.shape[0], k * k)
    out = [to_elo(fit_pl_logits(data, counts.astype(float), prior), anchor_at, anchor_rating)
           for counts in bootstrap_counts(data.counts, n_boot, rng, width)]
    return data.agents, np.concatenate(out)


def pl_leaderboard(results: Sequence[Result], *, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
                   anchor: str | None = None, anchor_rating: float = 1500.0,
                   prior: float = DEFAULT_PRIOR) -> list[dict[str, Any]]:
    """Rows (best first): agent, rating, ci_low, ci_high, rank, rank_low, rank_high, games."""
    data = ranking_data(results)
    if not data.agents:
        return []
    anchor_at = anchor_index(data.agents, anchor)
    point = to_elo(fit_pl_logits(data, data.counts[None, :].astype(float), prior)[0], anchor_at, anchor_rating)
    _, boots = bootstrap_pl(results, n_boot=n_boot, seed=seed, anchor=anchor, anchor_rating=anchor_rating,
                            prior=prior)
    return interval_rows(data.agents, point, boots, data.played, level)


def openskill_ratings(results: Iterable[Result], **model_options: Any) -> list[dict[str, Any]]:
    """OpenSkill (PlackettLuce model) in schedule order. Rows (best ordinal first): agent, mu, sigma,
    ordinal (mu − 3σ), games. Matches with fewer than two players, or one agent in several seats
    (self-play says nothing about relative skill), are skipped."""
    from openskill.models import PlackettLuce

    model = PlackettLuce(**model_options)
    ratings: dict[str, Any] = {}
    games: dict[str, int] = {}
    for _, _, players, outcome in sorted(results, key=lambda r: r[0]):
        seated = sorted(players, key=lambda p: p.seat)
        names = [p.name for p in seated]
        if len(names) < 2 or len(set(names)) < len(names):
            continue
        teams = [[ratings.setdefault(n, model.rating(name=n))] for n in names]
        new = model.rate(teams, ranks=[float(outcome.ranks[p.seat]) for p in seated])
        for n, (rating,) in zip(names, new):
            ratings[n] = rating
            games[n] = games.get(n, 0) + 1
    rows = [{"agent": n, "mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal(), "games": games[n]}
            for n, r in ratings.items()]
    return sorted(rows, key=lambda r: (-r["ordinal"], r["agent"]))


def rate_jsonl(path: str | Path) -> list[Result]:
    """Results from a JSONL file, one match a line: {"players": [...], "ranks": [...]} (1 = best,
    equal = tie) or {"players": [...], "scores": [...]} (higher = better); optional "game".
    Blank lines are skipped; a bad row raises ValueError("<path>:<line>: <why>")."""
    results: list[Result] = []
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if line.strip():
                try:
                    results.append(_row(json.loads(line), len(results)))
                except (ValueError, TypeError) as err:  # json.JSONDecodeError is a ValueError
                    reason = " ".join(str(err).split())
                    raise ValueError(f"{path}:{lineno}: {reason}") from None
    return results


def _row(obj: Any, index: int) -> Result:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    players = obj.get("players")
    if not isinstance(players, list) or len(players) < 2 or not all(isinstance(p, str) and p for p in players):
        raise ValueError('"players" must be a list of at least two non-empty strings')
    if "ranks" in obj:
        ranks = _numbers(obj["ranks"], "ranks", len(players))
        if not all(float(r).is_integer() and r >= 1 for r in ranks):
            raise ValueError('"ranks" must be integers >= 1 (1 = best)')
        ranks = [int(r) for r in ranks]
        scores = [float(s) for s in _numbers(obj["scores"], "scores", len(players))] if "scores" in obj \
            else [float(len(players) - r) for r in ranks]
    elif "scores" in obj:
        scores = [float(s) for s in _numbers(obj["scores"], "scores", len(players))]
        ranks = [1 + sum(other > s for other in scores) for s in scores]
    else:
        raise ValueError('needs "ranks" or "scores"')
    seated = [Player(seat, name, name) for seat, name in enumerate(players)]
    return (index, str(obj.get("game", "")), seated, Outcome(scores=scores, ranks=ranks))


def _numbers(value: Any, key: str, n: int) -> list[float]:
    if not isinstance(value, list) or len(value) != n:
        raise ValueError(f'"{key}" must be a list with one entry per player ({n})')
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise ValueError(f'"{key}" must hold finite numbers')
    return value
