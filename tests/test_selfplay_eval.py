"""The self-play evaluation: mirrored pairs on fresh seeds, replicates removed, the tournaments' SPRT."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.store import Store
from arena.train.evaluate import mirrored_pairs, paired_difference, play_mirrored, sprt, summarize
from arena.tournaments.sprt import sprt as pentanomial_sprt


def test_deterministic_agents_make_one_experiment_not_many(tmp_path: Path) -> None:
    """Tit-for-tat vs always-defect in a 3-round prisoner's dilemma: no chance, deterministic agents, so
    every seed replays the same pair of matches; only the first pair counts."""
    store = Store(tmp_path / "e.db")
    run = play_mirrored(store, "prisoners-dilemma:rounds=3", ["tft=tit-for-tat", "alld=always-defect"],
                        [("tft", "alld")], [11, 12, 13, 14], concurrency=1)
    rows, dropped = mirrored_pairs(store, run, "tft", "alld", chance=False)
    assert (len(rows), dropped) == (1, 3)
    # tft: S=0 in round 1, then P=1 twice -> 2 points in each seat; always-defect wins both matches
    assert rows[0]["payoff"] == pytest.approx(2.0) and rows[0]["score"] == 0.0
    # with chance declared, only exact repeats (same seed) would go: all four stay
    rows, dropped = mirrored_pairs(store, run, "tft", "alld", chance=True)
    assert (len(rows), dropped) == (4, 0)
    store.close()


def test_an_anchor_with_options_is_evaluated_under_its_run_name(tmp_path: Path) -> None:
    """``-b mcts:simulations=5``: the run names that agent by its whole spec; the evaluation must too
    (it looked up ``mcts`` and failed with a KeyError before any result)."""
    from arena.train.selfplay import _anchor_name
    anchor = _anchor_name("mcts:simulations=5")
    assert anchor == "mcts:simulations=5" and _anchor_name("strong=mcts:simulations=5") == "strong"
    store = Store(tmp_path / "a.db")
    run = play_mirrored(store, "tic-tac-toe", ["rnd=random", "mcts:simulations=5"], [("rnd", anchor)], [3, 4],
                        concurrency=1)
    rows, dropped = mirrored_pairs(store, run, "rnd", anchor, chance=False)
    assert len(rows) + dropped == 2 and all(-1.0 <= r["payoff"] <= 1.0 for r in rows)
    store.close()


def test_paired_difference_and_summary_on_known_rows() -> None:
    tuned = [{"seed": s, "payoff": p, "score": 0.5} for s, p in [(1, 1.0), (2, 2.0), (3, 3.0)]]
    base = [{"seed": s, "payoff": p, "score": 0.5} for s, p in [(1, 0.0), (2, 2.0), (4, 9.0)]]
    diff = paired_difference(tuned, base, n_boot=200)
    assert diff["pairs"] == 2 and diff["mean"] == pytest.approx(0.5)  # seeds 1 and 2 only: (1 + 0) / 2
    assert diff["ci"][0] <= 0.5 <= diff["ci"][1]
    summary = summarize(tuned, n_boot=200)
    assert summary["payoff"] == pytest.approx(2.0) and summary["pairs"] == 3


@pytest.mark.parametrize("scores", [[1.0] * 40, [0.0] * 40, [0.5] * 10, [0.75, 0.25] * 20])
def test_selfplay_sprt_is_the_tournaments_sprt(scores: list[float]) -> None:
    """The per-pair mean score s in [0, 1] is 2 s points of the pentanomial test; the verdicts agree."""
    ours = sprt(scores, 0.0, 50.0)
    theirs = pentanomial_sprt([2 * s for s in scores], 0.0, 50.0)
    assert ours["llr"] == pytest.approx(theirs.llr)
    assert ours["verdict"] == {"H1": "better", "H0": "not better", "continue": "undecided"}[theirs.decision]
    assert ours["n"] == len(scores)


def test_sprt_verdicts_on_clear_cases() -> None:
    assert sprt([1.0] * 40)["verdict"] == "better"  # tuned won every pair
    assert sprt([0.0] * 40)["verdict"] == "not better"
    assert sprt([0.5])["verdict"] == "undecided"  # one split pair decides nothing
