"""MCTS simulations/s on connect four: arena's ``mcts`` vs OpenSpiel's Python ``MCTSBot``.

Both run plain UCT from the same positions with the same number of simulations, one
uniformly random rollout per leaf and the same exploration constant ``c=1.4`` (returns
are +1/-1/0 in both; arena rescales Q by the returns seen, here to the same [-1, 1]).
OpenSpiel's MCTS-Solver is off (``solve=False``).  OpenSpiel steps its C++ connect-four
state; arena steps its pure-Python ``ConnectFourState`` (clone per simulation).
Each side's best of ``--repeats`` interleaved runs is reported; the ratio is
arena / OpenSpiel (target >= 1x).

OpenSpiel: ``pip install open_spiel`` (a manylinux wheel, ~16 MB, installs in
seconds on CPython 3.11 x86-64).  Without it only arena's numbers are printed.
Run: ``python bench/mcts_speed.py [--simulations 2000] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import random
import time

from arena.agents.mcts import search
from arena.games.registry import parse_game

OPENINGS = {"start": [], "midgame": ["4", "4", "4", "3", "5", "5", "3", "6"],  # columns 1..7
            "tactical": ["4", "4", "3", "5", "5", "3", "2", "6"]}  # X wins at once in column 1


def arena_rate(moves: list[str], simulations: int, seed: int) -> float:
    state = parse_game("connect-four").make(seed=0)
    for i, move in enumerate(moves):
        state.apply(i % 2, move)
    player = state.to_move()[0]
    started = time.perf_counter()
    stats = search(state, player, simulations, c=1.4, rng=random.Random(seed))
    elapsed = time.perf_counter() - started
    assert sum(n for n, _ in stats.values()) == simulations
    return simulations / elapsed


def openspiel_rate(moves: list[str], simulations: int, seed: int) -> float:
    import numpy as np
    import pyspiel
    from open_spiel.python.algorithms import mcts

    game = pyspiel.load_game("connect_four")
    state = game.new_initial_state()
    for move in moves:
        state.apply_action(int(move) - 1)
    evaluator = mcts.RandomRolloutEvaluator(n_rollouts=1, random_state=np.random.RandomState(seed))
    bot = mcts.MCTSBot(game, uct_c=1.4, max_simulations=simulations, evaluator=evaluator,
                       solve=False, random_state=np.random.RandomState(seed))
    started = time.perf_counter()
    root = bot.mcts_search(state)
    elapsed = time.perf_counter() - started
    assert root.explore_count == simulations  # (its first simulation expands the root itself)
    return simulations / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        import pyspiel  # noqa: F401
        have_openspiel = True
    except ImportError:
        have_openspiel = False
        print("open_spiel is not installed (pip install open_spiel): printing arena's numbers only")
    for name, moves in OPENINGS.items():
        ours, theirs = 0.0, 0.0
        for k in range(args.repeats):  # interleaved, so load on the machine hits both alike
            ours = max(ours, arena_rate(moves, args.simulations, k))
            if have_openspiel:
                theirs = max(theirs, openspiel_rate(moves, args.simulations, k))
        print(f"connect four, {name:8s} {args.simulations} simulations:")
        print(f"  arena mcts          : {ours:8.0f} simulations/s")
        if have_openspiel:
            print(f"  OpenSpiel MCTSBot   : {theirs:8.0f} simulations/s")
            print(f"  ratio arena/OpenSpiel: {ours / theirs:7.2f}x   (target >= 1x)")


if __name__ == "__main__":
    main()
