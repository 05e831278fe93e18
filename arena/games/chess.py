"""Chess and Chess960 on python-chess.

Card
- Players: 2; player 0 is White, player 1 is Black.
- Actions: one move.  Answers may be SAN (``Nf3``, ``exd5``, ``O-O``, ``e8=Q``) or UCI
  (``g1f3``, ``e7e8q``); the canonical action string is UCI.  In Chess960, castling
  in UCI is king-takes-own-rook (``e1h1``), as python-chess writes it.  The PettingZoo
  action space is the fixed list :data:`UCI_VOCAB` of every UCI string that can ever
  be legal (1968: all queen-line and knight from-to pairs, plus the 176 promotions).
- Observation: ASCII board (White at the bottom), FEN, side to move, check, the
  moves so far in SAN, the legal moves in SAN and UCI.  ``observation_data``: board
  matrix, FEN, legal UCI/SAN, history in UCI.  Nothing is hidden.
- Rules: python-chess does all of them.  The game ends at checkmate, stalemate,
  insufficient material, threefold repetition (automatic once a position has
  occurred three times, ``Board.is_repetition(3)``; a repetition that could be
  reached next move is not claimed), the fifty-move rule (automatic at 100 halfmoves
  without capture or pawn move; checkmate on that move still wins), or ``max_plies``
  (default 400: a draw by adjudication).
- Scoring: zero-sum, winner +1, loser -1, draw 0 each.  Metrics: ``result``
  ("1-0", "0-1", "1/2-1/2", "*"), ``termination``, ``plies``, ``start_fen``,
  ``final_fen``, ``chess960_position``.
- Params: chess ``max_plies``, ``fen`` (start position, default the standard one);
  chess960 ``position`` (0..959, -1 = drawn from the state's seed; 518 is the standard
  start) and ``max_plies``.
- Setup: the chess / Chess960 games of Schultz et al. (planning with language models
  in board games).  Version 1.
"""

from __future__ import annotations

import re
from typing import Any

import chess

from arena.games.base import ForkedRng, GameInfo, IllegalAction, State

COLOURS = ("White", "Black")
PIECE_NAMES = {"N": "knight", "B": "bishop", "R": "rook", "Q": "queen", "K": "king", "": "pawn"}
UCI_RE = re.compile(r"^([a-h][1-8])([a-h][1-8])([qrbn]?)$")
SAN_RE = re.compile(r"^([NBRQK])?([a-h])?([1-8])?(x)?([a-h][1-8])(=?[NBRQ])?[+#]?$")
CASTLE_RE = re.compile(r"^([O0])-\1(-\1)?[+#]?$")
MOVE_NUMBER = re.compile(r"^\d+\.+")


def _uci_vocab() -> tuple[str, ...]:
    """Every UCI string that can be legal in chess or Chess960, in a fixed order."""
    moves = []
    for a in chess.SQUARES:
        for b in chess.SQUARES:
            df = abs(chess.square_file(a) - chess.square_file(b))
            dr = abs(chess.square_rank(a) - chess.square_rank(b))
            if a != b and (df == 0 or dr == 0 or df == dr or {df, dr} == {1, 2}):
                moves.append(chess.square_name(a) + chess.square_name(b))
    for start, end in ((6, 7), (1, 0)):
        for f in range(8):
            for g in (f - 1, f, f + 1):
                if 0 <= g < 8:
                    moves += [chess.square_name(chess.square(f, start)) + chess.square_name(chess.square(g, end))
                              + p for p in "qrbn"]
    return tuple(moves)


UCI_VOCAB = _uci_vocab()


