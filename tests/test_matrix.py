"""Rules of the repeated matrix games, TOML tables, the 144 ordinal games, public goods."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from arena.games.base import IllegalAction
from arena.games.matrix_catalog import (COL_ARRANGEMENTS, ROW_ARRANGEMENTS, load_table, ordinal_number,
                                        ordinal_table)
from arena.games.public_goods import PublicGoodsState
from arena.registry import SpecError, parse_game


def play(state, moves):
    for a, b in moves:
        state.apply(0, a)
        state.apply(1, b)
    return state


def test_prisoners_dilemma_defaults_and_payoffs() -> None:
    game = parse_game("prisoners-dilemma")
    state = game.make(1)
    assert state.rounds == 10
    play(state, [("C", "C"), ("C", "D"), ("D", "C"), ("D", "D")])
    assert state.returns() == [3 + 0 + 5 + 1, 3 + 5 + 0 + 1]
    assert state.metrics()["cooperation_rate"] == [0.5, 0.5]


def test_metrics_known_values() -> None:
    state = play(parse_game("prisoners-dilemma:rounds=4").make(1), [("C", "C"), ("C", "D"), ("D", "D"), ("D", "D")])
    assert state.metrics() == {"rounds_played": 4, "mean_payoff": [5 / 4, 10 / 4], "coordination_rate": 0.75,
                               "cooperation_rate": [0.5, 0.25]}
    # distinct row and column labels: coordination is (Up, Left) or (Down, Right); no cooperative label
    ordinal = play(parse_game("ordinal-2x2:rounds=3").make(0), [("Up", "Left"), ("Up", "Right"), ("Down", "Right")])
    assert ordinal.metrics()["coordination_rate"] == 2 / 3 and "cooperation_rate" not in ordinal.metrics()
    assert parse_game("prisoners-dilemma").make(0).metrics()["coordination_rate"] == 0.0  # nothing played yet


def test_custom_payoffs_and_rounds() -> None:
    state = parse_game("prisoners-dilemma:R=8,S=0,T=10,P=5,rounds=2").make(0)
    play(state, [("C", "D"), ("D", "D")])
    assert state.is_terminal() and state.returns() == [5.0, 15.0]
    with pytest.raises(SpecError, match="T > R > P > S"):
        parse_game("prisoners-dilemma:R=6,T=5")


def test_moves_hidden_until_both_chose() -> None:
    state = parse_game("prisoners-dilemma:rounds=2").make(0)
    state.apply(0, "D")
    assert state.to_move() == [1]
    seen = state.observation(1)
    assert "D" not in seen.replace("Round 1 of 2: choose one of C, D.", "")
    state.apply(1, "C")
    assert "the other player chose D" in state.observation(1)


def test_cheap_talk_round_precedes_each_move() -> None:
    state = parse_game("prisoners-dilemma:rounds=2,cheap_talk=true").make(0)
    assert state.legal_actions(0) is None
    state.apply(0, state.parse(0, "  I will   cooperate "))
    state.apply(1, state.parse(1, ""))
    assert state.legal_actions(0) == ["C", "D"]
    assert 'the other player said "I will cooperate"' in state.observation(1)
    assert 'the other player said "(no message)"' in state.observation(0)
    play(state, [("C", "C")])
    assert state.legal_actions(1) is None


def test_parse_explains_errors() -> None:
    state = parse_game("rock-paper-scissors").make(0)
    assert state.parse(0, "I pick **Paper**") == "Paper"
    with pytest.raises(IllegalAction, match="answer with exactly one of: Rock, Paper, Scissors"):
        state.parse(0, "lizard")


def test_rock_paper_scissors_zero_sum() -> None:
    state = play(parse_game("rock-paper-scissors:rounds=3").make(0),
                 [("Rock", "Scissors"), ("Rock", "Paper"), ("Paper", "Paper")])
    assert state.returns() == [0.0, 0.0]
    state = play(parse_game("rock-paper-scissors:rounds=1").make(0), [("Scissors", "Paper")])
    assert state.returns() == [1.0, -1.0]


def test_toml_table(tmp_path: Path) -> None:
    table = load_table("examples/games/deadlock.toml")
    assert table.cell("D", "C") == (3.0, 0.0) and table.cooperative == "C"
    state = parse_game("matrix:file=examples/games/deadlock.toml,rounds=1").make(0)
    play(state, [("D", "D")])
    assert state.returns() == [2.0, 2.0]


def test_toml_errors_name_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('row_actions = ["A", "B"]\npayoffs = = 3\n')
    with pytest.raises(ValueError, match=r"line 2, column \d+"):
        load_table(bad)
    shape = tmp_path / "shape.toml"
    shape.write_text('row_actions = ["A", "B"]\npayoffs = [[[1, 2]]]\n')
    with pytest.raises(ValueError, match="must be 2x2"):
        load_table(shape)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('row_actions = ["A"]\npayoffs = [[[1, 2]]]\ncolour = 1\n')
    with pytest.raises(ValueError, match="unknown key"):
        load_table(unknown)


def test_all_144_ordinal_games_are_distinct_and_complete() -> None:
    assert len(ROW_ARRANGEMENTS) == len(COL_ARRANGEMENTS) == 12
    seen = set()
    for row, col in itertools.product(itertools.permutations((1, 2, 3, 4)), repeat=2):
        seen.add(ordinal_number(row, col))  # every strict ordinal game has exactly one number
    assert seen == set(range(1, 145))
    for n in (1, 77, 144):
        t = ordinal_table(n)
        row = tuple(int(t.payoffs[r][c][0]) for r in (0, 1) for c in (0, 1))
        col = tuple(int(t.payoffs[r][c][1]) for r in (0, 1) for c in (0, 1))
        assert ordinal_number(row, col) == n
    with pytest.raises(ValueError, match="1..144"):
        ordinal_table(145)


def test_prisoners_dilemma_is_an_ordinal_game() -> None:
    # PD in ranks: CC=(3,3) CD=(1,4) DC=(4,1) DD=(2,2); its number rebuilds an equivalent PD
    n = ordinal_number((3, 1, 4, 2), (3, 4, 1, 2))
    t = ordinal_table(n)
    cells = sorted((t.payoffs[r][c] for r in (0, 1) for c in (0, 1)))
    assert cells == [(1.0, 4.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0)]


def test_public_goods_payoffs() -> None:
    state = PublicGoodsState(seed=0, players=4, endowment=10, multiplier=1.6, rounds=1)
    for p, c in enumerate(["10", "10", "0", "0"]):
        state.apply(p, c)
    # pot 20 * 1.6 / 4 = 8 each
    assert state.returns() == [8.0, 8.0, 18.0, 18.0]
    assert state.metrics()["cooperation_rate"] == [1.0, 1.0, 0.0, 0.0]
    assert "player 1: 10" in state.observation(2)
