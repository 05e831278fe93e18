"""Connect four, tic-tac-toe and hex as grids of cells (hex rows shifted into a rhombus),
the last move's cell marked."""

from __future__ import annotations

import string
from typing import Any

from arena.games.base import State


def last_cell(game: str, grid: list[list[str]], move: str | None) -> tuple[int, int] | None:
    """(row, column) of the cell the last move filled, from the move's name in the game's notation."""
    if move is None:
        return None
    if game == "tic-tac-toe" and move.isdigit():
        return (int(move) - 1) // 3, (int(move) - 1) % 3
    if game == "connect-four" and move.isdigit():
        col = int(move) - 1
        row = next((r for r in range(len(grid)) if grid[r][col] != "."), None)
        return None if row is None else (row, col)
    if game == "hex" and move[:1].isalpha() and move[1:].isdigit():
        return int(move[1:]) - 1, string.ascii_lowercase.index(move[0].lower())
    return None


def frame(state: State, viewer: int | None) -> dict[str, Any]:
    grid = [row[:] for row in state.grid]  # type: ignore[attr-defined]
    history = list(getattr(state, "history", []))
    game = state.game_id
    width = len(grid[0])
    if game == "hex":
        cols, rows = list(string.ascii_lowercase[:width]), [str(r + 1) for r in range(len(grid))]
    elif game == "tic-tac-toe":
        cols, rows = ["", "", ""], ["", "", ""]
        grid = [[cell if cell != "." else str(3 * r + c + 1) for c, cell in enumerate(row)]
                for r, row in enumerate(grid)]
    else:
        cols, rows = [str(c + 1) for c in range(width)], ["" for _ in grid]
    last = history[-1] if history else None
    return {"grid": grid, "cols": cols, "rows": rows, "hex": game == "hex", "last": last,
            "mark": last_cell(game, state.grid, last), "game": game}  # type: ignore[attr-defined]
