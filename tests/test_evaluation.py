"""Evaluation a researcher can trust: replicates, headlines, held-out fit, meta-game views, SPRT."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from arena.store import Store
from arena.tournaments.bt import fit_bt, win_matrix
from arena.tournaments.compare import pair_scores
from arena.tournaments.config import RunConfig
from arena.tournaments.crossval import cross_validate
from arena.tournaments.headline import game_utility, payoff_rows
from arena.tournaments.metagame import alpha_rank, contradictions, meta_game, nash_averaging
from arena.tournaments.replicates import collapse, stored_results
from arena.tournaments.runner import execute, new_run
from arena.tournaments.sprt import pentanomial, simulate, sprt
from arena.tournaments.summary import document, store_document
from arena.trajectory import Outcome, Player
from tests.conftest import run_cli


def result(index: int, names: list[str], ranks: list[int], scores: list[float] | None = None,
           game: str = "synthetic") -> tuple:
    players = [Player(seat, name, name) for seat, name in enumerate(names)]
    return (index, game, players, Outcome(scores=scores or [-float(r) for r in ranks], ranks=list(ranks)))


def rps_results(games_per_pair: int = 10) -> list[tuple]:
    """Constant rock, paper, scissors: each beats one and loses to the other, every game."""
    beats = {("paper", "rock"), ("scissors", "paper"), ("rock", "scissors")}
    out = []
    for a, b in (("rock", "paper"), ("paper", "scissors"), ("scissors", "rock")):
        for k in range(games_per_pair):
            seats = [a, b] if k % 2 else [b, a]
            ranks = [1, 2] if (seats[0], seats[1]) in beats else [2, 1]
            out.append(result(len(out), seats, ranks))
    return out


# --- replicates -------------------------------------------------------------------
def test_ten_identical_matches_collapse_to_one_with_multiplicity_ten(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    run_id = new_run(store, RunConfig(games=["prisoners-dilemma:rounds=3"], agents=["tit-for-tat", "always-defect"],
                                      games_per_pair=10, swap_seats=False, seed=1))
    execute(store, run_id)
    results, keys, seeds = stored_results(store, run_id)
    assert len(results) == 10 and len(set(seeds)) == 10  # ten seeds, one match played ten times
    distinct, counts = collapse(results, keys)
    assert len(distinct) == 1 and counts == [10]
    doc = store_document(store, run_id, n_boot=50)
    assert doc["replicates"] == {"matches": 10, "distinct": 1,
                                 "groups": [{"game": "prisoners-dilemma:rounds=3",
                                             "agents": ["tit-for-tat", "always-defect"], "multiplicity": 10}]}
    rows = {r["agent"]: r for r in doc["leaderboard"]}
    assert rows["always-defect"]["games"] == 10 and rows["always-defect"]["distinct"] == 1
    once = document(results[:1], n_boot=50)  # the copies add no evidence: the same ratings and intervals
    assert {r["agent"]: r["bt_ci"] for r in doc["leaderboard"]} == {r["agent"]: r["bt_ci"] for r in once["leaderboard"]}
    section = doc["games"][0]
    assert section["distinct"] == 1 and section["replicates"][0]["multiplicity"] == 10


def test_chance_games_are_not_collapsed_by_moves_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "k.db")
    run_id = new_run(store, RunConfig(games=["kuhn-poker"], agents=["a=calling-station", "b=calling-station"],
                                      games_per_pair=6, swap_seats=False))
    execute(store, run_id)
    results, keys, _ = stored_results(store, run_id)
    moves = {tuple(t.action for t in store.trajectory(m).steps) for m in store.match_players(run_id)}
    assert len(moves) == 1  # the same calls every time, over different deals
    assert len(collapse(results, keys)[0]) == 6


# --- non-transitivity ---------------------------------------------------------------
def test_nash_averaging_on_rock_paper_scissors_is_uniform() -> None:
    payoff = meta_game(win_matrix(rps_results()))
    assert payoff[0, 1] in (0.0, 1.0)  # constant agents: every game the same way
    mass, ratings = nash_averaging(payoff)
    assert mass == pytest.approx([1 / 3] * 3, abs=1e-6) and ratings == pytest.approx([0, 0, 0], abs=1e-6)
    # a clone of rock: max entropy splits rock's third between the copies, the others keep theirs
    clone = np.array([[.5, 0, 1, .5], [1, .5, 0, 1], [0, 1, .5, 0], [.5, 0, 1, .5]])
    mass, _ = nash_averaging(clone)
    assert mass == pytest.approx([1 / 6, 1 / 3, 1 / 3, 1 / 6], abs=1e-5)
    # a dominant agent takes all the mass; the others' Nash ratings are their losses to it
    dominant = np.array([[.5, .8, .9], [.2, .5, .6], [.1, .4, .5]])
    mass, ratings = nash_averaging(dominant)
    assert mass == pytest.approx([1, 0, 0], abs=1e-6) and ratings == pytest.approx([0, -0.3, -0.4], abs=1e-6)


HAN = np.asarray([[1 - 0.125, 1 - 0.25, 0, -1 + 4 - 0.25, 1 - 0.25], [1, 1, -1, -1, -1], [0, 2, 0, 0, 0],
                  [2 - 4, 2, 0, 0, 0], [1, 2, 0, 0, 0]])  # OpenSpiel's alpharank_test: Han et al. 2013


def test_alpha_rank_reproduces_openspiels_published_example() -> None:
    pi = alpha_rank(HAN, alpha=0.1, m=20, local=False)
    assert pi == pytest.approx([0.40966787, 0.07959841, 0.20506998, 0.08505983, 0.2206039], abs=1e-6)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_alpha_rank_agrees_with_open_spiel() -> None:
    alpharank = pytest.importorskip("open_spiel.python.egt.alpharank")
    rng = np.random.default_rng(0)
    for k in (3, 5, 7):
        upper = np.triu(rng.random((k, k)), 1)
        rates = upper + np.tril(1 - upper.T, -1) + np.eye(k) / 2
        for alpha, local in ((100.0, True), (2.0, False), (0.5, True)):
            theirs = alpharank.compute([rates], m=50, alpha=alpha, use_local_selection_model=local)[2]
            assert alpha_rank(rates, alpha=alpha, m=50, local=local) == pytest.approx(theirs, abs=1e-6)
    theirs = alpharank.compute([HAN], m=20, alpha=0.1, use_local_selection_model=False)[2]
    assert alpha_rank(HAN, alpha=0.1, m=20, local=False) == pytest.approx(theirs, abs=1e-8)


def test_rock_paper_scissors_fit_is_flagged_and_contradictions_named() -> None:
    results = rps_results(10) + [result(100 + i, ["rock", "paper"], [2, 1]) for i in range(3)]
    fit = cross_validate(results, k=5, seed=0)
    assert fit["coin_log_loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert fit["pair_log_loss"] < 0.2 and fit["ratings_log_loss"] > 0.6 and fit["poor_fit"]
    assert "not transitive" in fit["message"]
    ratings = fit_bt(results).ratings  # the extra paper wins put paper on top ...
    assert max(ratings, key=ratings.get) == "paper"
    found = contradictions(win_matrix(results), ratings)  # ... yet scissors beats paper every game
    assert any(line.startswith("paper is rated above scissors but wins only 0%") for line in found)
    transitive = [result(i, ["a", "b"] if i % 2 else ["b", "a"], [1, 2] if i % 2 else [2, 1]) for i in range(30)]
    transitive += [result(30 + i, ["b", "c"], [1, 2] if i % 4 else [2, 1]) for i in range(30)]
    assert not cross_validate(transitive)["poor_fit"] and cross_validate(rps_results(1)) is None


# --- headline ---------------------------------------------------------------------
def test_headline_follows_the_games_utility() -> None:
    assert game_utility("prisoners-dilemma:rounds=3") == "general-sum"
    assert game_utility("chess") == "zero-sum" and game_utility("werewolf") == "team"
    assert game_utility("no-such-game") == "zero-sum"


def test_payoff_interval_pairs_matches_that_share_a_seed() -> None:
    # two deals, each played from both seats: a and b split every deal, so a's mean is exactly 1
    # whatever is resampled when the two seat orders of a deal are drawn together
    results = [result(0, ["a", "b"], [1, 2], [2.0, 0.0]), result(1, ["b", "a"], [1, 2], [2.0, 0.0]),
               result(2, ["a", "b"], [2, 1], [0.0, 2.0]), result(3, ["b", "a"], [2, 1], [0.0, 2.0])]
    paired = payoff_rows(results, seeds=[7, 7, 8, 8], n_boot=200)
    assert paired["a"]["mean_payoff"] == 1.0 and paired["a"]["payoff_ci"] == [1.0, 1.0]
    unpaired = payoff_rows(results, n_boot=200)
    assert unpaired["a"]["payoff_ci"][0] < 1.0 < unpaired["a"]["payoff_ci"][1]


@pytest.mark.slow
def test_quick_prisoners_dilemma_ranks_by_mean_payoff(tmp_path: Path) -> None:
    db = str(tmp_path / "q.db")
    args = ["run", "examples/quick.toml", "-g", "prisoners-dilemma", "-a", "tit-for-tat", "-a", "grim-trigger",
            "-a", "win-stay-lose-shift", "-a", "always-defect", "--db", db]
    doc = json.loads(run_cli(*args, "--json").stdout)
    (section,) = doc["games"]
    assert section["headline"] == "mean payoff" and "higher total payoff" in section["win"]
    order = [r["agent"] for r in section["rows"]]
    assert order.index("tit-for-tat") < order.index("always-defect")  # as in Axelrod's tournaments
    pooled = {r["agent"]: r for r in doc["leaderboard"]}
    assert pooled["always-defect"]["losses"] == 0 and pooled["always-defect"]["bt"] < 2500  # finite with the prior
    for row in section["rows"]:
        assert math.isfinite(row["bt"]) and row["bt_ci"][0] < row["bt"] < row["bt_ci"][1]
        assert row["payoff_ci"][0] <= row["mean_payoff"] <= row["payoff_ci"][1] and row["distinct"] == 6
    text = run_cli("leaderboard", "--db", db).stdout
    assert "prisoners-dilemma — general-sum: ranked by mean payoff" in text and "overall" not in text
    assert "a win in prisoners-dilemma" in text and "virtual draws" in text
    assert "overall — run all" in run_cli("leaderboard", "--db", db, "--overall").stdout
    mle = json.loads(run_cli("leaderboard", "--db", db, "--json", "--prior", "0").stdout)
    assert {r["agent"]: r["bt"] for r in mle["leaderboard"]}["always-defect"] > 5000 and mle["prior"] == 0


# --- SPRT ---------------------------------------------------------------------------
@pytest.mark.parametrize("elo, right", [(0.0, "H0"), (20.0, "H1")])
def test_sprt_decides_right_at_each_hypothesis(elo: float, right: str) -> None:
    # 100 SPRTs (elo0=0, elo1=20, alpha=beta=0.05) on synthetic agents exactly elo apart
    sim = simulate(elo, runs=100, seed=int(elo))
    assert "continue" not in sim.verdicts and sim.verdicts.count(right) >= 95
    for run in range(5):  # the public function agrees with the vectorised simulation where it stopped
        assert sprt((sim.outcomes[run, : sim.pairs[run]] / 2).tolist()).decision == sim.verdicts[run]


def test_sprt_small_cases() -> None:
    assert pentanomial([0, 0.5, 2, 2, 1.5]) == (1, 1, 0, 1, 2)
    with pytest.raises(ValueError, match="pair score"):
        pentanomial([3])
    assert sprt([]).decision == "continue"
    even = sprt([1.0] * 10)  # every pair split: a score of exactly 1/2 is evidence for elo 0 over elo 20
    assert even.elo == 0.0 and even.llr < 0 and even.decision == "continue"
    # the generalised LLR is cautious with degenerate data: the closest distribution with mean 1/2
    # puts half its mass on 0, so 30 won pairs are about 1.7 nats, 60 pass the bound (2.94)
    assert sprt([2.0] * 30).decision == "continue" and sprt([2.0] * 30).llr == pytest.approx(1.68, abs=0.01)
    verdict = sprt([2.0] * 60)
    assert verdict.decision == "H1" and verdict.elo > 100 and verdict.to_dict()["games"] == 120
    assert sprt([0.0] * 60).decision == "H0"
    with pytest.raises(ValueError, match="elo0 must be below elo1"):
        sprt([1.0], elo0=5, elo1=5)


def test_compare_cli_decides_and_resumes(tmp_path: Path) -> None:
    from arena.tournaments import compare
    db = str(tmp_path / "c.db")
    store = Store(db)
    params = compare.CompareParams(batch=4, max_pairs=200)
    run_id = compare.start(store, compare.plan("tit-for-tat", "always-defect", "prisoners-dilemma:rounds=3", params),
                           params)
    execute(store, run_id)  # the first batch only, as if the process had been killed after it
    assert store.count(run_id, "done") == 8 and pair_scores(store, run_id, "tit-for-tat") == [0.0] * 4
    proc = run_cli("compare", "--resume", run_id, "--db", db, "--json")
    verdict = json.loads(proc.stdout)
    assert verdict["decision"] == "H0" and verdict["pentanomial"][0] == verdict["pairs"]
    assert store.count(run_id) == verdict["games"] == store.count(run_id, "done")  # nothing replayed or lost
    seeds = [m for m in store.db.execute("SELECT idx, seed FROM matches WHERE run_id = ? ORDER BY idx", (run_id,))]
    assert all(seeds[i][1] == seeds[i + 1][1] for i in range(0, len(seeds), 2))  # mirrored: one seed per pair
    many = run_cli("compare", "tit-for-tat", "always-defect", "--game", "public-goods:players=3", "--db", db)
    assert many.returncode == 2 and "compare needs one two-player game" in many.stderr
    bad = run_cli("compare", "tit-for-tat", "always-defect", "--game", "prisoners-dilemma", "--elo0", "5",
                  "--elo1", "1", "--db", db)
    assert bad.returncode == 2 and "--elo0 must be below --elo1" in bad.stderr


def test_compare_stores_no_secret_and_touches_no_store_it_cannot_use(tmp_path: Path) -> None:
    """A compare run's config goes through the one place runs are created: the plug-in's token= is
    redacted there as in a tournament (it used to be stored in clear).  An unknown agent, or --resume
    on a missing store, is one line and creates no file."""
    db, token = tmp_path / "c.db", "tok-compare-9911"
    done = run_cli("compare", f"tests.plugins.hostile:Keyed:token={token}", "tit-for-tat", "--game",
                   "prisoners-dilemma:rounds=2", "--max-pairs", "2", "--batch", "2", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["games"] == 4
    assert token.encode() not in db.read_bytes() and b"[REDACTED]" in db.read_bytes()
    missing = tmp_path / "missing.db"
    for args in (["no-such-bot", "tit-for-tat", "--game", "prisoners-dilemma"], ["--resume", "20260101-000000-abcdef"]):
        failed = run_cli("compare", *args, "--db", str(missing))
        assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
        assert not missing.exists()
