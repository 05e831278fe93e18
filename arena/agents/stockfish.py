"""``stockfish``: the Stockfish chess engine through python-chess's UCI driver, a calibration opponent.

Strength: ``skill=0..20`` (Stockfish's Skill Level), or ``elo=N`` (UCI_LimitStrength;
the engine states its range, 1350-2850 for Stockfish 15); search limit ``depth=N``
and/or ``movetime=SECONDS`` (0.1 s when neither is set).  The position comes from
``turn.state.board`` (a ``chess.Board``, with its move stack so repetitions count), else
``turn.state.fen`` / ``turn.data["fen"]``; the answer is the move in UCI (``e2e4``), or
in SAN when the game's legal actions are SAN.  The binary is ``path=...``, else
``stockfish`` on PATH, else ``/usr/games/stockfish`` (Debian's package).
"""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn

DEBIAN_PATH = "/usr/games/stockfish"


def find_stockfish(path: str = "") -> str | None:
    """The Stockfish binary to run, or None when it is not installed."""
    if path:
        return path if Path(path).is_file() else shutil.which(path)
    found = shutil.which("stockfish")
    return found or (DEBIAN_PATH if Path(DEBIAN_PATH).is_file() else None)


class StockfishAgent:
    """Stockfish over UCI; the engine process starts on the first move and lives with the agent."""

    needs_state = True

    def __init__(self, skill: int = -1, elo: int = 0, depth: int = 0, movetime: float = 0.0, threads: int = 1,
                 hash: int = 16, path: str = "") -> None:
        try:
            import chess  # noqa: F401  (python-chess)
        except ImportError:
            raise ValueError("stockfish needs python-chess: pip install chess") from None
        binary = find_stockfish(path)
        if binary is None:
            raise ValueError("stockfish not found: apt-get install stockfish")
        if not -1 <= skill <= 20 or elo < 0 or depth < 0 or movetime < 0:
            raise ValueError("skill is 0..20 (-1 = full strength), elo/depth/movetime >= 0")
        if skill >= 0 and elo:
            raise ValueError("give skill or elo, not both")
        self.binary, self.skill, self.elo = binary, skill, elo
        self.depth, self.movetime = depth, movetime
        self.options: dict[str, Any] = {"Threads": threads, "Hash": hash}
        self.engine: Any = None
        self._match = ""

    def _open(self) -> Any:
        import chess.engine
        engine = chess.engine.SimpleEngine.popen_uci(self.binary)
        self._finalizer = weakref.finalize(self, engine.quit)
        options = dict(self.options)
        if self.skill >= 0:
            options["Skill Level"] = self.skill
        if self.elo:
            spec = engine.options.get("UCI_Elo")
            if spec is not None and not spec.min <= self.elo <= spec.max:
                engine.quit()
                raise ValueError(f"elo={self.elo} is outside this Stockfish's range {spec.min}..{spec.max}")
            options.update({"UCI_LimitStrength": True, "UCI_Elo": self.elo})
        engine.configure(options)
        return engine

    def reset(self, match_info: dict[str, Any]) -> None:
        self._match = str(match_info.get("match_id", ""))

    def close(self) -> None:
        if self.engine is not None:
            self._finalizer()
            self.engine = None

    def act(self, turn: Turn) -> Decision:
        import chess.engine
        board = board_of(turn)
        if self.engine is None:
            self.engine = self._open()
        limit = chess.engine.Limit(depth=self.depth or None,
                                   time=self.movetime or (None if self.depth else 0.1))
        result = self.engine.play(board, limit, game=self._match or None, info=chess.engine.INFO_SCORE)
        move = result.move
        if move is None:
            raise RuntimeError(f"stockfish returned no move for {board.fen()}")
        answer = move.uci()
        if turn.legal_actions and answer not in turn.legal_actions and board.san(move) in turn.legal_actions:
            answer = board.san(move)
        score = result.info.get("score")
        info = {"engine": self.engine.id.get("name", "stockfish"), "fen": board.fen(),
                "score_cp": score.pov(board.turn).score(mate_score=100000) if score is not None else None}
        return Decision(answer, info=info)


def board_of(turn: Turn) -> Any:
    """The position to play from: the state's python-chess board, else a FEN."""
    import chess
    board = getattr(turn.state, "board", None)
    if isinstance(board, chess.Board):
        return board.copy()
    fen = getattr(turn.state, "fen", None)
    fen = fen() if callable(fen) else fen
    fen = fen or turn.data.get("fen")
    if not fen:
        raise ValueError("stockfish needs a chess position: turn.state.board (python-chess) or turn.data['fen']")
    return chess.Board(fen, chess960=bool(turn.data.get("chess960", False)))


AGENTS = {
    "stockfish": AgentInfo(StockfishAgent, {"skill": -1, "elo": 0, "depth": 0, "movetime": 0.0, "threads": 1,
                                            "hash": 16, "path": ""},
                           "Stockfish chess engine over UCI (skill=0..20 or elo=N; depth, movetime)", ("chess",)),
}
