"""Team games (werewolf): per-role tables and ratings from team outcomes.

- Role table: for each agent and role, games, wins, win rate, the role's base rate
  (how often that role's team won across all matches), survival and vote accuracy.
- Team Bradley–Terry: P(team A beats team B) = σ(Σθ_A − Σθ_B + β_config·[A is the
  village]), fitted by penalised maximum likelihood with one covariate per role
  configuration ("7p-2w-1s-1d") absorbing how hard the setup is for the village;
  fitted with the shared rating core (:mod:`arena.tournaments.core`: the same
  virtual-draw prior and Newton method as Bradley–Terry); Elo scale, mean at 1500;
  95% intervals by a bootstrap over whole matches.  Draws count half.
- OpenSkill team ratings (Plackett–Luce model) in schedule order.

:func:`team_tables` is what the werewolf game's analysis hook returns: the role table
(document key ``roles``) and the team ratings (``team_ratings``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from arena.games.analysis import AnalysisOptions, AnalysisTable, from_records, interval
from arena.tournaments.core import DEFAULT_PRIOR, ELO_PER_LOGIT, expit, log_expit, to_elo, with_prior
from arena.tournaments.ratings import Result


def team_results(results: list[Result]) -> list[tuple[list[str], list[str], str, float]]:
    """(village agents, wolf agents, config, village score 1/0.5/0) of each team match."""
    out = []
    for _, _, players, o in results:
        teams = o.metrics.get("team")
        if not isinstance(teams, list) or set(teams) != {"village", "wolves"}:
            continue
        village = [p.name for p in players if teams[p.seat] == "village"]
        wolves = [p.name for p in players if teams[p.seat] == "wolves"]
        v_seat = next(p.seat for p in players if teams[p.seat] == "village")
        w_seat = next(p.seat for p in players if teams[p.seat] == "wolves")
        score = 0.5 if o.ranks[v_seat] == o.ranks[w_seat] else float(o.ranks[v_seat] < o.ranks[w_seat])
        out.append((village, wolves, str(o.metrics.get("config", "")), score))
    return out


def role_table(results: list[Result]) -> list[dict[str, Any]]:
    base: dict[str, list[float]] = defaultdict(list)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _, _, players, o in results:
        roles, teams = o.metrics.get("role"), o.metrics.get("team")
        if not isinstance(roles, list) or not isinstance(teams, list):
            continue
        best = min(o.ranks)
        for p in players:
            won = float(o.ranks[p.seat] == best and not all(r == best for r in o.ranks))
            base[roles[p.seat]].append(won)
            row = rows.setdefault((p.name, roles[p.seat]), {"agent": p.name, "role": roles[p.seat], "games": 0,
                                                          "wins": 0.0, "survived": 0, "votes": []})
            row["games"] += 1
            row["wins"] += won
            row["survived"] += int(o.metrics.get("survived", [0] * len(players))[p.seat])
            acc = o.metrics.get("vote_accuracy", [None] * len(players))[p.seat]
            if acc is not None:
                row["votes"].append(acc)
    out = []
    for (_, role), row in sorted(rows.items()):
        votes = row.pop("votes")
        out.append({**row, "win_rate": row["wins"] / row["games"],
                    "base_rate": sum(base[role]) / len(base[role]),
                    "survival": row["survived"] / row["games"],
                    "vote_accuracy": sum(votes) / len(votes) if votes else None})
    return out


def _fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, prior: float, k: int) -> np.ndarray:
    """Team BT for each row of match weights (B, M): the shared core (virtual-draw prior, Newton)."""
    p = x.shape[1]
    xx = (x[:, :, None] * x[:, None, :]).reshape(len(x), p * p)

    def value(theta: np.ndarray) -> np.ndarray:
        z = theta @ x.T
        return -(weights * (y * log_expit(z) + (1 - y) * log_expit(-z))).sum(1)

    def derivatives(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = expit(theta @ x.T)
        grad = -(weights * (y - q)) @ x
        hess = ((weights * q * (1 - q)) @ xx).reshape(-1, p, p)
        return grad, hess

    gauge = np.r_[np.ones(k), np.zeros(p - k)]
    return with_prior(value, derivatives, np.zeros((len(weights), p)), prior, gauge)


def _design(matches: list[tuple[list[int], list[int], int, float]], k: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.zeros((len(matches), k + c))
    for row, (village, wolves, config, _) in enumerate(matches):
        np.add.at(x[row], village, 1.0)
        np.add.at(x[row], wolves, -1.0)
        x[row, k + config] = 1.0
    return x, np.array([m[3] for m in matches])


def team_ratings(results: list[Result], n_boot: int = 200, seed: int = 0,
                 prior: float = DEFAULT_PRIOR) -> dict[str, Any]:
    matches = team_results(results)
    if not matches:
        return {}
    agents = sorted({a for v, w, _, _ in matches for a in v + w})
    configs = sorted({c for _, _, c, _ in matches})
    index, cindex = {a: i for i, a in enumerate(agents)}, {c: i for i, c in enumerate(configs)}
    coded = [([index[a] for a in v], [index[a] for a in w], cindex[c], s) for v, w, c, s in matches]
    k, c = len(agents), len(configs)
    x, y = _design(coded, k, c)
    point = _fit(x, y, np.ones((1, len(coded))), prior, k)[0]
    rng = np.random.default_rng(seed)
    boots = _fit(x, y, rng.multinomial(len(coded), np.full(len(coded), 1 / len(coded)), size=n_boot).astype(float),
                 prior, k)
    elo, boot_elo = to_elo(point[:k], -1, 1500.0), to_elo(boots[:, :k], -1, 1500.0)
    low, high = np.quantile(boot_elo, [0.025, 0.975], axis=0)
    rows = [{"agent": a, "rating": round(float(elo[i]), 1), "ci_low": round(float(low[i]), 1),
             "ci_high": round(float(high[i]), 1)} for i, a in enumerate(agents)]
    return {"ratings": sorted(rows, key=lambda r: -r["rating"]),
            "config_effect_elo": {cfg: round(float(point[k + j] * ELO_PER_LOGIT), 1) for j, cfg in enumerate(configs)},
            "openskill": openskill_teams(matches)}


def openskill_teams(matches: list[tuple[list[str], list[str], str, float]]) -> list[dict[str, Any]]:
    from openskill.models import PlackettLuce
    model = PlackettLuce()
    ratings: dict[str, Any] = {}
    for village, wolves, _, score in matches:
        teams = [[ratings.setdefault(a, model.rating(name=a)) for a in village],
                 [ratings.setdefault(a, model.rating(name=a)) for a in wolves]]
        ranks = [1, 1] if score == 0.5 else ([1, 2] if score == 1.0 else [2, 1])
        new = model.rate(teams, ranks=ranks)
        for team in new:
            for r in team:
                ratings[r.name] = r
    return sorted(({"agent": a, "mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal()} for a, r in ratings.items()),
                  key=lambda r: -r["ordinal"])


def team_tables(results: Sequence[Result], options: AnalysisOptions) -> list[AnalysisTable]:
    """The role table and the team ratings (at most 200 bootstrap replicates) of the team matches."""
    results = [r for r in results if "team" in r[3].metrics]
    if not results:
        return []
    roles = from_records("roles", "by role (win rate against the role's base rate)", role_table(results),
                         [("agent", "agent", ""), ("role", "role", ""), ("games", "games", ""),
                          ("win rate", "win_rate", ".0%"), ("base rate", "base_rate", ".0%"),
                          ("survival", "survival", ".0%"), ("vote accuracy", "vote_accuracy", ".0%")], labels=2,
                         note="base rate: how often that role's team won over all these matches")
    teams = team_ratings(results, n_boot=min(options.n_boot, 200), seed=options.seed, prior=options.prior)
    rated = from_records("team_ratings", "team ratings (role configuration as covariate; 95% CI)",
                         teams.get("ratings", []), [("agent", "agent", ""), ("rating", "rating", ".0f"),
                                                    ("95% CI", interval("ci_low", "ci_high", ".0f"), "")],
                         data=teams, note="team Bradley–Terry on the Elo scale, mean 1500; one covariate "
                                          "per role configuration absorbs how hard the setup is for the village")
    return [roles, rated]
