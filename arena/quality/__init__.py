"""Move quality, independent of the outcome: a separate pass over stored matches.

``arena quality --db arena.db [--run RUN]`` replays every finished match of a game it can
judge (never inside the games' rules), stores each move's quality in the step's
``info["quality"]`` and the leaderboard aggregates it per agent and game:

- chess, chess960: Stockfish's evaluation before and after each move — centipawn loss,
  lichess's win%-based accuracy, inaccuracies/mistakes/blunders (:mod:`.chess_eval`);
- tic-tac-toe and small connect-four boards: the solved value before and after each move,
  share of value-losing moves (:mod:`.solved`);
- repeated matrix games: regret against the best response to the opponent's realised moves
  (:mod:`.matrix_regret`);
- Kuhn and Leduc poker: expected-value loss of each action against the CFR equilibrium and
  against a best response to it (:mod:`.poker_ev`).

A step's ``info["quality"]`` always has ``kind`` ("chess" | "solved" | "regret" | "poker") and
the numbers of that kind; :func:`summarise` reads them back into
``{game: {agent: {moves, ...}}}`` (the leaderboard's ``quality`` keys).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from arena.export.replay import replay
from arena.games.registry import parse_game
from arena.store import Store
from arena.tournaments.headline import game_id
from arena.trajectory import Trajectory, step_to_dict

log = logging.getLogger(__name__)
BOARD_GAMES = ("tic-tac-toe", "connect-four")
CHESS = ("chess", "chess960")
POKER = ("kuhn-poker", "leduc-poker")
CLASSES = (("inaccuracy", "inaccuracies"), ("mistake", "mistakes"), ("blunder", "blunders"))


class Judges:
    """The analysers of one pass, built lazily (Stockfish once, one solver per game spec)."""

    def __init__(self, depth: int = 10, stockfish: str = "") -> None:
        self.depth, self.stockfish = depth, stockfish
        self.engine: Any = None
        self.solvers: dict[str, Any] = {}
        self.poker: dict[str, Any] = {}

    def chess_engine(self) -> Any:
        if self.engine is None:
            import chess.engine

            from arena.agents.stockfish import find_stockfish
            binary = find_stockfish(self.stockfish)
            if binary is None:
                raise RuntimeError("stockfish is not installed (apt-get install stockfish): chess is not judged")
            self.engine = chess.engine.SimpleEngine.popen_uci(binary)
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.quit()
            self.engine = None


def judgeable(game: str) -> bool:
    gid = game_id(game)
    if gid in CHESS + BOARD_GAMES + POKER:
        return True
    try:
        return hasattr(parse_game(game).make(0), "table")
    except Exception:  # a game that cannot be built here is not judged
        return False


def analyse(traj: Trajectory, judges: Judges) -> dict[int, dict[str, Any]]:
    """Quality of the steps of one match, by step index (empty when the game is not judged)."""
    gid = game_id(traj.game)
    points = replay(traj, parse_game(traj.game).make)
    if not points:
        return {}
    if gid in CHESS:
        import chess

        from arena.quality.chess_eval import game_quality
        boards = [points[0].state.board.copy(stack=False)]
        for point in points:
            board = boards[-1].copy(stack=False)
            board.push(chess.Move.from_uci(point.step.action))
            boards.append(board)
        moves = game_quality(boards, judges.chess_engine(), judges.depth)
        return {p.step.index: q for p, q in zip(points, moves)}
    if gid in BOARD_GAMES:
        from arena.quality.solved import Solver, move_quality, solvable
        if not solvable(points[0].state):
            return {}
        solver = judges.solvers.setdefault(traj.game, Solver())
        return {p.step.index: move_quality(solver, p.state, p.player, p.step.action) for p in points}
    if gid in POKER:
        from arena.quality.poker_ev import PokerJudge
        judge = judges.poker.get(traj.game) or judges.poker.setdefault(traj.game, PokerJudge(traj.game))
        return judge.analyse(points)
    if hasattr(points[0].state, "table"):
        return _regret(points)
    return {}


def _regret(points: list[Any]) -> dict[int, dict[str, Any]]:
    from arena.quality.matrix_regret import match_regret
    final = points[-1].state.clone()
    for step in points[-1].node:
        final.apply(step.player, step.action)
    totals, instant = match_regret(final)
    rounds = max(len(final.moves), 1)
    out, seen = {}, [0, 0]
    for point in points:
        if point.step.legal_actions is None:  # cheap talk, not a move
            continue
        p = point.player
        out[point.step.index] = {"kind": "regret", "instant": instant[p][seen[p]],
                                 "external_per_round": totals[p] / rounds}
        seen[p] += 1
    return out


def quality_pass(store: Store, run_id: str | None = None, depth: int = 10, stockfish: str = "",
                 on_match: Callable[[str], None] | None = None) -> int:
    """Judge every finished match of a judgeable game; write ``info["quality"]`` into its steps
    (one transaction per match). Returns the number of matches judged."""
    sql = "SELECT match_id, game FROM matches WHERE status = 'done'" + (" AND run_id = ?" if run_id else "")
    rows = list(store.db.execute(sql + " ORDER BY run_id, idx", (run_id,) if run_id else ()))
    judges, done, ok = Judges(depth, stockfish), 0, {}
    try:
        for match_id, game in rows:
            if game not in ok:
                ok[game] = judgeable(game)
            if not ok[game]:
                continue
            traj = store.trajectory(match_id)
            quality = analyse(traj, judges)
            _write(store, traj, quality)
            done += bool(quality)
            if on_match:
                on_match(match_id)
    finally:
        judges.close()
    return done


def _write(store: Store, traj: Trajectory, quality: dict[int, dict[str, Any]]) -> None:
    updates = []
    for step in traj.steps:
        if step.index in quality:
            step.info = {**step.info, "quality": quality[step.index]}
            updates.append((json.dumps(step_to_dict(step)), traj.match_id, step.index))
    if not updates:
        return
    store.db.execute("BEGIN IMMEDIATE")
    try:
        store.db.executemany("UPDATE steps SET data = ? WHERE match_id = ? AND idx = ?", updates)
    except BaseException:
        store.db.execute("ROLLBACK")
        raise
    store.db.execute("COMMIT")


def summarise(store: Store, run_id: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per game and agent: the aggregated quality of its judged moves (see the module docstring)."""
    sql = ("SELECT m.game, m.players, s.player, s.data FROM steps s JOIN matches m USING (match_id) "
           "WHERE m.status = 'done' AND s.data LIKE '%\"quality\": {%'" + (" AND m.run_id = ?" if run_id else ""))
    acc: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for game, players, seat, data in store.db.execute(sql, (run_id,) if run_id else ()):
        quality = json.loads(data).get("info", {}).get("quality")
        if quality:
            name = next(p["name"] for p in json.loads(players) if p["seat"] == seat)
            acc[(game, name)].append(quality)
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (game, name), moves in acc.items():
        out[game][name] = aggregate(moves)
    return dict(out)


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) + 0.0 if values else 0.0  # + 0.0: no -0


