"""MCTS-Solver: proven wins and losses are backed up (Winands et al. 2008; OpenSpiel's ``solve=True``)."""

from __future__ import annotations

import random

from arena.agents.base import Turn
from arena.agents.mcts import MCTSAgent, search
from arena.registry import parse_game


def _tictactoe(moves: list[str]):
    state = parse_game("tic-tac-toe").make(seed=0)
    for i, move in enumerate(moves):
        state.apply(i % 2, move)
    return state


def test_a_win_in_one_is_proven_and_the_search_stops_early() -> None:
    state = _tictactoe(["1", "4", "2", "5"])  # X to move: 3 completes the top row
    proven: dict[str, float] = {}
    stats = search(state, 0, 5000, rng=random.Random(1), proven=proven)
    assert proven.get("3") == 1.0
    assert sum(n for n, _ in stats.values()) < 5000  # the root was solved: no simulation wasted


def test_a_forced_loss_is_proven_for_every_move() -> None:
    # O holds 1, 2, 5 and threatens 3, 8 and 9; X (4, 6, 7) to move cannot stop all three
    state = _tictactoe(["4", "1", "6", "2", "7", "5"])
    proven: dict[str, float] = {}
    search(state, 0, 5000, rng=random.Random(2), proven=proven)
    assert proven == {"3": -1.0, "8": -1.0, "9": -1.0}


def test_without_the_solver_nothing_is_proven_and_the_budget_is_spent() -> None:
    state = _tictactoe(["1", "4", "2", "5"])
    proven: dict[str, float] = {}
    stats = search(state, 0, 300, rng=random.Random(1), solve=False, proven=proven)
    assert proven == {} and sum(n for n, _ in stats.values()) == 300


def test_the_agent_plays_the_proven_win_with_few_simulations() -> None:
    state = _tictactoe(["1", "4", "2", "5"])
    agent = MCTSAgent(simulations=40, seed=3)
    decision = agent.act(Turn("tic-tac-toe", 0, "", "", state.legal_actions(0), state=state))
    assert decision.action == "3" and decision.info["proven"]["3"] == 1.0


def test_no_proofs_in_games_with_chance_or_simultaneous_moves() -> None:
    kuhn = parse_game("kuhn-poker").make(seed=0)
    while kuhn.to_move() == [-1]:
        kuhn.sample_chance()
    proven: dict[str, float] = {}
    search(kuhn, kuhn.to_move()[0], 200, rng=random.Random(0), proven=proven)
    assert proven == {}
    pd = parse_game("prisoners-dilemma:rounds=1").make(seed=0)
    search(pd, 0, 200, rng=random.Random(0), proven=proven)
    assert proven == {}  # the tree serialises the simultaneous move: a "proof" would peek


def test_a_winning_move_proves_its_node_before_the_other_moves_are_tried() -> None:
    state = _tictactoe(["1", "4", "2", "5"])  # five legal moves, one (3) wins at once
    for seed in range(10):
        stats = search(state, 0, 5000, rng=random.Random(seed))
        # proven the moment 3 is expanded (as OpenSpiel's max-utility rule): never more sims than moves
        assert sum(n for n, _ in stats.values()) <= len(state.legal_actions(0))
