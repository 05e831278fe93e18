"""Connect Four (and any gravity "connect k" board).

Card
- Players: 2; player 0 plays X and moves first, player 1 plays O.
- Actions: a column number "1".."cols" (default 7); the disc falls to the lowest
  empty cell of that column.  A full column is illegal.  Answers like "column 4" or
  "I drop in 4" are read; naming several columns is refused.
- Observation: the board as text (row 1 at the top), column numbers, whose turn,
  the moves so far.  ``observation_data``: ``board`` (rows top first, "X"/"O"/"."),
  ``heights``, legal columns.  Nothing is hidden.
- Rules: params ``rows`` (6), ``cols`` (7), ``connect`` (4).  The first to line up
  ``connect`` discs horizontally, vertically or diagonally wins; a full board with no
  line is a draw.
- Scoring: zero-sum, win +1, loss -1, draw 0.  Metrics: ``winner`` (0, 1 or None),
  ``moves``.
- Setup: the connect-four game of Schultz et al. (planning with language models in
  board games).  Version 1.
"""

from __future__ import annotations

import re
from typing import Any

from arena.games.base import ForkedRng, GameInfo, IllegalAction, State, win_loss

SYMBOLS = ("X", "O")
EMPTY = "."
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def line_length(grid: list[list[str]], row: int, col: int) -> int:
    """Longest straight line of equal symbols through (row, col) on a rectangular grid."""
    mark, rows, cols = grid[row][col], len(grid), len(grid[0])
    best = 0
    for dr, dc in DIRECTIONS:
        count = 1
        for sign in (1, -1):
            r, c = row + sign * dr, col + sign * dc
            while 0 <= r < rows and 0 <= c < cols and grid[r][c] == mark:
                count += 1
                r, c = r + sign * dr, c + sign * dc
        best = max(best, count)
    return best


def grid_text(grid: list[list[str]], labels: list[str]) -> str:
    """The grid with one label per column above and below."""
    width = max(len(label) for label in labels)
    head = " ".join(label.rjust(width) for label in labels)
    body = [" ".join(cell.rjust(width) for cell in row) for row in grid]
    return "\n".join([head, *body, head])


class ConnectFourState(ForkedRng, State):
    max_utility = 1.0  # a win (win_loss returns): what MCTS-Solver may prove
    game_id = "connect-four"

    def __init__(self, seed: int | None = None, rows: int = 6, cols: int = 7, connect: int = 4) -> None:
        if rows < 1 or cols < 1 or connect < 2:
            raise ValueError("rows and cols must be at least 1 and connect at least 2")
        if connect > max(rows, cols):
            raise ValueError(f"connect={connect} cannot fit on a {rows}x{cols} board")
        super().__init__(2, seed)
        self.rows, self.cols, self.connect = rows, cols, connect
        self.action_vocab = tuple(str(c + 1) for c in range(cols))
        self.grid = [[EMPTY] * cols for _ in range(rows)]  # row 0 is the top
        self.heights = [0] * cols
        self.history: list[str] = []
        self.winner: int | None = None

    # --- the flow ---------------------------------------------------------
    def _full(self) -> bool:
        return len(self.history) == self.rows * self.cols

    def to_move(self) -> list[int]:
        if self.winner is not None or self._full():
            return []
        return [len(self.history) % 2]

    def legal_actions(self, player: int) -> list[str] | None:
        if player not in self.to_move():
            return []
        return [a for a, h in zip(self.action_vocab, self.heights) if h < self.rows]

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if not self.to_move() else f"it is {SYMBOLS[1 - player]}'s turn")
        col = self.action_vocab.index(action) if action in self.action_vocab else -1
        if col < 0 or self.heights[col] >= self.rows:
            raise IllegalAction(self._why(action))
        row = self.rows - 1 - self.heights[col]
        self.grid[row][col] = SYMBOLS[player]
        self.heights[col] += 1
        self.history.append(action)
        if line_length(self.grid, row, col) >= self.connect:
            self.winner = player

    def returns(self) -> list[float]:
        return win_loss(self.winner)

    def clone(self) -> ConnectFourState:
        new = self._fork()
        new.grid = [row[:] for row in self.grid]
        new.heights, new.history = self.heights[:], self.history[:]
        return new

    # --- what players see -------------------------------------------------
    def rules_text(self, player: int) -> str:
        return (f"You are playing connect-{self.connect} on a board of {self.rows} rows and {self.cols} columns "
                f"against another player. You play {SYMBOLS[player]}; X moves first. Players take turns dropping "
                "a disc into a column; it falls to the lowest empty cell. The first to get "
                f"{self.connect} discs in a row horizontally, vertically or diagonally wins (+1, the loser -1); "
                "a full board without such a line is a draw (0).\n"
                f"When it is your turn, answer with the number of one column that is not full (1-{self.cols}).")

    def observation(self, player: int) -> str:
        lines = [f"You are {SYMBOLS[player]}. Board (top row first, columns numbered):",
                 grid_text(self.grid, list(self.action_vocab)),
                 f"Moves so far (columns): {' '.join(self.history) or '(none yet)'}"]
        if self.winner is not None:
            lines.append(f"The game is over: {SYMBOLS[self.winner]} wins.")
        elif self._full():
            lines.append("The game is over: the board is full, a draw.")
        else:
            turn = SYMBOLS[self.to_move()[0]]
            lines.append(f"{turn} to move. Columns with room: {', '.join(self.legal_actions(self.to_move()[0]))}")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"board": "rows of cells, top row first ('.' empty)", "heights": "discs in each column",
                 "symbol": "your disc", "legal": "the legal columns", "history": "every move so far",
                 "connect": "discs in a row that win"}

    def observation_data(self, player: int) -> dict[str, Any]:
        return {"board": [row[:] for row in self.grid], "heights": self.heights[:], "symbol": SYMBOLS[player],
                "legal": self.legal_actions(player), "history": self.history[:], "connect": self.connect}

    def metrics(self) -> dict[str, Any]:
        return {"winner": self.winner, "moves": len(self.history)}

    # --- answers ----------------------------------------------------------
    def parse(self, player: int, text: str) -> str:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if not self.to_move() else "it is not your turn")
        answer = text.strip()
        numbers = list(dict.fromkeys(re.findall(r"\d+", answer)))
        legal = self.legal_actions(player)
        if len(numbers) == 1:
            if numbers[0].lstrip("0") in legal:
                return numbers[0].lstrip("0")
            raise IllegalAction(f"{self._why(numbers[0])}; choose one of: {', '.join(legal)}")
        snippet = answer[:60] + ("..." if len(answer) > 60 else "")
        if numbers:
            raise IllegalAction(f"'{snippet}' names several columns ({', '.join(numbers)}); "
                                f"answer with exactly one of: {', '.join(legal)}")
        raise IllegalAction(f"'{snippet}' names no column; answer with one column number: {', '.join(legal)}")

    def _why(self, action: str) -> str:
        if action.isdigit() and 1 <= int(action) <= self.cols:
            return f"column {int(action)} is full"
        return f"there is no column {action}; columns are numbered 1 to {self.cols}"


GAMES = {
    "connect-four": GameInfo("connect-four", ConnectFourState, {"rows": 6, "cols": 7, "connect": 4},
                             "connect four on a 6x7 board (rows/cols/connect adjustable)",
                             win="connecting four of your discs first; a full board is a draw"),
}
