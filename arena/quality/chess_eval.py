"""Chess move quality from Stockfish's evaluation before and after each move.

Each position of a stored game is evaluated once by Stockfish (python-chess's engine
API, ``Limit(depth=depth)``), from the side to move; a move's evaluation before is the
position's, after is the next position's negated (mate scores count as ±10 000
centipawns, ``mate_score``). Per move:

- centipawn loss = max(0, before − after), with both evaluations clipped to ±1000 cp first
  (as lichess does, so a lost position does not dominate the average);
- win% = 50 + 50·(2 / (1 + exp(−0.00368208·cp)) − 1) (lichess's winning-chances curve);
- accuracy = 103.1668·exp(−0.04354·(win%_before − win%_after)) − 3.1669, clipped to 0..100
  (lichess's move accuracy formula);
- inaccuracy / mistake / blunder: a drop of the winning chances (2·win%/100 − 1) of at least
  0.1 / 0.2 / 0.3 (lichess's thresholds).

An agent's accuracy is the mean of its moves' accuracies (lichess weights them; we do not).
"""

from __future__ import annotations

import math
from typing import Any

import chess
import chess.engine

CLIP = 1000
MATE = 10_000


def win_percent(cp: float) -> float:
    return 50 + 50 * (2 / (1 + math.exp(-0.00368208 * cp)) - 1)


def accuracy(win_before: float, win_after: float) -> float:
    return min(100.0, max(0.0, 103.1668 * math.exp(-0.04354 * (win_before - win_after)) - 3.1669))


def classify(win_before: float, win_after: float) -> str:
    drop = (win_before - win_after) / 50  # in winning chances, -1..1
    return "blunder" if drop >= 0.3 else "mistake" if drop >= 0.2 else "inaccuracy" if drop >= 0.1 else ""


def evaluate(engine: chess.engine.SimpleEngine, board: chess.Board, depth: int) -> int:
    """Centipawns for the side to move (a finished game: the rules' result)."""
    if board.is_game_over(claim_draw=False):
        return -MATE if board.is_checkmate() else 0
    info = engine.analyse(board, chess.engine.Limit(depth=depth))
    return int(info["score"].pov(board.turn).score(mate_score=MATE))


def move_quality(before: int, after: int) -> dict[str, Any]:
    """Quality of one move from the mover's evaluation before and after it (centipawns)."""
    b, a = max(-CLIP, min(CLIP, before)), max(-CLIP, min(CLIP, after))
    wb, wa = win_percent(b), win_percent(a)
    return {"kind": "chess", "eval_before": before, "eval_after": after, "cp_loss": max(0, b - a),
            "accuracy": round(accuracy(wb, wa), 2), "class": classify(wb, wa)}


def game_quality(boards: list[chess.Board], engine: chess.engine.SimpleEngine, depth: int) -> list[dict[str, Any]]:
    """Quality of the moves between consecutive positions ``boards[i] -> boards[i+1]``."""
    evals = [evaluate(engine, board, depth) for board in boards]
    return [move_quality(evals[i], -evals[i + 1]) for i in range(len(boards) - 1)]
