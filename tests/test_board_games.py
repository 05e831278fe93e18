"""Board games: chess / Chess960 (python-chess), connect four, hex, tic-tac-toe, and PGN export."""

from __future__ import annotations

import copy
import io
import random

import chess
import chess.pgn
import pytest
from pettingzoo.test import api_test, seed_test

from arena.agents.base import Decision, Turn
from arena.export.pgn import export_pgn, export_pgn_many
from arena.games.base import IllegalAction, State
from arena.games.chess import UCI_VOCAB, ChessState, make_chess, make_chess960
from arena.games.connect_four import ConnectFourState
from arena.games.env import ArenaEnv
from arena.games.hex import HexState, connected
from arena.games.tictactoe import TicTacToeState
from arena.match import Policy, play_match
from arena.registry import game_ids, parse_game
from arena.trajectory import Player, Trajectory

SPECS = ["chess", "chess960", "chess960:position=0", "chess:max_plies=20", "connect-four",
         "connect-four:rows=4,cols=5,connect=3", "hex", "hex:size=5,swap=true", "tic-tac-toe"]

OPERA_PGN = """[Event "Paris"]
[Site "Paris FRA"]
[Date "1858.??.??"]
[Round "?"]
[White "Paul Morphy"]
[Black "Duke Karl / Count Isouard"]
[Result "1-0"]

1. e4 e5 2. Nf3 d6 3. d4 Bg4 4. dxe5 Bxf3 5. Qxf3 dxe5 6. Bc4 Nf6 7. Qb3 Qe7 8. Nc3 c6
9. Bg5 b5 10. Nxb5 cxb5 11. Bxb5+ Nbd7 12. O-O-O Rd8 13. Rxd7 Rxd7 14. Rd1 Qe6
15. Bxd7+ Nxd7 16. Qb8+ Nxb8 17. Rd8# 1-0
"""
OPERA_FINAL_FEN = "1n1Rkb1r/p4ppp/4q3/4p1B1/4P3/8/PPP2PPP/2K5 b k - 1 17"


def play(state: State, answers: list[str]) -> State:
    """Feed answers (as an agent would type them) through parse + apply."""
    for answer in answers:
        player = state.to_move()[0]
        state.apply(player, state.parse(player, answer))
    return state


def random_play(state: State, rng: random.Random, limit: int = 10_000) -> State:
    for _ in range(limit):
        if not state.to_move():
            break
        player = state.to_move()[0]
        state.apply(player, rng.choice(state.legal_actions(player)))
    return state


# --- PettingZoo face ---------------------------------------------------------------
def test_registered() -> None:
    assert {"chess", "chess960", "connect-four", "hex", "tic-tac-toe"} <= set(game_ids())


@pytest.mark.parametrize("spec", SPECS)
def test_api(spec: str) -> None:
    api_test(ArenaEnv(parse_game(spec).make, name=spec), num_cycles=10)


@pytest.mark.parametrize("spec", SPECS)
def test_seed(spec: str) -> None:
    seed_test(lambda: ArenaEnv(parse_game(spec).make, name=spec), num_cycles=10)


@pytest.mark.parametrize("spec", ["chess:max_plies=60", "connect-four", "hex:size=5", "tic-tac-toe"])
def test_env_plays_to_the_end_zero_sum(spec: str) -> None:
    env = ArenaEnv(parse_game(spec).make, name=spec)
    env.reset(seed=1)
    rng, totals = random.Random(1), {a: 0.0 for a in env.possible_agents}
    for agent in env.agent_iter():
        obs, reward, term, trunc, _ = env.last()
        totals[agent] += reward
        env.step(None if term or trunc else rng.choice(obs["action_mask"].nonzero()[0].tolist()))
    assert sum(totals.values()) == 0 and set(totals.values()) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize("spec", SPECS)
