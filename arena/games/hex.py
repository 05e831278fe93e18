"""Hex on a size x size rhombus.

Card
- Players: 2; player 0 plays X, moves first and connects the top edge (row 1) to the
  bottom edge (row ``size``); player 1 plays O and connects the left edge (column a)
  to the right edge (the last column).
- Actions: a cell named by column letter and row number, "a1".."k11" on the default
  11x11 board (``size`` 1..26).  With ``swap=true`` (the pie rule, default off) the
  second player's first move may be "swap": the first stone is replaced by an O
  stone on its mirror image across the long diagonal (e.g. X c2 -> O b3), which is
  the same as swapping sides, and X moves next.
- Observation: the board as text, each row shifted half a cell further right so the
  six neighbours of a cell are visible (left/right, two above, two below), the moves
  so far, whose turn.  ``observation_data``: ``board`` (rows top first, "X"/"O"/"."),
  legal cells.  Nothing is hidden.
- Rules: cells (r, c) and (r', c') touch when (r'-r, c'-c) is one of (0, ±1), (-1, 0),
  (-1, +1), (+1, 0), (+1, -1).  Wins are found with a union-find over the stones and
  four virtual edge nodes.  Hex has no draws: a full board always has exactly one winner.
- Scoring: zero-sum, win +1, loss -1.  Metrics: ``winner``, ``moves``, ``swapped``.
- Setup: the hex game of Schultz et al. (planning with language models in board
  games).  Version 1.
"""

from __future__ import annotations

import re
import string
from typing import Any

from arena.games.base import ForkedRng, GameInfo, IllegalAction, State, win_loss

SYMBOLS = ("X", "O")
EMPTY = "."
SWAP = "swap"
NEIGHBOURS = ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, 0), (1, -1))
CELL_RE = re.compile(r"(?<![a-z])([a-z])(\d{1,2})(?!\d)")


def cell_name(row: int, col: int) -> str:
    return f"{string.ascii_lowercase[col]}{row + 1}"


def connected(grid: list[list[str]], player: int) -> bool:
    """Does ``player`` join its two edges on ``grid``?  (Breadth-first search, independent of the union-find.)"""
    size, mark = len(grid), SYMBOLS[player]
    frontier = [(0, c) if player == 0 else (c, 0) for c in range(size)]
    seen = {cell for cell in frontier if grid[cell[0]][cell[1]] == mark}
    queue = list(seen)
    while queue:
        r, c = queue.pop()
        if (r if player == 0 else c) == size - 1:
            return True
        for dr, dc in NEIGHBOURS:
            n = (r + dr, c + dc)
            if 0 <= n[0] < size and 0 <= n[1] < size and n not in seen and grid[n[0]][n[1]] == mark:
                seen.add(n)
                queue.append(n)
    return False


