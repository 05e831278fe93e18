"""Random-play chess steps/s: arena's chess (State loop, and through the AEC env) vs raw
python-chess vs PettingZoo's ``chess_v6``, side by side with ratios; and the cost of ``clone()``.

Every loop plays uniformly random legal moves to the natural end of the game.
- raw python-chess: ``list(board.legal_moves)`` + ``push``, with the same end checks as
  arena (no legal move, insufficient material, 100 halfmoves, ``is_repetition(3)``);
- arena State: ``legal_actions`` + ``apply`` (UCI strings); "+ text" also builds the
  player's observation text each ply (board, FEN, SAN history, legal moves in SAN);
- arena AEC: ``ArenaEnv`` over the same State, ``env.last()`` (text + action mask) + ``step``;
- PettingZoo chess_v6: its AEC env (8x8x111 planes + 4672-mask, ``can_claim_draw`` each ply).
PettingZoo's env needs ``pip install chess pygame-ce`` (its ``[classic]`` extra pulls more).
Run: ``python bench/chess_random_play.py [games]``.
"""

from __future__ import annotations

import copy
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import chess
import numpy as np

from arena.games.chess import make_chess
from arena.games.env import ArenaEnv

MAX_PLIES = 100_000  # no adjudication: every loop plays to the natural end


def raw(games: int) -> int:
    steps = 0
    for game in range(games):
        board, rng = chess.Board(), random.Random(game)
        while True:
            moves = list(board.legal_moves)
            if (not moves or board.is_insufficient_material() or board.halfmove_clock >= 100
                    or board.is_repetition(3)):
                break
            board.push(rng.choice(moves))
            steps += 1
    return steps


def state_loop(games: int, text: bool = False) -> int:
    steps = 0
    for game in range(games):
        state, rng = make_chess(game, max_plies=MAX_PLIES), random.Random(game)
        while moving := state.to_move():
            player = moving[0]
            if text:
                state.observation(player)
            state.apply(player, rng.choice(state.legal_actions(player)))
            steps += 1
    return steps


def random_aec(env: Any, games: int) -> int:
    """Random masked play through any PettingZoo AEC env; returns the moves made."""
    steps = 0
    for game in range(games):
        env.reset(seed=game)
        rng = random.Random(game)
        for _agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.step(None)
                continue
            env.step(rng.choice(np.flatnonzero(obs["action_mask"]).tolist()))
            steps += 1
    return steps


def arena_aec(games: int) -> int:
    return random_aec(ArenaEnv(lambda seed: make_chess(seed, max_plies=MAX_PLIES), "chess"), games)


def pettingzoo_aec(games: int) -> int:
    from pettingzoo.classic import chess_v6
    return random_aec(chess_v6.env(), games)


def rate(fn: Callable[[int], int], games: int, repeats: int = 3) -> float:
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        steps = fn(games)
        best = max(best, steps / (time.perf_counter() - start))
    return best


def clone_cost(ply: int = 80, n: int = 2000) -> tuple[float, float, int]:
    """Microseconds per ``clone()`` and per ``copy.deepcopy`` of a state ``ply`` plies into a random game."""
    state, rng = make_chess(0, max_plies=MAX_PLIES), random.Random(0)
    while state.to_move() and len(state.moves) < ply:
        state.apply(state.to_move()[0], rng.choice(state.legal_actions(state.to_move()[0])))
    timings = []
    for fn, reps in ((state.clone, n), (lambda: copy.deepcopy(state), n // 20)):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        timings.append((time.perf_counter() - start) / reps * 1e6)
    return timings[0], timings[1], len(state.moves)


if __name__ == "__main__":
    games = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rows = [("raw python-chess (legal_moves + push)", rate(raw, games)),
            ("arena State loop (legal_actions + apply)", rate(state_loop, games)),
            ("arena State loop + observation text", rate(lambda g: state_loop(g, True), games)),
            ("arena AEC env (text obs + mask)", rate(arena_aec, games))]
    try:
        rows.append(("PettingZoo chess_v6 AEC", rate(pettingzoo_aec, games)))
    except ImportError as err:
        print(f"(PettingZoo chess_v6 unavailable: {err}; pip install chess pygame-ce)")
    base = rows[0][1]
    print(f"random play, {games} games per loop, best of 3")
    print(f"{'loop':44s} {'steps/s':>10s} {'vs raw':>8s}")
    for name, value in rows:
        print(f"{name:44s} {value:10.0f} {value / base:7.2f}x")
    if len(rows) == 5:
        print(f"arena AEC / PettingZoo chess_v6 : {rows[3][1] / rows[4][1]:.2f}x;  "
              f"arena State / PettingZoo chess_v6 : {rows[1][1] / rows[4][1]:.2f}x")
    fast, deep, ply = clone_cost()
    print(f"clone() at ply {ply}: {fast:.1f} us   (copy.deepcopy: {deep:.1f} us, {deep / fast:.0f}x slower)")