def test_clone_is_independent(spec: str) -> None:
    state = random_play(parse_game(spec).make(3), random.Random(3), limit=6)
    before, copy = state.observation(0), state.clone()
    random_play(copy, random.Random(4), limit=5)
    assert state.observation(0) == before and state.rng.getstate() == copy.rng.getstate()
    assert copy.clone().observation(1) == copy.observation(1)


@pytest.mark.parametrize("spec", ["chess960", "connect-four", "hex", "tic-tac-toe"])
def test_clone_forks_the_generator(spec: str) -> None:
    state = parse_game(spec).make(9)
    twin = state.clone()
    assert twin.rng is not state.rng
    draws = [state.rng.random() for _ in range(3)]
    assert [twin.rng.random() for _ in range(3)] == draws  # same stream, independent generators
    assert state.clone().rng.random() == state.rng.random()
    assert copy.deepcopy(twin).observation(0) == twin.observation(0)


def test_chess_clone_keeps_a_short_stack_but_the_whole_record() -> None:
    sans = [node.san() for node in chess.pgn.read_game(io.StringIO(OPERA_PGN)).mainline()]
    state = play(make_chess(), sans[:30])
    twin = state.clone()
    assert len(twin.board.move_stack) == twin.board.halfmove_clock < 30
    assert twin.history_san() == sans[:30] == state.history_san() and twin.moves == state.moves
    assert twin.observation(0) == state.observation(0)
    play(twin, sans[30:])
    assert twin.board.fen() == OPERA_FINAL_FEN and state.board.fen() != OPERA_FINAL_FEN


# --- chess rules -------------------------------------------------------------------
def test_san_and_uci_are_both_read_into_uci() -> None:
    state = make_chess()
    assert state.parse(0, "Nf3") == "g1f3" == state.parse(0, "g1f3") == state.parse(0, "nf3")
    assert state.parse(0, "I play 1. e4!") == "e2e4" == state.parse(0, "**e2-e4**")
    assert state.legal_actions(0) == [m.uci() for m in chess.Board().legal_moves]


@pytest.mark.parametrize(("fen", "answer", "words"), [
    (chess.STARTING_FEN, "Ng3", ["Ng3 is illegal here", "no white knight can move to g3", "legal moves:", "Nf3"]),
    (chess.STARTING_FEN, "e2e5", ["your pawn on e2 cannot move to e5"]),
    (chess.STARTING_FEN, "e7e5", ["the piece on e7 is Black's; you play White"]),
    (chess.STARTING_FEN, "Ke2", ["e2 is occupied by your own pawn"]),
    (chess.STARTING_FEN, "O-O", ["castling kingside is not possible now"]),
    (chess.STARTING_FEN, "Nf3 or e4", ["names several legal moves (Nf3, e4)"]),
    (chess.STARTING_FEN, "hello there", ["is not a move", "SAN (like Nf3) or UCI"]),
    ("4k3/4r3/8/8/8/8/4N3/4K3 w - - 0 1", "Nc3", ["it would leave your king in check"]),
    ("4k3/8/8/8/8/8/4r3/4K3 w - - 0 1", "Kd2", ["you are in check and this move does not get your king out"]),
    ("4k3/P7/8/8/8/8/8/4K3 w - - 0 1", "a7a8", ["must promote", "a7a8q"]),
    ("4k3/P7/8/8/8/8/8/4K3 w - - 0 1", "a8", ["must promote", "a8=Q"]),
    ("4k3/8/8/8/8/8/8/1N2KN2 w - - 0 1", "Nd2", ["Nd2 is ambiguous", "Nfd2", "Nbd2"]),
])
def test_illegal_answers_are_explained(fen: str, answer: str, words: list[str]) -> None:
    state = make_chess(fen=fen)
    with pytest.raises(IllegalAction) as err:
        state.parse(0, answer)
    for word in words:
        assert word in str(err.value)