def describe(summary: dict[str, Any]) -> str:
    """An :func:`aggregate` in a few characters (the leaderboard's "move quality" cell)."""
    kind = summary["kind"]
    if kind == "chess":
        return f"ACPL {summary['acpl']:.0f}, acc {summary['accuracy']:.0f}%, {summary['blunders']} blunders"
    if kind == "solved":
        return f"{summary['value_losing_share']:.0%} value-losing"
    if kind == "regret":
        return f"regret {summary['external_regret_per_round']:.2f}/round"
    return f"EV loss {summary['ev_loss_vs_equilibrium']:.3f}/move"


def aggregate(moves: list[dict[str, Any]]) -> dict[str, Any]:
    """One agent's judged moves of one game summed up."""
    kind = moves[0]["kind"]
    row: dict[str, Any] = {"kind": kind, "moves": len(moves)}
    if kind == "chess":
        row.update(acpl=_mean([m["cp_loss"] for m in moves]), accuracy=_mean([m["accuracy"] for m in moves]),
                   **{plural: sum(m["class"] == c for m in moves) for c, plural in CLASSES})
    elif kind == "solved":
        row.update(value_losing_share=_mean([float(m["value_losing"]) for m in moves]),
                   mean_value_loss=_mean([m["loss"] for m in moves]))
    elif kind == "regret":
        row.update(mean_instant_regret=_mean([m["instant"] for m in moves]),
                   external_regret_per_round=_mean([m["external_per_round"] for m in moves]))
    elif kind == "poker":
        row.update(ev_loss_vs_equilibrium=_mean([m["ev_loss_equilibrium"] for m in moves]),
                   ev_loss_vs_best_response=_mean([m["ev_loss_best_response"] for m in moves]))
    return row
