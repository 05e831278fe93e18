"""Tic-tac-toe.

Card
- Players: 2; player 0 plays X and moves first, player 1 plays O.
- Actions: a cell "1".."9", numbered row by row from the top left (1 2 3 / 4 5 6 /
  7 8 9).  Answers may also name a cell as column letter + row number, "a1".."c3"
  (a1 = top left = 1, c3 = bottom right = 9); taken cells are refused with the reason.
- Observation: the grid with X, O and the numbers of the free cells; whose turn.
  ``observation_data``: ``board`` (3x3, "X"/"O"/"."), legal cells.  Nothing is hidden.
- Rules: three in a row, column or diagonal wins; a full grid without one is a draw.
- Scoring: zero-sum, win +1, loss -1, draw 0.  Metrics: ``winner``, ``moves``.
- Version 1.
"""

from __future__ import annotations

import re
from typing import Any

from arena.games.base import ForkedRng, GameInfo, IllegalAction, State, win_loss
from arena.games.connect_four import EMPTY, SYMBOLS, line_length

CELLS = tuple(str(i) for i in range(1, 10))
CELL_RE = re.compile(r"(?<![A-Za-z0-9])(?:([1-9])|([a-cA-C])([1-3]))(?![A-Za-z0-9])")


class TicTacToeState(ForkedRng, State):
    max_utility = 1.0  # a win (win_loss returns): what MCTS-Solver may prove
    game_id = "tic-tac-toe"
    action_vocab = CELLS

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2, seed)
        self.grid = [[EMPTY] * 3 for _ in range(3)]
        self.history: list[str] = []
        self.winner: int | None = None

    # --- the flow ---------------------------------------------------------
    def to_move(self) -> list[int]:
        if self.winner is not None or len(self.history) == 9:
            return []
        return [len(self.history) % 2]

    def legal_actions(self, player: int) -> list[str] | None:
        if player not in self.to_move():
            return []
        return [c for c in CELLS if self._at(c) == EMPTY]

    def _at(self, cell: str) -> str:
        i = int(cell) - 1
        return self.grid[i // 3][i % 3]

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if not self.to_move() else "it is not your turn")
        if action not in CELLS:
            raise IllegalAction(f"{action!r} is not a cell; cells are numbered 1-9")
        if self._at(action) != EMPTY:
            raise IllegalAction(f"cell {action} is already taken by {self._at(action)}")
        i = int(action) - 1
        self.grid[i // 3][i % 3] = SYMBOLS[player]
        self.history.append(action)
        if line_length(self.grid, i // 3, i % 3) >= 3:
            self.winner = player

    def returns(self) -> list[float]:
        return win_loss(self.winner)

    def clone(self) -> TicTacToeState:
        new = self._fork()
        new.grid = [row[:] for row in self.grid]
        new.history = self.history[:]
        return new

    # --- what players see -------------------------------------------------
    def rules_text(self, player: int) -> str:
        return (f"You are playing tic-tac-toe against another player. You play {SYMBOLS[player]}; X moves first. "
                "Players take turns marking an empty cell of the 3x3 grid; three of your marks in a row, column "
                "or diagonal wins (+1, the loser -1); a full grid without a line is a draw (0). Cells are "
                "numbered 1 2 3 (top row), 4 5 6, 7 8 9 (bottom row).\n"
                "When it is your turn, answer with the number of one empty cell.")

    def board_text(self) -> str:
        rows = []
        for r in range(3):
            rows.append(" " + " | ".join(self.grid[r][c] if self.grid[r][c] != EMPTY else str(3 * r + c + 1)
                                         for c in range(3)))
        return "\n---+---+---\n".join(rows)

    def observation(self, player: int) -> str:
        lines = [f"You are {SYMBOLS[player]}. Grid (free cells show their number):", self.board_text(),
                 f"Moves so far (cells): {' '.join(self.history) or '(none yet)'}"]
        if self.winner is not None:
            lines.append(f"The game is over: {SYMBOLS[self.winner]} wins.")
        elif len(self.history) == 9:
            lines.append("The game is over: a draw.")
        else:
            turn = self.to_move()[0]
            lines.append(f"{SYMBOLS[turn]} to move. Free cells: {', '.join(self.legal_actions(turn))}")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"board": "rows of cells ('.' empty)", "symbol": "your mark", "legal": "the legal cells",
                 "history": "every move so far"}

    def observation_data(self, player: int) -> dict[str, Any]:
        return {"board": [row[:] for row in self.grid], "symbol": SYMBOLS[player],
                "legal": self.legal_actions(player), "history": self.history[:]}

    def metrics(self) -> dict[str, Any]:
        return {"winner": self.winner, "moves": len(self.history)}

    # --- answers ----------------------------------------------------------
    def parse(self, player: int, text: str) -> str:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if not self.to_move() else "it is not your turn")
        answer = text.strip()
        snippet = answer[:60] + ("..." if len(answer) > 60 else "")
        cells = list(dict.fromkeys(
            digit or str(3 * (int(row) - 1) + "abc".index(col.lower()) + 1)
            for digit, col, row in CELL_RE.findall(answer)))
        free = ", ".join(self.legal_actions(player))
        if len(cells) == 1:
            if self._at(cells[0]) != EMPTY:
                raise IllegalAction(f"cell {cells[0]} is already taken by {self._at(cells[0])}; "
                                    f"choose one of the free cells: {free}")
            return cells[0]
        if cells:
            raise IllegalAction(f"'{snippet}' names several cells ({', '.join(cells)}); answer with exactly one "
                                f"of the free cells: {free}")
        raise IllegalAction(f"'{snippet}' names no cell; answer with the number of a free cell: {free}")


GAMES = {
    "tic-tac-toe": GameInfo("tic-tac-toe", TicTacToeState, {}, "tic-tac-toe, cells 1-9 (or a1-c3)",
                            win="three in a row first; a full board is a draw"),
}