def test_apply_refuses_illegal_and_out_of_turn() -> None:
    state = make_chess()
    with pytest.raises(IllegalAction, match="e2e5 is illegal here"):
        state.apply(0, "e2e5")
    with pytest.raises(IllegalAction, match="White's turn"):
        state.apply(1, "e7e5")


def test_fools_mate() -> None:
    state = play(make_chess(), ["f3", "e5", "g4", "Qh4#"])
    assert state.is_terminal() and state.returns() == [-1.0, 1.0]
    assert state.metrics()["result"] == "0-1" and state.metrics()["termination"] == "checkmate"
    assert state.metrics()["plies"] == 4 and state.legal_actions(0) == []


@pytest.mark.parametrize(("fen", "move", "termination", "result"), [
    ("7k/8/6K1/5Q2/8/8/8/8 w - - 0 1", "Qf7", "stalemate", "1/2-1/2"),
    ("8/8/8/4k3/8/8/3Kp3/8 w - - 0 1", "Kxe2", "insufficient material", "1/2-1/2"),
    ("8/8/8/4k3/8/8/3K4/7R w - - 99 80", "Rh2", "fifty-move rule", "1/2-1/2"),
    ("7k/8/6K1/8/8/8/8/R7 w - - 99 80", "Ra8#", "checkmate", "1-0"),  # mate on the 100th halfmove wins
])
def test_endings(fen: str, move: str, termination: str, result: str) -> None:
    state = make_chess(fen=fen)
    assert not state.is_terminal()
    play(state, [move])
    assert state.is_terminal()
    assert (state.metrics()["termination"], state.metrics()["result"]) == (termination, result)
    assert state.returns() == {"1-0": [1.0, -1.0]}.get(result, [0.0, 0.0])


def test_threefold_repetition_is_automatic_and_survives_clone() -> None:
    moves = ["Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1", "Ng8"]
    state = play(make_chess(), moves[:7])
    assert not state.is_terminal()
    twin = state.clone()
    for s in (state, twin):
        play(s, moves[7:])
        assert s.metrics()["termination"] == "threefold repetition" and s.returns() == [0.0, 0.0]


def test_max_plies_adjudicates_a_draw() -> None:
    state = play(parse_game("chess:max_plies=4").make(0), ["e4", "e5", "Nf3", "Nc6"])
    assert state.is_terminal() and state.metrics()["termination"] == "adjudication (max plies)"
    assert state.metrics()["result"] == "1/2-1/2"


def test_observation_shows_board_fen_history_and_legal_moves() -> None:
    state = play(make_chess(), ["e4", "e5"])
    text = state.observation(0)
    assert "FEN: rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2" in text
    assert "Moves so far: 1. e4 e5" in text and "Nf3 (g1f3)" in text
    assert "5 . . . . p . . . 5\n4 . . . . P . . . 4" in text
    assert "legal moves" not in state.observation(1)  # not Black's turn
    data = state.observation_data(0)
    assert data["board"][4][4] == "P" and data["board"][3][4] == "p" and data["history_uci"] == ["e2e4", "e7e5"]
    assert "g1f3" in data["legal_uci"] and "Nf3" in data["legal_san"]


def test_vocab_covers_every_legal_move() -> None:
    assert len(UCI_VOCAB) == len(set(UCI_VOCAB)) == 1968
    vocab, rng = set(UCI_VOCAB), random.Random(0)
    for game in range(30):
        state = make_chess960(seed=game) if game % 2 else make_chess(seed=game)
        while state.to_move():
            legal = state.legal_actions(state.to_move()[0])
            assert set(legal) <= vocab
            state.apply(state.to_move()[0], rng.choice(legal))


def test_chess960_start_positions() -> None:
    assert make_chess960(position=518).board.fen() == chess.STARTING_FEN
    assert make_chess960(position=0).board.fen().startswith("bbqnnrkr/")
    assert make_chess960(seed=5).start_fen == make_chess960(seed=5).start_fen
    assert len({make_chess960(seed=s).start_fen for s in range(20)}) > 10
    with pytest.raises(ValueError, match="0..959"):
        make_chess960(position=960)


