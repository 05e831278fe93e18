"""Connect four head to head: arena's ``mcts`` (MCTS-Solver on) vs OpenSpiel's ``MCTSBot`` (solver on).

Equal simulations per move, one random rollout per leaf, ``c=1.4`` on both sides; the first
player alternates game by game, each game from a fresh seed.  The two engines play one game
kept in step: arena's ``ConnectFourState`` and OpenSpiel's ``connect_four`` state receive
the same moves (columns 1..7 / actions 0..6).  Prints arena's score (win 1, draw 1/2) with a
95% Wilson interval (target: at least even, 0.5).

Needs ``pip install open_spiel``.  Run: ``python bench/mcts_vs_openspiel.py [--games 24] [--simulations 400]``.
"""

from __future__ import annotations

import argparse
import math

from arena.agents.base import Turn
from arena.agents.mcts import MCTSAgent
from arena.games.registry import parse_game


def play(game_index: int, simulations: int, solve: bool = True) -> float:
    """One game; arena's score in it (1, 1/2 or 0)."""
    import numpy as np
    import pyspiel
    from open_spiel.python.algorithms import mcts

    game = pyspiel.load_game("connect_four")
    theirs = game.new_initial_state()
    ours = parse_game("connect-four").make(seed=game_index)
    evaluator = mcts.RandomRolloutEvaluator(n_rollouts=1, random_state=np.random.RandomState(game_index))
    bot = mcts.MCTSBot(game, uct_c=1.4, max_simulations=simulations, evaluator=evaluator, solve=solve,
                       random_state=np.random.RandomState(game_index))
    agent = MCTSAgent(simulations=simulations, c=1.4, seed=game_index, solve=solve)
    agent.reset({"seed": game_index, "player": game_index % 2})
    arena_seat = game_index % 2
    while ours.to_move():
        player = ours.to_move()[0]
        if player == arena_seat:
            turn = Turn("connect-four", player, "", "", ours.legal_actions(player), state=ours.clone())
            move = agent.act(turn).action
        else:
            move = str(bot.step(theirs) + 1)
        ours.apply(player, move)
        theirs.apply_action(int(move) - 1)
    assert theirs.is_terminal()
    return (ours.returns()[arena_seat] + 1) / 2


def wilson(score: float, n: int, z: float = 1.96) -> tuple[float, float]:
    centre = (score + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(score * (1 - score) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=24)
    parser.add_argument("--simulations", type=int, default=400)
    parser.add_argument("--no-solve", action="store_true", help="both sides without the solver (plain UCT)")
    args = parser.parse_args()
    scores = []
    for g in range(args.games):
        scores.append(play(g, args.simulations, not args.no_solve))
        print(f"game {g + 1:2d} (arena {'first' if g % 2 == 0 else 'second'}): arena {scores[-1]:.1f}", flush=True)
    mean = sum(scores) / len(scores)
    low, high = wilson(mean, len(scores))
    wins, draws = scores.count(1.0), scores.count(0.5)
    label = "plain UCT" if args.no_solve else "solver"
    print(f"arena mcts ({label}) vs OpenSpiel MCTSBot ({label}), {args.simulations} simulations, {len(scores)} games: "
          f"{wins} wins, {draws} draws, {len(scores) - wins - draws} losses; score {mean:.3f} "
          f"(95% CI {low:.3f}-{high:.3f}; target >= 0.5)")


if __name__ == "__main__":
    main()
