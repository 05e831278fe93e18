"""Chess and Chess960 boards from python-chess's SVG renderer, the last move marked.

The piece drawings are emitted once per page (:func:`piece_defs`) and stripped from every
board, which then refers to them with ``<use>``; without coordinates (the player's text has
them) a board is 9 kB, not 31 kB.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import chess
import chess.svg
from markupsafe import Markup

from arena.games.base import State

_DEFS = re.compile(r"<defs>.*?</defs>", re.S)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
SIZE = 320


def board_svg(board: chess.Board, flipped: bool = False) -> Markup:
    """The board (last move marked, king in check shaded) without piece definitions."""
    last = board.move_stack[-1] if board.move_stack else None
    check = board.king(board.turn) if board.is_check() else None
    svg = chess.svg.board(board, lastmove=last, check=check, orientation=not flipped, size=SIZE, coordinates=False)
    return Markup(_XMLNS.sub("", _DEFS.sub("", svg)))


@cache
def piece_defs() -> Markup:
    """The ``<defs>`` of all twelve pieces, once per page (the page puts them in a hidden SVG)."""
    full = chess.Board("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w - - 0 1")
    return Markup(_XMLNS.sub("", _DEFS.search(chess.svg.board(full)).group(0)))  # type: ignore[union-attr]


page_defs = piece_defs  # what every page with a chess board includes once (visuals.page_defs)


def frame(state: State, viewer: int | None) -> dict[str, Any]:
    board: chess.Board = state.start_board()  # type: ignore[attr-defined]
    for uci in state.moves:  # type: ignore[attr-defined]  # a clone's board has no move stack
        board.push_uci(uci)
    last = board.move_stack[-1] if board.move_stack else None
    san = None
    if last is not None:
        before = board.copy()
        before.pop()
        san = before.san(last)
    return {"svg": board_svg(board, flipped=viewer == 1), "fen": board.fen(), "last": san,
            "to_move": "white" if board.turn == chess.WHITE else "black", "check": board.is_check()}