def test_chess960_castling_is_king_takes_rook() -> None:
    fen = "6k1/8/8/8/8/8/8/RK5R w HA - 0 1"
    state = ChessState(chess960=True, fen=fen)
    assert state.parse(0, "O-O-O") == "b1a1" and state.parse(0, "O-O") == "b1h1"
    long = play(ChessState(chess960=True, fen=fen), ["O-O-O"])
    assert long.board.fen().startswith("6k1/8/8/8/8/8/8/2KR3R b")
    short = play(ChessState(chess960=True, fen=fen), ["b1h1"])
    assert short.board.fen().startswith("6k1/8/8/8/8/8/8/R4RK1 b") and short.history_san() == ["O-O"]
    still = ChessState(chess960=True, fen="6k1/8/8/8/8/8/8/R5KR w HA - 0 1")  # king already on g1
    assert "g1h1" in still.legal_actions(0) and "g1h1" in UCI_VOCAB


def test_opera_game_replays_from_san() -> None:
    game = chess.pgn.read_game(io.StringIO(OPERA_PGN))
    assert game.end().board().fen() == OPERA_FINAL_FEN  # python-chess, independently
    sans = [node.san() for node in game.mainline()]
    state = play(make_chess(), sans)
    assert state.board.fen() == OPERA_FINAL_FEN and state.metrics()["result"] == "1-0"
    assert state.history_san() == sans


# --- PGN export --------------------------------------------------------------------
class Replayer:
    """Answers the given SAN moves in order (the one for ``turn.step``)."""

    def __init__(self, sans: list[str]) -> None:
        self.sans = sans

    def act(self, turn: Turn) -> Decision:
        return Decision(self.sans[turn.step])


def match(spec: str, agents: list, seed: int = 0, policy: Policy = Policy()) -> Trajectory:
    game = parse_game(spec)
    players = [Player(0, "morphy", "replay"), Player(1, "duke-and-count", "replay")]
    return play_match(game.make, agents, players, seed, "m-0001", spec, game.params, policy)


def replay_pgn(text: str, spec: str = "chess") -> tuple[chess.pgn.Game, State]:
    game = chess.pgn.read_game(io.StringIO(text))
    state = parse_game(spec).make(0) if spec != "chess960" else ChessState(
        chess960=True, fen=game.headers["FEN"])
    return game, play(state, [node.san() for node in game.mainline()])


def test_pgn_of_a_known_game_round_trips_through_the_env() -> None:
    sans = [node.san() for node in chess.pgn.read_game(io.StringIO(OPERA_PGN)).mainline()]
    traj = match("chess", [Replayer(sans), Replayer(sans)])
    assert traj.outcome.metrics["result"] == "1-0" and traj.outcome.scores == [1.0, -1.0]
    text = export_pgn(Trajectory.from_json(traj.to_json()))
    game, state = replay_pgn(text)
    headers = game.headers
    assert (headers["Event"], headers["Round"], headers["White"], headers["Black"]) == (
        "arena", "m-0001", "morphy", "duke-and-count")
    assert headers["Result"] == "1-0" and headers["Termination"] == "normal" and "FEN" not in headers
    assert game.end().board().fen() == OPERA_FINAL_FEN == state.board.fen()
    assert state.metrics()["result"] == headers["Result"] == game.end().board().result()


def test_forfeit_pgn_is_a_rules_infraction() -> None:
    traj = match("chess", [Replayer(["e4", "e5", "Ke3"]), Replayer(["e4", "e5"])],
                 policy=Policy(retries=1, fallback="forfeit"))
    assert traj.outcome.reason == "forfeit" and traj.outcome.forfeited_by == 0
    game = chess.pgn.read_game(io.StringIO(export_pgn(traj)))
    assert game.headers["Termination"] == "rules infraction" and game.headers["Result"] == "0-1"
    assert "White forfeits: illegal move" in game.end().comment and "Ke3" in game.end().comment
    assert [n.uci() for n in game.mainline_moves()] == ["e2e4", "e7e5"]


