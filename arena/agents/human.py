"""A human seat: a person plays in the terminal.

Each turn shows the game's own text for the seat (what an LLM would read), a board drawn
with Rich where the structured observation has one (chess, connect four, tic-tac-toe,
hex, poker), the legal actions, and, after a refused answer, the same explanation an LLM
gets.  Free-text games accept a typed message.  No time limit unless the match sets one.
Nothing here reads more than the seat's own observation (``turn.text`` and ``turn.data``).
"""

from __future__ import annotations

import signal
import threading
from typing import Any, TextIO

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from arena.agents.base import AgentInfo, Decision, Turn

PIECES = dict(zip("KQRBNPkqrbnp", "♔♕♖♗♘♙♚♛♜♝♞♟"))


def chess_board(board: list[list[str]], flipped: bool) -> Table:
    grid = Table.grid(padding=0)
    ranks = list(range(8))
    files = list(range(8))
    if flipped:
        ranks, files = ranks[::-1], files[::-1]
    for r in ranks:
        cells = [Text(f"{8 - r} ", style="dim")]
        for f in files:
            piece = board[r][f]
            style = ("bold white" if piece.isupper() else "bold black") + (" on #b58863" if (r + f) % 2 else " on #f0d9b5")
            cells.append(Text(f" {PIECES.get(piece, ' ')} ", style=style))
        grid.add_row(*cells)
    grid.add_row(Text("  "), *(Text(f" {'abcdefgh'[f]} ", style="dim") for f in files))
    return grid


def cell_grid(board: list[list[str]], hexagonal: bool, columns: list[str] | None) -> Text:
    colours = {"X": "bold red", "O": "bold blue"}
    out = Text()
    if columns:
        out.append("   " + " ".join(c.rjust(2) for c in columns) + "\n", style="dim")
    for r, row in enumerate(board):
        out.append(f"{r + 1:>2} " if hexagonal else "   ", style="dim")
        out.append(" " * r if hexagonal else "")
        for cell in row:
            out.append(cell.rjust(2) + " ", style=colours.get(cell, "dim"))
        out.append("\n")
    return out


def poker_table(data: dict[str, Any]) -> Table:
    table = Table(show_header=False, box=None)
    mine = data.get("hole") or ([data["card"]] if data.get("card") else [])
    table.add_row("your cards", " ".join(mine) or "–")
    board = data.get("board")
    table.add_row("board", " ".join(board) if isinstance(board, list) else (board or "–"))
    table.add_row("pot", str(data.get("pot", "–")))
    if "stacks" in data:
        table.add_row("stacks", ", ".join(f"seat {s}: {c}" for s, c in enumerate(data["stacks"])))
    if data.get("to_call"):
        table.add_row("to call", str(data["to_call"]))
    return table


def board_view(turn: Turn) -> Any:
    """A Rich renderable of the seat's structured observation, or None when the game has none."""
    data = turn.data or {}
    game = turn.game_id
    if game in ("chess", "chess960") and isinstance(data.get("board"), list):
        return chess_board(data["board"], flipped=data.get("colour") == "black")
    if game in ("connect-four", "hex", "tic-tac-toe") and isinstance(data.get("board"), list):
        columns = ([str(c + 1) for c in range(len(data["board"][0]))] if game == "connect-four" else
                   [chr(97 + c) for c in range(len(data["board"][0]))] if game == "hex" else None)
        board = data["board"]
        if game == "tic-tac-toe":
            board = [[c if c != "." else str(3 * r + k + 1) for k, c in enumerate(row)] for r, row in enumerate(board)]
        return cell_grid(board, game == "hex", columns)
    if data.get("game") in ("holdem", "kuhn-poker", "leduc-poker") and not data.get("over"):
        return poker_table(data)
    return None


def read_line(console: Console, prompt: str, stream: TextIO | None = None) -> str:
    """One typed line (from ``stream``, default the terminal).  Ctrl-C interrupts it (an event loop's
    SIGINT handler would only act after the line is entered); the end of the input is the seat's error."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if main else None
    try:
        line = console.input(prompt, stream=stream)
        if stream is not None and not line:
            raise EOFError
        return line
    except EOFError:
        raise RuntimeError("the human's input ended (end of file)") from None
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


class HumanAgent:
    """A person at this terminal (``arena play GAME --agent OPPONENT``)."""

    name = "human"

    def __init__(self, console: Console | None = None, stream: TextIO | None = None) -> None:
        self.console = console or Console()
        self.stream = stream
        self._rules_shown: set[str] = set()

    def reset(self, match_info: dict[str, Any]) -> None:
        self._rules_shown.clear()
        players = match_info.get("players") or []
        seat = match_info.get("player")
        self.console.rule(f"{match_info.get('game', '')}: you are seat {seat}"
                          + (f" against {', '.join(p for i, p in enumerate(players) if i != seat)}" if players else ""))

    def act(self, turn: Turn) -> Decision:
        c = self.console
        if turn.rules and turn.rules not in self._rules_shown:
            c.print(Panel(Text(turn.rules), title="rules", border_style="dim"))
            self._rules_shown.add(turn.rules)
        view = board_view(turn)
        if view is not None:
            c.print(view)
        c.print(Panel(Text(turn.text), title=f"you (seat {turn.player}) see", border_style="cyan"))
        if turn.feedback:
            c.print(Text(f"refused: {turn.feedback}", style="bold red"))
        if turn.legal_actions is not None:
            c.print(Text("legal: " + ", ".join(turn.legal_actions), style="green"))
            prompt = "your move> "
        else:
            if turn.answer_pattern:
                c.print(Text(f"answer format: {turn.answer_pattern}", style="dim"))
            prompt = "your message> "
        return Decision(action=read_line(c, prompt, self.stream).strip(), info={"human": True})

    def finish(self, result: dict[str, Any]) -> None:
        outcome = result.get("outcome")
        self.console.print(Panel(Text(result.get("final_observation", "")), title="final position",
                                 border_style="dim"))
        if outcome is not None:
            seat = result["player"]
            verdict = {1: "you win" if outcome.ranks.count(1) == 1 else "draw"}.get(outcome.ranks[seat], "you lose")
            self.console.print(Text(f"{verdict}: scores {outcome.scores} ({outcome.reason})", style="bold"))


AGENTS = {"human": AgentInfo(HumanAgent, {}, "a person playing at this terminal (arena play)")}