class ChessState(ForkedRng, State):
    """A chess (or Chess960) game; ``board`` may hold a truncated move stack in clones.

    The full record is ``start_fen`` + ``moves`` (UCI); ``board``'s stack always covers
    the moves since the last capture or pawn move, which is all repetition needs.
    """

    action_vocab = UCI_VOCAB

    def __init__(self, seed: int | None = None, max_plies: int = 400, fen: str = "",
                 chess960: bool = False, position: int = -1) -> None:
        super().__init__(2, seed)
        if max_plies < 1:
            raise ValueError("max_plies must be at least 1")
        self.game_id = "chess960" if chess960 else "chess"
        self.max_plies, self.chess960, self.position = max_plies, chess960, None
        if chess960 and not fen:
            self.position = position if position >= 0 else self.rng.randrange(960)
            if self.position > 959:
                raise ValueError(f"Chess960 position must be 0..959 (or -1 for random), got {position}")
            self.board = chess.Board.from_chess960_pos(self.position)
        else:
            self.board = _board_from_fen(fen or chess.STARTING_FEN, chess960)
        self.start_fen = self.board.fen()
        self.moves: list[str] = []
        self._san: list[str] = []
        self._update()

    # --- the flow ---------------------------------------------------------
    def _update(self) -> None:
        """Cache the legal moves and the result of the current position."""
        board = self.board
        self._legal = [m.uci() for m in board.legal_moves]
        self._legal_san: list[str] | None = None
        self.end: tuple[str, str] | None = None
        if not self._legal:
            loser = board.turn
            self.end = (("0-1" if loser == chess.WHITE else "1-0"), "checkmate") if board.is_check() \
                else ("1/2-1/2", "stalemate")
        elif board.is_insufficient_material():
            self.end = ("1/2-1/2", "insufficient material")
        elif board.halfmove_clock >= 100:
            self.end = ("1/2-1/2", "fifty-move rule")
        elif board.is_repetition(3):
            self.end = ("1/2-1/2", "threefold repetition")
        elif len(self.moves) >= self.max_plies:
            self.end = ("1/2-1/2", "adjudication (max plies)")
        if self.end:
            self._legal = []

    def to_move(self) -> list[int]:
        return [] if self.end else [0 if self.board.turn == chess.WHITE else 1]

    def legal_actions(self, player: int) -> list[str] | None:
        return list(self._legal) if player in self.to_move() else []

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if self.end else f"it is {self._colour()}'s turn")
        if action not in self._legal:
            raise IllegalAction(f"{action} is illegal here: {self._why(action) or 'not a legal move'}")
        self.board.push(chess.Move.from_uci(action))
        self.moves.append(action)
        self._update()

    def returns(self) -> list[float]:
        result = self.end[0] if self.end else "*"
        return {"1-0": [1.0, -1.0], "0-1": [-1.0, 1.0]}.get(result, [0.0, 0.0])

    def clone(self) -> ChessState:
        new = self._fork()
        new.board = copy_board(self.board, self.board.halfmove_clock)
        new.moves, new._san = list(self.moves), list(self._san)
        return new

    # --- what players see -------------------------------------------------
    def _colour(self) -> str:
        return COLOURS[0 if self.board.turn == chess.WHITE else 1]

    def start_board(self) -> chess.Board:
        return _board_from_fen(self.start_fen, self.chess960)

    def history_san(self) -> list[str]:
        """The moves so far in SAN (computed lazily, cached)."""
        missing = len(self.moves) - len(self._san)
        if missing:
            if missing <= len(self.board.move_stack):
                board = self.board.copy(stack=missing)
                tail = [board.pop() for _ in range(missing)][::-1]
            else:
                board = self.start_board()
                for uci in self.moves[:len(self._san)]:
                    board.push_uci(uci)
                tail = [chess.Move.from_uci(u) for u in self.moves[len(self._san):]]
            self._san.extend(board.san_and_push(m) for m in tail)
        return self._san

    def legal_san(self) -> list[str]:
        """The legal moves in SAN, in the order of ``legal_actions`` (cached per position: ~15 us a move)."""
        if self._legal_san is None:
            self._legal_san = [self.board.san(chess.Move.from_uci(u)) for u in self._legal]
        return list(self._legal_san)

    def rules_text(self, player: int) -> str:
        variant = ("Chess960 (Fischer random chess: the pieces of the back rank start shuffled; castling "
                   "still ends with king and rook on g1/f1 or c1/d1 (g8/f8, c8/d8), and in UCI it is "
                   "written as the king taking its own rook, e.g. e1h1)") if self.chess960 else "chess"
        return (f"You are playing {variant} as {COLOURS[player]} against another player; White moves first. "
                "The usual FIDE rules apply. The game is drawn automatically by stalemate, insufficient "
                "material, threefold repetition (the third time the same position occurs) and the fifty-move "
                f"rule, and adjudicated a draw after {self.max_plies} plies in total. A win scores +1, a loss "
                "-1, a draw 0.\nWhen it is your turn, answer with exactly one legal move, in SAN (e.g. Nf3, "
                "exd5, O-O, e8=Q) or UCI (e.g. g1f3, e7e8q).")

    def board_text(self) -> str:
        rows = ["  a b c d e f g h"]
        for rank in range(7, -1, -1):
            cells = [self.board.piece_at(chess.square(f, rank)) for f in range(8)]
            rows.append(f"{rank + 1} " + " ".join(p.symbol() if p else "." for p in cells) + f" {rank + 1}")
        return "\n".join(rows + [rows[0]])

    def movetext(self) -> str:
        board = self.start_board()
        number, white = board.fullmove_number, board.turn == chess.WHITE
        parts = [] if white else [f"{number}..."]
        for san in self.history_san():
            if white:
                parts.append(f"{number}.")
            parts.append(san)
            number += 0 if white else 1
            white = not white
        return " ".join(parts) or "(none yet)"

    def observation(self, player: int) -> str:
        lines = [f"You are {COLOURS[player]}. Board (uppercase = White, lowercase = Black):", self.board_text(),
                 f"FEN: {self.board.fen()}", f"Moves so far: {self.movetext()}"]
        if self.end:
            lines.append(f"The game is over: {self.end[0]} ({self.end[1]}).")
            return "\n".join(lines)
        check = " and in check" if self.board.is_check() else ""
        lines.append(f"Ply {len(self.moves) + 1}: {self._colour()} to move{check}.")
        if player in self.to_move():
            pairs = ", ".join(f"{s} ({u})" for s, u in zip(self.legal_san(), self._legal))
            lines.append(f"Your legal moves, SAN (UCI): {pairs}")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"fen": "the position (FEN)", "board": "8 rows of pieces, rank 8 first ('.' empty)",
                 "colour": "'white' or 'black'", "to_move": "the colour to move",
                 "in_check": "whether the side to move is in check",
                 "legal_uci": "legal moves in UCI (empty when not your move)", "legal_san": "legal moves in SAN",
                 "history_uci": "every move so far (UCI)", "ply": "half-moves played",
                 "start_fen": "the starting position", "chess960": "whether this is Chess960"}

    def observation_data(self, player: int) -> dict[str, Any]:
        board = [[(p.symbol() if (p := self.board.piece_at(chess.square(f, r))) else ".") for f in range(8)]
                 for r in range(7, -1, -1)]
        mine = player in self.to_move()
        return {"fen": self.board.fen(), "board": board, "colour": COLOURS[player].lower(),
                "to_move": self._colour().lower(), "in_check": self.board.is_check(),
                "legal_uci": list(self._legal) if mine else [], "legal_san": self.legal_san() if mine else [],
                "history_uci": list(self.moves), "ply": len(self.moves), "start_fen": self.start_fen,
                "chess960": self.chess960}

    def metrics(self) -> dict[str, Any]:
        result, termination = self.end or ("*", "unterminated")
        return {"result": result, "termination": termination, "plies": len(self.moves),
                "start_fen": self.start_fen, "final_fen": self.board.fen(), "chess960_position": self.position}

    # --- answers ----------------------------------------------------------
    def parse(self, player: int, text: str) -> str:
        if player not in self.to_move():
            raise IllegalAction("the game is over" if self.end else f"it is {self._colour()}'s turn, not yours")
        answer = text.strip().strip("`'\"*[]() .").strip()
        tokens = [_clean(t) for t in re.split(r"[\s,;:]+", answer)]
        tokens = [t for t in tokens if t]
        whole = self._read(_clean(answer))
        if whole:
            return whole
        found = list(dict.fromkeys(m for t in tokens if (m := self._read(t))))
        if len(found) == 1:
            return found[0]
        legal = ", ".join(self.legal_san())
        snippet = answer[:60] + ("..." if len(answer) > 60 else "")
        if found:
            names = ", ".join(self.board.san(chess.Move.from_uci(u)) for u in found)
            raise IllegalAction(f"'{snippet}' names several legal moves ({names}); answer with exactly one. "
                                f"Legal moves: {legal}")
        for token in tokens:
            reason = self._why(token)
            if reason:
                head = "is ambiguous" if reason.startswith("several") else "is illegal here"
                raise IllegalAction(f"{token} {head}: {reason}. {self._colour()} to move; legal moves: {legal}")
        raise IllegalAction(f"'{snippet}' is not a move. Answer with one legal move in SAN (like Nf3) or UCI "
                            f"(like g1f3). {self._colour()} to move; legal moves: {legal}")

    def _read(self, token: str) -> str | None:
        """The legal UCI move a token names (UCI or SAN, lenient on case), else None."""
        tries = [token] + ([token[0].upper() + token[1:]] if token[:1] in "nrqkb" and len(token) > 2 else [])
        for t in tries:
            for reader in (self.board.parse_uci, self.board.parse_san):
                try:
                    move = reader(t)
                except (ValueError, IndexError):
                    continue
                if move.uci() in self._legal:
                    return move.uci()
        return None

    def _why(self, token: str) -> str | None:
        """Why a move-like token is illegal here, in words; None if it is not move-like."""
        if m := UCI_RE.match(token):
            return self._why_uci(token, m)
        if CASTLE_RE.match(token):
            side = "queenside" if token.count("-") == 2 else "kingside"
            return (f"castling {side} is not possible now (the king or that rook has moved, a square between "
                    "them is occupied, or the king is in check, passes through or lands on an attacked square)")
        m = SAN_RE.match(token)
        if not m:
            return None
        try:
            self.board.parse_san(token)
        except chess.AmbiguousMoveError:
            return self._why_ambiguous(token, m)
        except ValueError:
            pass
        letter, dest = m.group(1) or "", chess.parse_square(m.group(5))
        piece = chess.PIECE_SYMBOLS.index(letter.lower() or "p")
        near = [mv for mv in self.board.pseudo_legal_moves
                if mv.to_square == dest and self.board.piece_type_at(mv.from_square) == piece]
        if near and piece == chess.PAWN and not m.group(6) and chess.square_rank(dest) in (0, 7):
            return f"a pawn reaching the last rank must promote: write {token}=Q (queen), =R, =B or =N"
        if near:
            return self._king_safety()
        return self._blocked(dest) or f"no {self._colour().lower()} {PIECE_NAMES[letter]} can move to {m.group(5)}"

    def _why_uci(self, token: str, m: re.Match[str]) -> str:
        origin = chess.parse_square(m.group(1))
        piece = self.board.piece_at(origin)
        if piece is None:
            return f"there is no piece on {m.group(1)}"
        if piece.color != self.board.turn:
            owner = COLOURS[int(piece.color == chess.BLACK)]
            return f"the piece on {m.group(1)} is {owner}'s; you play {self._colour()}"
        if not m.group(3) and any(u.startswith(token) and len(u) == 5 for u in self._legal):
            return (f"a pawn reaching the last rank must promote: write {token}q (queen), {token}r, "
                    f"{token}b or {token}n")
        name = PIECE_NAMES[piece.symbol().upper() if piece.piece_type != chess.PAWN else ""]
        if self.board.is_pseudo_legal(chess.Move.from_uci(token)):
            return self._king_safety()
        blocked = self._blocked(chess.parse_square(m.group(2)))
        return blocked or f"your {name} on {m.group(1)} cannot move to {m.group(2)}"

    def _blocked(self, square: int) -> str | None:
        piece = self.board.piece_at(square)
        if piece is None or piece.color != self.board.turn:
            return None
        name = PIECE_NAMES[piece.symbol().upper() if piece.piece_type != chess.PAWN else ""]
        return f"{chess.square_name(square)} is occupied by your own {name}"

    def _why_ambiguous(self, token: str, m: re.Match[str]) -> str:
        dest = chess.parse_square(m.group(5))
        piece = chess.PIECE_SYMBOLS.index((m.group(1) or "p").lower())
        options = [self.board.san(mv) for mv in self.board.legal_moves
                   if mv.to_square == dest and self.board.piece_type_at(mv.from_square) == piece]
        return f"several pieces can go there; write one of {', '.join(options)}"

    def _king_safety(self) -> str:
        if self.board.is_check():
            return "you are in check and this move does not get your king out of check"
        return "it would leave your king in check"