def test_chess960_and_adjudication_pgn() -> None:
    rng = random.Random(7)

    class Random:
        def act(self, turn: Turn) -> str:
            return rng.choice(turn.legal_actions)

    traj = match("chess960:max_plies=30", [Random(), Random()], seed=11)
    text = export_pgn(traj)
    game, state = replay_pgn(text, "chess960")
    assert game.headers["Variant"] == "Chess960" and game.headers["SetUp"] == "1"
    assert game.headers["FEN"] == traj.outcome.metrics["start_fen"] == make_chess960(seed=11).start_fen
    assert state.board.fen() == traj.outcome.metrics["final_fen"]
    if traj.outcome.metrics["termination"].startswith("adjudication"):
        assert game.headers["Termination"] == "adjudication" and game.headers["Result"] == "1/2-1/2"
    traj.outcome.metrics.pop("start_fen")  # rebuilt from spec + seed when not recorded
    assert export_pgn(traj) == text
    games = io.StringIO(export_pgn_many([traj, traj]))
    assert chess.pgn.read_game(games) and chess.pgn.read_game(games) and chess.pgn.read_game(games) is None


def test_standard_960_position_still_gets_variant_and_fen() -> None:
    traj = match("chess960:position=518,max_plies=4", [Replayer(["e4", "e5", "Nf3", "Nc6"])] * 2)
    game = chess.pgn.read_game(io.StringIO(export_pgn(traj)))
    assert game.headers["Variant"] == "Chess960" and game.headers["FEN"] == chess.STARTING_FEN
    assert game.headers["Termination"] == "adjudication" and game.headers["Result"] == "1/2-1/2"


# --- connect four ------------------------------------------------------------------
DRAW_42 = "441365675334466335442232661515577771217122"


@pytest.mark.parametrize(("moves", "winner"), [
    ("1213141", 0),          # vertical in column 1
    ("1122334", 0),          # horizontal on the bottom row
    ("12234334744", 0),      # diagonal up-right: columns 1,2,3,4 at heights 1..4
    ("7665455414", None),    # not yet: the mirrored diagonal needs one more disc
    ("76654554144", 0),      # diagonal up-left (the mirror image)
    ("1122771", None),
    ("12131465", 1),         # O on the bottom row 2..5 while X stacks column 1 and 6
])
def test_connect_four_wins(moves: str, winner: int | None) -> None:
    state = play(ConnectFourState(), list(moves))
    assert state.winner == winner
    if winner is not None:
        assert state.is_terminal() and state.returns()[winner] == 1.0 and sum(state.returns()) == 0


def test_connect_four_full_board_draw() -> None:
    state = play(ConnectFourState(), list(DRAW_42))
    assert state.is_terminal() and state.winner is None and state.returns() == [0.0, 0.0]
    assert all(cell != "." for row in state.grid for cell in row)


def test_connect_four_parse_and_params() -> None:
    state = play(ConnectFourState(), list("111111"))
    assert state.parse(0, "I drop in column 4") == "4"
    with pytest.raises(IllegalAction, match="column 1 is full"):
        state.parse(0, "1")
    with pytest.raises(IllegalAction, match="no column 9"):
        state.parse(0, "9")
    with pytest.raises(IllegalAction, match="several columns"):
        state.parse(0, "3 or 4")
    small = play(ConnectFourState(rows=3, cols=3, connect=3), list("12131"))
    assert small.winner == 0 and small.action_vocab == ("1", "2", "3")
    with pytest.raises(ValueError, match="cannot fit"):
        ConnectFourState(rows=3, cols=3, connect=4)


