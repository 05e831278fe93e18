"""Chess trajectories as PGN: rebuilt from the steps (UCI actions) with python-chess.

``export_pgn(traj)`` writes one game with the Seven Tag Roster (Event ``arena``,
Site, Date, Round = match id, White/Black = the seat-0/seat-1 player names,
Result), ``Termination`` (``normal``; ``adjudication`` for the max-plies draw;
``rules infraction`` for an illegal-move forfeit, ``time forfeit``, or ``abandoned``
when an agent crashed — the reason then stands in a comment after the last move),
and for Chess960 ``Variant "Chess960"`` with ``SetUp``/``FEN`` (also for any other
non-standard start).  The start position is the trajectory's recorded
``start_fen`` metric, else it is rebuilt from the game spec and seed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import chess
import chess.pgn

from arena.trajectory import Trajectory

COLOURS = ("White", "Black")


def start_board(traj: Trajectory) -> chess.Board:
    """The position the match started from."""
    chess960 = traj.game.partition(":")[0] == "chess960"
    fen = (traj.outcome.metrics.get("start_fen") if traj.outcome else None)
    if fen:
        return chess.Board(fen, chess960=chess960)
    from arena.games.registry import parse_game
    state = parse_game(traj.game).make(traj.seed)
    if not isinstance(getattr(state, "board", None), chess.Board):
        raise ValueError(f"{traj.game} is not a chess game")
    return chess.Board(getattr(state, "start_fen", state.board.fen()), chess960=chess960)


def _termination(traj: Trajectory) -> tuple[str, str, str]:
    """(Result, Termination, comment) of a finished trajectory."""
    outcome = traj.outcome
    if outcome is None:
        return "*", "unterminated", ""
    if outcome.reason == "forfeit":
        loser = outcome.forfeited_by if outcome.forfeited_by is not None else 0
        detail = outcome.detail or "forfeit"
        kind = ("time forfeit" if "no answer within the time limit" in detail
                else "rules infraction" if detail.startswith("illegal") else "abandoned")
        return ("0-1" if loser == 0 else "1-0"), kind, f"{COLOURS[loser]} forfeits: {detail}"
    result = outcome.metrics.get("result", "*")
    reason = outcome.metrics.get("termination", "")
    if result == "*":
        return "*", "unterminated", ""
    return result, ("adjudication" if reason.startswith("adjudication") else "normal"), reason


def export_pgn(traj: Trajectory) -> str:
    """One chess trajectory as a PGN game (text, ending in a blank line)."""
    board = start_board(traj)
    game = chess.pgn.Game()
    game.setup(board)
    if board.chess960:
        game.headers["SetUp"], game.headers["FEN"] = "1", board.fen()
    result, termination, comment = _termination(traj)
    names = {p.seat: p.name for p in traj.players}
    date = time.strftime("%Y.%m.%d", time.gmtime(traj.started)) if traj.started else "????.??.??"
    game.headers.update({"Event": "arena", "Site": "arena", "Date": date, "Round": traj.match_id,
                         "White": names.get(0, "?"), "Black": names.get(1, "?"), "Result": result,
                         "Termination": termination})
    node: chess.pgn.GameNode = game
    for step in traj.steps:
        move = board.parse_uci(step.action)
        board.push(move)
        node = node.add_variation(move)
    if comment:
        node.comment = comment
    return str(game) + "\n\n"


def export_pgn_many(trajs: Iterable[Trajectory]) -> str:
    """Several chess trajectories as one PGN file (games separated by blank lines)."""
    return "".join(export_pgn(t) for t in trajs)