def _clean(token: str) -> str:
    """Strip markup, move numbers and annotation marks from one token."""
    token = token.strip("`'\"*[](){}.,;:").strip()
    token = MOVE_NUMBER.sub("", token)
    return token.rstrip("!?")


def copy_board(board: chess.Board, plies: int) -> chess.Board:
    """``board.copy(stack=plies)`` without its defensive ``copy.copy`` of every Move (~20x
    faster; moves are never mutated, and the board states are shared by ``copy`` too)."""
    new = board.copy(stack=False)
    if plies and hasattr(board, "_stack"):
        new.move_stack = board.move_stack[-plies:]
        new._stack = board._stack[-plies:]
    elif plies:
        return board.copy(stack=plies)
    return new


def _board_from_fen(fen: str, chess960: bool) -> chess.Board:
    try:
        board = chess.Board(fen, chess960=chess960)
    except ValueError as err:
        raise ValueError(f"bad FEN {fen!r}: {err}") from None
    if not board.is_valid():
        status = board.status()
        problems = [flag.name.lower().replace("_", " ") for flag in chess.Status if flag and flag in status]
        raise ValueError(f"FEN {fen!r} is not a valid position: {', '.join(problems)}")
    return board


def make_chess(seed: int | None = None, max_plies: int = 400, fen: str = "") -> ChessState:
    return ChessState(seed, max_plies=max_plies, fen=fen)


def make_chess960(seed: int | None = None, position: int = -1, max_plies: int = 400) -> ChessState:
    return ChessState(seed, max_plies=max_plies, chess960=True, position=position)


WIN = "checkmate, or the opponent's forfeit; stalemate, repetition and the ply limit are draws"
GAMES = {
    "chess": GameInfo("chess", make_chess, {"max_plies": 400, "fen": ""},
                      "chess (python-chess rules); SAN or UCI answers; draw after max_plies", win=WIN),
    "chess960": GameInfo("chess960", make_chess960, {"position": -1, "max_plies": 400},
                         "Chess960; position 0..959 (-1: from the seed; 518 = standard)", chance=True, win=WIN),
}