# --- hex ---------------------------------------------------------------------------
def test_hex_wins_both_directions() -> None:
    top_bottom = play(HexState(size=3), ["a1", "c1", "a2", "c2", "a3"])
    assert top_bottom.winner == 0 and top_bottom.returns() == [1.0, -1.0]
    left_right = play(HexState(size=3), ["a1", "a2", "b1", "b2", "c3", "c2"])
    assert left_right.winner == 1 and left_right.returns() == [-1.0, 1.0]
    zigzag = play(HexState(size=3), ["b1", "c1", "a2", "c2", "a3"])  # b1-a2 touch (down-left)
    assert zigzag.winner == 0
    apart = play(HexState(size=3), ["a1", "c1", "b2", "a3", "c3"])  # a1 and b2 do not touch
    assert apart.winner is None and not connected(apart.grid, 0)


def test_hex_full_board_always_has_exactly_one_winner() -> None:
    rng = random.Random(0)
    for size in (2, 3, 4, 5, 7, 11):
        for _ in range(20):
            grid = [[rng.choice("XO") for _ in range(size)] for _ in range(size)]
            assert connected(grid, 0) != connected(grid, 1)
    for seed in range(50):  # games end with a winner, found by union-find and BFS alike
        state = HexState(size=5)
        r = random.Random(seed)
        while state.to_move():
            assert not connected(state.grid, 0) and not connected(state.grid, 1)
            random_play(state, r, limit=1)
        assert state.winner is not None and connected(state.grid, state.winner)


def test_hex_swap_rule_and_parse() -> None:
    state = play(HexState(size=4, swap=True), ["c2"])
    assert "swap" in state.legal_actions(1) and state.parse(1, "I swap") == "swap"
    play(state, ["swap"])
    assert state.grid[2][1] == "O" and state.grid[1][2] == "." and state.to_move() == [0] and state.swapped
    assert "swap" not in state.legal_actions(0)
    with pytest.raises(IllegalAction, match="only allowed"):
        state.parse(0, "swap")
    with pytest.raises(IllegalAction, match="already taken by O"):
        state.parse(0, "b3")
    with pytest.raises(IllegalAction, match="off the board"):
        state.parse(0, "e9")
    with pytest.raises(IllegalAction, match="several cells"):
        state.parse(0, "a1 or a2")
    assert state.parse(0, "I play D4.") == "d4"
    assert "swap" not in HexState(size=4).action_vocab and len(HexState().action_vocab) == 121
    assert " 1 . . . . 1\n  2 . . . . 2" in HexState(size=4).board_text()


# --- tic-tac-toe -------------------------------------------------------------------
@pytest.mark.parametrize(("moves", "winner"), [
    ("14253", 0), ("17283", 0), ("12453", None), ("152397", 1), ("427538", 1), ("15243", 0), ("12539", 0),
])
def test_tictactoe_wins(moves: str, winner: int | None) -> None:
    state = play(TicTacToeState(), list(moves))
    assert state.winner == winner
    if winner is not None:
        assert state.is_terminal() and state.returns()[winner] == 1.0


def test_tictactoe_draw_and_parse() -> None:
    state = play(TicTacToeState(), list("159287364"))
    assert state.is_terminal() and state.winner is None and state.returns() == [0.0, 0.0]
    fresh = TicTacToeState()
    assert fresh.parse(0, "a1") == "1" and fresh.parse(0, "C3") == "9" and fresh.parse(0, "b2") == "5"
    assert fresh.parse(0, "I take the center: 5") == "5"
    play(fresh, ["5"])
    with pytest.raises(IllegalAction, match="cell 5 is already taken by X"):
        fresh.parse(1, "b2")
    with pytest.raises(IllegalAction, match="several cells"):
        fresh.parse(1, "1 or 9")
    with pytest.raises(IllegalAction, match="names no cell"):
        fresh.parse(1, "the corner")
