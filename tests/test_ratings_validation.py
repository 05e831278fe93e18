"""Validation of the Bradley–Terry and Plackett–Luce ratings on synthetic agents with known strengths.

Simulated tournaments draw outcomes from the models themselves (BT for two-player
matches, PL via Gumbel noise for four-player ones), so the fits must recover the true
Elo differences, their bootstrap intervals must cover the truth about 95% of the time,
and they must agree with the `choix` reference implementation.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import choix
import numpy as np
import pytest
from scipy.stats import spearmanr

from arena.tournaments.bt import (ELO_PER_LOGIT, bootstrap_bt, bt_leaderboard, fit_bt, to_elo, wilson,
                                  win_matrix)
from arena.tournaments.plackett import fit_pl, openskill_ratings, pl_leaderboard, rate_jsonl
from arena.tournaments.ratings import Result
from arena.trajectory import Outcome, Player

NAMES = [f"agent{k}" for k in range(8)]
TRUTH = np.array([1000.0, 1150.0, 1250.0, 1400.0, 1500.0, 1600.0, 1750.0, 1900.0])
ANCHORED = TRUTH - TRUTH.mean() + 1500.0  # default anchor: the mean rating at 1500


def result(index: int, names: list[str], ranks: list[int]) -> Result:
    players = [Player(seat, name, name) for seat, name in enumerate(names)]
    return (index, "synthetic", players, Outcome(scores=[-float(r) for r in ranks], ranks=list(ranks)))


def simulate_bt(rng: np.random.Generator, n: int, home: float = 0.0) -> list[Result]:
    """Two-player matches between random distinct agents; seat 0 has `home` Elo extra."""
    a = rng.integers(len(NAMES), size=n)
    b = (a + rng.integers(1, len(NAMES), size=n)) % len(NAMES)
    first_wins = rng.random(n) < 1 / (1 + np.exp(-(TRUTH[a] - TRUTH[b] + home) / ELO_PER_LOGIT))
    return [result(m, [NAMES[a[m]], NAMES[b[m]]], [1, 2] if first_wins[m] else [2, 1]) for m in range(n)]


def simulate_pl(rng: np.random.Generator, n: int, size: int = 4) -> list[Result]:
    """`size`-player matches; the order is Plackett–Luce (strength + Gumbel noise, best first)."""
    out = []
    for m in range(n):
        seats = rng.choice(len(NAMES), size, replace=False)
        order = np.argsort(-(TRUTH[seats] / ELO_PER_LOGIT + rng.gumbel(size=size)))
        ranks = np.empty(size, dtype=int)
        ranks[order] = np.arange(1, size + 1)
        out.append(result(m, [NAMES[s] for s in seats], ranks.tolist()))
    return out


def coverage(leaderboard, simulate, n_sims: int, n_matches: int) -> float:
    hits = total = 0
    for sim in range(n_sims):
        rows = leaderboard(simulate(np.random.default_rng(10_000 + sim), n_matches), n_boot=200, seed=sim)
        for row in rows:
            total += 1
            hits += row["ci_low"] <= ANCHORED[NAMES.index(row["agent"])] <= row["ci_high"]
    return hits / total


def test_bt_recovers_true_strengths():
    fit = fit_bt(simulate_bt(np.random.default_rng(1), 4000))
    estimate = np.array([fit.ratings[a] for a in NAMES])
    assert spearmanr(estimate, TRUTH).statistic >= 0.95
    assert np.abs(estimate - ANCHORED).max() < 60
    assert np.mean(estimate) == pytest.approx(1500.0)


def test_bt_interval_coverage():
    assert 0.90 <= coverage(bt_leaderboard, simulate_bt, n_sims=150, n_matches=1500) <= 0.98


def test_pl_recovers_true_strengths():
    fit = fit_pl(simulate_pl(np.random.default_rng(2), 1500))
    estimate = np.array([fit[a] for a in NAMES])
    assert spearmanr(estimate, TRUTH).statistic >= 0.95
    assert np.abs(estimate - ANCHORED).max() < 60


def test_pl_interval_coverage():
    assert 0.90 <= coverage(pl_leaderboard, simulate_pl, n_sims=100, n_matches=600) <= 0.98


def test_shuffled_results_give_identical_ratings():
    results = simulate_bt(np.random.default_rng(3), 1000) + simulate_pl(np.random.default_rng(4), 200)
    shuffled = results[:]
    random.Random(0).shuffle(shuffled)
    shuffled = [(i, game, players, outcome) for i, (_, game, players, outcome) in enumerate(shuffled)]
    assert fit_bt(shuffled).ratings == fit_bt(results).ratings
    assert fit_bt(shuffled, seat_advantage=True) == fit_bt(results, seat_advantage=True)
    assert fit_pl(shuffled) == fit_pl(results)
    assert bt_leaderboard(shuffled, n_boot=100, seed=5) == bt_leaderboard(results, n_boot=100, seed=5)


def test_bootstrap_is_deterministic_given_seed():
    results = simulate_bt(np.random.default_rng(6), 500)
    same = bootstrap_bt(results, n_boot=50, seed=1)[1], bootstrap_bt(results, n_boot=50, seed=1)[1]
    assert np.array_equal(*same)
    assert not np.array_equal(same[0], bootstrap_bt(results, n_boot=50, seed=2)[1])


def _choix_elo(params: np.ndarray) -> np.ndarray:
    return to_elo(params, -1, 1500.0)


def test_bt_agrees_with_choix():
    results = simulate_bt(np.random.default_rng(7), 2000)
    pairs = [[NAMES.index(p.name) for p in sorted(players, key=lambda p: outcome.ranks[p.seat])]
             for _, _, players, outcome in results]
    # choix's penalty is alpha·Σθ², ours prior/2·Σθ²: the same MAP when alpha = prior / 2.
    theirs = _choix_elo(choix.opt_pairwise(len(NAMES), pairs, alpha=0.5e-6, tol=1e-10))
    ours = fit_bt(results, prior=1e-6)
    assert np.abs(np.array([ours.ratings[a] for a in NAMES]) - theirs).max() < 1.0


def test_bt_with_ties_agrees_with_choix_on_doubled_data():
    rng = np.random.default_rng(8)
    results = [(i, g, players, Outcome([0.0, 0.0], [1, 1]) if rng.random() < 0.2 else outcome)
               for i, g, players, outcome in simulate_bt(rng, 2000)]
    pairs = []  # a tie is half a win each: double every game, a tie becomes one win each way
    for _, _, players, outcome in results:
        a, b = (NAMES.index(p.name) for p in players)
        ranks = outcome.ranks
        pairs += [[a, b], [b, a]] if ranks[0] == ranks[1] else [[a, b]] * 2 if ranks[0] < ranks[1] else [[b, a]] * 2
    theirs = _choix_elo(choix.opt_pairwise(len(NAMES), pairs, alpha=1e-6, tol=1e-10))  # doubled data: 2·(prior/2)
    ours = fit_bt(results, prior=1e-6)
    assert np.abs(np.array([ours.ratings[a] for a in NAMES]) - theirs).max() < 1.0


def test_pl_agrees_with_choix():
    results = simulate_pl(np.random.default_rng(9), 400)
    rankings = [[NAMES.index(p.name) for p in sorted(players, key=lambda p: outcome.ranks[p.seat])]
                for _, _, players, outcome in results]
    theirs = _choix_elo(choix.opt_rankings(len(NAMES), rankings, alpha=0.5e-6, tol=1e-10))
    ours = fit_pl(results, prior=1e-6)
    assert np.abs(np.array([ours[a] for a in NAMES]) - theirs).max() < 1.0


def test_pl_equals_bt_on_two_player_matches_with_ties():
    rng = np.random.default_rng(10)
    results = [(i, g, players, Outcome([0.0, 0.0], [1, 1]) if rng.random() < 0.3 else outcome)
               for i, g, players, outcome in simulate_bt(rng, 1000)]
    bt, pl = fit_bt(results).ratings, fit_pl(results)
    assert max(abs(bt[a] - pl[a]) for a in NAMES) < 1e-6


def test_pl_tie_averaging_three_players():
    # [a, b tied first, c last]: averaging the two orders of {a, b} gives the likelihood
    # ½·[p(a,b,c) + ...] in log space, which is symmetric in a and b, so a and b rate equally.
    results = [result(i, ["a", "b", "c"], [1, 1, 2]) for i in range(5)] + [result(5, ["c", "a", "b"], [1, 2, 3]),
                                                                           result(6, ["c", "b", "a"], [1, 2, 3])]
    fit = fit_pl(results)
    assert abs(fit["a"] - fit["b"]) < 1e-6 and fit["c"] < fit["a"]


def test_seat_advantage_recovered():
    results = simulate_bt(np.random.default_rng(11), 8000, home=80.0)
    fit = fit_bt(results, seat_advantage=True)
    assert abs(fit.seat_advantage - 80.0) < 20.0
    estimate = np.array([fit.ratings[a] for a in NAMES])
    assert np.abs(estimate - ANCHORED).max() < 60
    _, boots = bootstrap_bt(results, n_boot=200, seed=0, seat_advantage=True)
    low, high = np.quantile(boots[:, -1], [0.025, 0.975])
    assert low <= 80.0 <= high and low > 0
    assert abs(fit_bt(simulate_bt(np.random.default_rng(12), 8000), seat_advantage=True).seat_advantage) < 20.0


def test_ties_count_as_half_a_win():
    wins = [result(0, ["a", "b"], [1, 2]), result(1, ["b", "a"], [2, 1]), result(2, ["a", "b"], [1, 2]),
            result(3, ["b", "a"], [1, 2])]  # a: 3 wins, 1 loss
    ties = [result(0, ["a", "b"], [1, 2]), result(1, ["b", "a"], [2, 1]), result(2, ["a", "b"], [1, 1]),
            result(3, ["b", "a"], [1, 1])]  # a: 2 wins, 2 draws
    for results in (wins, ties):
        fit = fit_bt(results, prior=0.0)
        assert fit.ratings["a"] - fit.ratings["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)
        shrunk = fit_bt(results).ratings  # the default prior (2 virtual draws each) pulls the gap in
        assert 0 < shrunk["a"] - shrunk["b"] < 400 * math.log10(3)


def test_anchor_and_unbeaten_agent_stay_finite():
    results = [result(i, ["champ", "b"], [1, 2]) for i in range(10)] + simulate_bt(np.random.default_rng(13), 300)
    fit = fit_bt(results, anchor="agent4", anchor_rating=1000.0)
    assert fit.ratings["agent4"] == 1000.0
    assert math.isfinite(fit.ratings["champ"]) and fit.ratings["champ"] > fit.ratings["b"]
    with pytest.raises(ValueError, match="anchor 'nobody'"):
        fit_bt(results, anchor="nobody")


def test_perfect_separation_finite_with_prior_divergent_without():
    # a beats b beats c, every game: the MLE does not exist (the likelihood grows without bound)
    results = [result(i, ["a", "b"] if i % 2 else ["b", "a"], [1, 2] if i % 2 else [2, 1]) for i in range(8)]
    results += [result(8 + i, ["b", "c"], [1, 2]) for i in range(8)]
    prior = fit_bt(results).ratings
    assert prior["a"] > prior["b"] > prior["c"] and prior["a"] - prior["c"] < 1500
    assert np.mean(list(prior.values())) == pytest.approx(1500.0)  # the mean anchor by default
    rows = {r["agent"]: r for r in bt_leaderboard(results, n_boot=200)}
    for row in rows.values():
        assert math.isfinite(row["ci_low"]) and row["ci_low"] < row["rating"] < row["ci_high"]
        assert row["ci_high"] - row["ci_low"] < 2000
    mle = fit_bt(results, prior=0.0).ratings  # Newton walks off until the curvature underflows
    assert mle["a"] - mle["c"] > 10_000
    gaps = [fit_bt(results, prior=p).ratings["a"] - 1500 for p in (1e-6, 1e-3, 0.5)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[0] > 2500  # no limit as the prior vanishes
    pl = fit_pl(results)  # the same core: same prior, finite
    assert max(abs(pl[k] - prior[k]) for k in prior) < 1e-6


def test_leaderboard_rows_and_rank_intervals():
    rows = bt_leaderboard(simulate_bt(np.random.default_rng(14), 1500), n_boot=300, seed=0)
    assert [r["agent"] for r in rows] == NAMES[::-1]
    assert set(rows[0]) == {"agent", "rating", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "games"}
    for row in rows:
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
        assert row["rank_low"] <= row["rank"] <= row["rank_high"]
    assert rows[0]["rank"] == 1 and sum(r["games"] for r in rows) == 2 * 1500


def test_wilson_known_values():
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=5e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=5e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(np.array([8.0, 4.5]), np.array([10.0, 9.0]))
    assert low[0] == pytest.approx(0.4902, abs=5e-4) and high[1] > 0.5 > low[1]


def test_win_matrix_observed_beside_predicted():
    results = simulate_bt(np.random.default_rng(15), 3000) + [result(3000, ["agent0", "agent1"], [1, 1])]
    matrix = win_matrix(results)
    assert np.allclose(matrix.wins + matrix.wins.T, matrix.games)
    i, j = 0, 1
    assert matrix.rate[i, j] == pytest.approx(matrix.wins[i, j] / matrix.games[i, j])
    assert matrix.low[i, j] <= matrix.rate[i, j] <= matrix.high[i, j]
    off = ~np.eye(len(NAMES), dtype=bool)
    assert np.allclose(matrix.predicted[off] + matrix.predicted.T[off], 1.0)
    assert np.abs(matrix.rate[off] - matrix.predicted[off]).max() < 0.15
    assert len(matrix.rows()) == len(NAMES) * (len(NAMES) - 1)


def test_openskill_ranks_pl_tournament_in_schedule_order():
    results = simulate_pl(np.random.default_rng(16), 800)
    rows = openskill_ratings(results)
    assert set(rows[0]) == {"agent", "mu", "sigma", "ordinal", "games"}
    by_agent = {r["agent"]: r["mu"] for r in rows}
    assert spearmanr([by_agent[a] for a in NAMES], TRUTH).statistic >= 0.95
    assert openskill_ratings(list(reversed(results))) == rows  # sorted by schedule index, not list order


def test_rate_jsonl_reads_ranks_and_scores(tmp_path: Path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"players": ["a", "b", "c"], "ranks": [1, 2, 3]}\n\n'
                    '{"players": ["b", "a"], "scores": [0.5, 0.5], "game": "chess"}\n'
                    '{"players": ["c", "a"], "scores": [3, 10]}\n')
    results = rate_jsonl(path)
    assert [r[0] for r in results] == [0, 1, 2]
    assert results[1][1] == "chess" and results[1][3].ranks == [1, 1] and results[2][3].ranks == [2, 1]
    assert [p.name for p in results[0][2]] == ["a", "b", "c"] and results[0][3].ranks == [1, 2, 3]
    assert fit_pl(results)["a"] > fit_pl(results)["c"] and bt_leaderboard(results, n_boot=20)


@pytest.mark.parametrize("line, message", [
    ('{"players": ["a", "b"], "ranks": [1, 2]', "Expecting"),
    ('["a", "b"]', "expected a JSON object"),
    ('{"players": ["a"], "ranks": [1]}', "at least two"),
    ('{"players": ["a", 3], "ranks": [1, 2]}', "non-empty strings"),
    ('{"players": ["a", "b"]}', 'needs "ranks" or "scores"'),
    ('{"players": ["a", "b"], "ranks": [1]}', "one entry per player"),
    ('{"players": ["a", "b"], "ranks": [0, 1]}', "integers >= 1"),
    ('{"players": ["a", "b"], "scores": [1, "x"]}', "finite numbers"),
])
def test_rate_jsonl_errors_name_the_line(tmp_path: Path, line: str, message: str):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"players": ["a", "b"], "ranks": [1, 2]}) + "\n" + line + "\n")
    with pytest.raises(ValueError) as err:
        rate_jsonl(path)
    assert str(err.value).startswith(f"{path}:2: ") and message in str(err.value) and "\n" not in str(err.value)
