"""Move quality: solved values, Stockfish centipawn loss, poker EV loss, matrix-game regret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.agents.stockfish import find_stockfish
from arena.quality import quality_pass, summarise
from arena.quality.chess_eval import accuracy, classify, move_quality as chess_move, win_percent
from arena.quality.solved import Solver, move_quality
from arena.registry import parse_game
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.tournaments.summary import store_document
from tests.conftest import run_cli


def played(tmp_path: Path, game: str, agents: list[str], n: int, **options: object) -> tuple[Store, str]:
    store = Store(tmp_path / "q.db")
    run_id = new_run(store, RunConfig(games=[game], agents=agents, games_per_pair=n, seed=2, **options))
    execute(store, run_id)
    return store, run_id


def test_every_first_move_of_tic_tac_toe_is_a_draw_and_an_edge_reply_to_the_centre_loses() -> None:
    state, solver = parse_game("tic-tac-toe").make(0), Solver()
    assert solver.value(state) == 0
    assert [solver.move_value(state, 0, cell) for cell in state.legal_actions(0)] == [0] * 9
    state.apply(0, "5")  # X takes the centre: a corner reply holds the draw, an edge reply loses
    assert {c: solver.move_value(state, 1, c) for c in "1379"} == dict.fromkeys("1379", 0)
    assert {c: solver.move_value(state, 1, c) for c in "2468"} == dict.fromkeys("2468", -1)
    assert move_quality(solver, state, 1, "2") == {"kind": "solved", "value_before": 0, "value_after": -1,
                                                    "loss": 1, "value_losing": True}
    four = parse_game("connect-four:rows=4,cols=4").make(0)  # 4x4 connect four is a draw
    assert Solver().value(four) == 0


def test_quality_pass_stores_solved_values_with_each_step(tmp_path: Path) -> None:
    store, run_id = played(tmp_path, "tic-tac-toe", ["random", "r2=random:seed=5"], 6)
    assert quality_pass(store, run_id) == 6
    steps = [s for m in store.match_players(run_id) for s in store.trajectory(m).steps]
    assert steps and all(s.info["quality"]["kind"] == "solved" for s in steps)
    assert all(s.info["quality"]["value_after"] <= s.info["quality"]["value_before"] for s in steps)
    assert all(s.info["quality"]["value_before"] == 0 for s in steps if s.index == 0)
    summary = summarise(store, run_id)["tic-tac-toe"]
    assert sum(row["moves"] for row in summary.values()) == len(steps)
    losing = sum(s.info["quality"]["value_losing"] for s in steps)
    assert 0 < losing < len(steps)  # random movers make some value-losing moves
    doc = store_document(store, run_id, n_boot=20)
    assert {r["agent"]: r["quality"]["moves"] for r in doc["games"][0]["rows"]} == \
        {a: row["moves"] for a, row in summary.items()}


@pytest.mark.skipif(find_stockfish() is None, reason="stockfish is not installed")
def test_stockfish_against_itself_loses_few_centipawns_a_random_mover_many(tmp_path: Path) -> None:
    store, run_id = played(tmp_path, "chess:max_plies=30", ["sf=stockfish:depth=10", "sf2=stockfish:depth=10",
                                                             "random"], 1, swap_seats=False)
    proc = run_cli("quality", "--db", store.path, "--run", run_id, "--json")
    summary = json.loads(proc.stdout)["chess:max_plies=30"]
    assert summary["sf"]["acpl"] < 30 and summary["sf2"]["acpl"] < 30 and summary["sf"]["blunders"] == 0
    assert summary["random"]["acpl"] > 50 and summary["random"]["accuracy"] < summary["sf"]["accuracy"]
    steps = sum(len(store.trajectory(m).steps) for m in store.match_players(run_id))
    assert summary["sf"]["moves"] + summary["sf2"]["moves"] + summary["random"]["moves"] == steps


def test_lichess_formulas() -> None:
    assert win_percent(0) == 50 and win_percent(1000) > 97 and win_percent(-1000) < 3
    assert accuracy(50, 50) == pytest.approx(100, abs=0.01) and accuracy(90, 10) == pytest.approx(0, abs=0.01)
    assert classify(60, 44) == "blunder" and classify(60, 49) == "mistake" and classify(60, 54) == "inaccuracy"
    assert classify(60, 56) == "" and chess_move(100, 2000)["cp_loss"] == 0  # gains are not losses
    assert chess_move(300, -5000)["cp_loss"] == 1300  # clipped to ±1000 before the difference


def test_kuhn_equilibrium_play_loses_nothing_a_calling_station_does(tmp_path: Path) -> None:
    store, run_id = played(tmp_path, "kuhn-poker", ["cfr=cfr:game=kuhn-poker", "calling-station"], 12)
    quality_pass(store, run_id)
    summary = summarise(store, run_id)["kuhn-poker"]
    assert abs(summary["cfr"]["ev_loss_vs_equilibrium"]) < 0.01 and summary["cfr"]["ev_loss_vs_best_response"] < 0.01
    assert summary["calling-station"]["ev_loss_vs_best_response"] > 0.05
    step = store.trajectory(next(iter(store.match_players(run_id)))).steps[0]
    assert step.info["quality"]["exploitability"] < 0.01


def test_matrix_regret_against_the_opponents_realised_moves(tmp_path: Path) -> None:
    store, run_id = played(tmp_path, "prisoners-dilemma:rounds=5", ["tit-for-tat", "always-defect"], 2)
    quality_pass(store, run_id)
    summary = summarise(store, run_id)["prisoners-dilemma:rounds=5"]
    # defecting is dominant: always-defect has no regret; tit-for-tat's opening C against D costs P − S = 1
    assert summary["always-defect"]["external_regret_per_round"] == 0
    assert summary["tit-for-tat"]["external_regret_per_round"] == pytest.approx(1 / 5)
    assert summary["tit-for-tat"]["mean_instant_regret"] == pytest.approx(1 / 5)


def test_each_judge_describes_its_own_summary() -> None:
    """The leaderboard's "move quality" cell, in the words of the judge that made it."""
    from arena.quality import aggregate, describe
    chess = aggregate([{"kind": "chess", "cp_loss": 30, "accuracy": 80.0, "class": "blunder"},
                       {"kind": "chess", "cp_loss": 10, "accuracy": 90.0, "class": ""}])
    assert describe(chess) == "ACPL 20, acc 85%, 1 blunders"
    solved = aggregate([{"kind": "solved", "value_losing": True, "loss": 1.0},
                        {"kind": "solved", "value_losing": False, "loss": 0.0}])
    assert describe(solved) == "50% value-losing"
    assert describe({"kind": "regret", "external_regret_per_round": 0.125}) == "regret 0.12/round"
    assert describe({"kind": "poker", "ev_loss_vs_equilibrium": 0.0625}) == "EV loss 0.062/move"