class HexState(ForkedRng, State):
    max_utility = 1.0  # a win (win_loss returns): what MCTS-Solver may prove
    game_id = "hex"

    def __init__(self, seed: int | None = None, size: int = 11, swap: bool = False) -> None:
        if not 1 <= size <= 26:
            raise ValueError(f"size must be 1..26, got {size}")
        super().__init__(2, seed)
        self.size, self.swap = size, swap
        cells = tuple(cell_name(r, c) for r in range(size) for c in range(size))
        self.action_vocab = cells + ((SWAP,) if swap else ())
        self.grid = [[EMPTY] * size for _ in range(size)]
        self.history: list[str] = []
        self.swapped = False
        self.winner: int | None = None
        n = size * size
        self.top, self.bottom, self.left, self.right = n, n + 1, n + 2, n + 3
        self.parent = list(range(n + 4))

    # --- union-find ---------------------------------------------------------
    def _find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[ra] = rb

    def _place(self, row: int, col: int, player: int) -> None:
        self.grid[row][col] = SYMBOLS[player]
        me, size = row * self.size + col, self.size
        for dr, dc in NEIGHBOURS:
            r, c = row + dr, col + dc
            if 0 <= r < size and 0 <= c < size and self.grid[r][c] == SYMBOLS[player]:
                self._union(me, r * size + c)
        if player == 0:
            edges = [self.top] * (row == 0) + [self.bottom] * (row == size - 1)
            pair = (self.top, self.bottom)
        else:
            edges = [self.left] * (col == 0) + [self.right] * (col == size - 1)
            pair = (self.left, self.right)
        for edge in edges:
            self._union(me, edge)
        if self._find(pair[0]) == self._find(pair[1]):
            self.winner = player

    # --- the flow ---------------------------------------------------------
    def to_move(self) -> list[int]:
        return [] if self.winner is not None else [len(self.history) % 2]

    def _swap_allowed(self) -> bool:
        return self.swap and len(self.history) == 1

    def legal_actions(self, player: int) -> list[str] | None:
        if player not in self.to_move():
            return []
        cells = [cell_name(r, c) for r in range(self.size) for c in range(self.size) if self.grid[r][c] == EMPTY]
        return cells + [SWAP] * self._swap_allowed()

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if self.winner is not None else "it is not your turn")
        if action == SWAP and self._swap_allowed():
            self._do_swap()
        else:
            row, col = self._locate(action)
            self._place(row, col, player)
        self.history.append(action)

    def _do_swap(self) -> None:
        row, col = self._locate(self.history[0], taken_ok=True)
        self.grid[row][col] = EMPTY
        self.parent = list(range(len(self.parent)))
        self.swapped = True
        self._place(col, row, 1)

    def _locate(self, action: str, taken_ok: bool = False) -> tuple[int, int]:
        m = re.fullmatch(r"([a-z])(\d{1,2})", action)
        if not m:
            corner = cell_name(self.size - 1, self.size - 1)
            raise IllegalAction(f"{action!r} is not a cell; name one like a1 or {corner}")
        col, row = string.ascii_lowercase.index(m.group(1)), int(m.group(2)) - 1
        if not (0 <= row < self.size and 0 <= col < self.size):
            last = string.ascii_lowercase[self.size - 1]
            raise IllegalAction(f"{action} is off the board (columns a-{last}, rows 1-{self.size})")
        if self.grid[row][col] != EMPTY and not taken_ok:
            raise IllegalAction(f"{action} is already taken by {self.grid[row][col]}")
        return row, col

    def returns(self) -> list[float]:
        return win_loss(self.winner)

    def clone(self) -> HexState:
        new = self._fork()
        new.grid = [row[:] for row in self.grid]
        new.history, new.parent = self.history[:], self.parent[:]
        return new

    # --- what players see -------------------------------------------------
    def rules_text(self, player: int) -> str:
        last = string.ascii_lowercase[self.size - 1]
        goal = ("the top edge (row 1) to the bottom edge (row {n})" if player == 0
                else "the left edge (column a) to the right edge (column {c})").format(n=self.size, c=last)
        swap = (" Swap rule: on the second move of the game O may answer 'swap' instead of a cell; the first "
                "X stone is then replaced by an O stone on its mirror cell (column and row exchanged) and X "
                "moves next." if self.swap else "")
        return (f"You are playing Hex on a {self.size}x{self.size} board against another player. You play "
                f"{SYMBOLS[player]}; X moves first. Players take turns placing a stone on an empty cell. Your goal "
                f"is an unbroken chain of your stones from {goal}. Each cell touches six others: left and right, "
                "the two cells above it (same column and one to the right) and the two below it (same column and "
                f"one to the left). Hex has no draws; the winner scores +1, the loser -1.{swap}\n"
                "When it is your turn, answer with one empty cell as column letter and row number "
                f"(a1-{last}{self.size}).")

    def board_text(self) -> str:
        head = "   " + " ".join(string.ascii_lowercase[:self.size])
        lines = [head]
        for r in range(self.size):
            lines.append(" " * r + f"{r + 1:>2} " + " ".join(self.grid[r]) + f" {r + 1}")
        lines.append(" " * (self.size - 1) + head)
        return "\n".join(lines)

    def observation(self, player: int) -> str:
        side = "top-bottom" if player == 0 else "left-right"
        lines = [f"You are {SYMBOLS[player]} ({side}). Board (X joins top and bottom, O joins left and right):",
                 self.board_text(),
                 f"Moves so far: {' '.join(self.history) or '(none yet)'}"]
        if self.winner is not None:
            lines.append(f"The game is over: {SYMBOLS[self.winner]} wins.")
        else:
            turn = self.to_move()[0]
            swap = " You may also answer 'swap'." if self._swap_allowed() and turn == player else ""
            lines.append(f"{SYMBOLS[turn]} to move.{swap}")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"board": "rows of cells ('.' empty)", "size": "the board's side", "symbol": "your stone",
                 "legal": "the legal cells", "history": "every move so far",
                 "swapped": "whether the swap rule was used"}

    def observation_data(self, player: int) -> dict[str, Any]:
        return {"board": [row[:] for row in self.grid], "size": self.size, "symbol": SYMBOLS[player],
                "legal": self.legal_actions(player), "history": self.history[:], "swapped": self.swapped}

    def metrics(self) -> dict[str, Any]:
        return {"winner": self.winner, "moves": len(self.history), "swapped": self.swapped}

    # --- answers ----------------------------------------------------------
    def parse(self, player: int, text: str) -> str:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if self.winner is not None else "it is not your turn")
        answer = text.strip().lower()
        snippet = text.strip()[:60] + ("..." if len(text.strip()) > 60 else "")
        if re.search(r"\bswap\b", answer) and not CELL_RE.search(answer):
            if self._swap_allowed():
                return SWAP
            raise IllegalAction("'swap' is only allowed as O's first move when the swap rule is on; "
                                "answer with an empty cell")
        cells = list(dict.fromkeys(f"{c}{int(n)}" for c, n in CELL_RE.findall(answer)))
        if len(cells) == 1:
            self._locate(cells[0])
            return cells[0]
        if cells:
            raise IllegalAction(f"'{snippet}' names several cells ({', '.join(cells)}); answer with exactly one")
        raise IllegalAction(f"'{snippet}' names no cell; answer with one empty cell like a1 or "
                            f"{cell_name(self.size // 2, self.size // 2)}")


GAMES = {
    "hex": GameInfo("hex", HexState, {"size": 11, "swap": False},
                    "Hex on a size x size board (default 11); X top-bottom, O left-right; optional swap rule",
                    win="connecting your two sides of the board (hex has no draws)"),
}
