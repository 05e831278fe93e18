"""SQLite store (WAL) of runs, matches and steps; the basis of resume.

A run's whole schedule is written up front as ``pending`` matches; each finished
match (its steps and outcome) is committed in one transaction, so a process killed
at any moment leaves every match either done or pending, never half-written.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from arena.errors import ArenaError
from arena.trajectory import Outcome, Player, Step, Trajectory, step_from_dict, step_to_dict

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, created REAL NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS matches (
    match_id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id), idx INTEGER NOT NULL,
    game TEXT NOT NULL, seed INTEGER NOT NULL, players TEXT NOT NULL, status TEXT NOT NULL,
    outcome TEXT, trajectory TEXT, finished REAL, round INTEGER NOT NULL DEFAULT 1, UNIQUE (run_id, idx));
CREATE TABLE IF NOT EXISTS steps (
    match_id TEXT NOT NULL REFERENCES matches(match_id), idx INTEGER NOT NULL, player INTEGER NOT NULL,
    action TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (match_id, idx));
"""


MatchRows = tuple[str, str, str, float, list[tuple[str, int, int, str, str]]]


def match_rows(traj: Trajectory) -> MatchRows:
    """A finished match as the rows the store writes: (id, head JSON, outcome JSON, finished, steps)."""
    assert traj.outcome is not None
    head = traj.to_dict(steps=False)
    steps = [(traj.match_id, s.index, s.player, s.action, json.dumps(step_to_dict(s))) for s in traj.steps]
    return (traj.match_id, json.dumps(head, sort_keys=True), json.dumps(head["outcome"], sort_keys=True),
            traj.finished, steps)


class StoreError(ArenaError, RuntimeError):
    """The database cannot be used (not an arena store, unknown run, ...)."""


@dataclass
class PlannedMatch:
    match_id: str
    idx: int
    game: str
    seed: int
    players: list[Player]


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: not a usable arena database ({err})") from None

    def close(self) -> None:
        self.db.close()

    # --- runs ---------------------------------------------------------------
    def create_run(self, run_id: str, config: dict[str, Any], plan: list[PlannedMatch]) -> None:
        with self._tx():
            self.db.execute("INSERT INTO runs VALUES (?, ?, ?, 'running')",
                            (run_id, time.time(), json.dumps(config, sort_keys=True)))
            self._insert(run_id, plan)

    def add_matches(self, run_id: str, plan: list[PlannedMatch], round_no: int) -> None:
        """Append planned matches (the next swiss round) atomically."""
        with self._tx():
            self._insert(run_id, plan, round_no)

    def _insert(self, run_id: str, plan: list[PlannedMatch], round_no: int = 1) -> None:
        self.db.executemany(
            "INSERT INTO matches (match_id, run_id, idx, game, seed, players, status, round) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
            [(m.match_id, run_id, m.idx, m.game, m.seed, json.dumps([asdict(p) for p in m.players]), round_no)
             for m in plan])

    def rounds_planned(self, run_id: str) -> int:
        return self.db.execute("SELECT COALESCE(MAX(round), 0) FROM matches WHERE run_id = ?", (run_id,)).fetchone()[0]

    def run_config(self, run_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT config FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT run_id FROM runs ORDER BY created DESC LIMIT 10")]
            raise StoreError(f"no run {run_id!r} in {self.path}; recent runs: {', '.join(known) or 'none'}")
        return json.loads(row[0])

    def runs(self) -> list[tuple[str, float, str]]:
        return list(self.db.execute("SELECT run_id, created, status FROM runs ORDER BY created"))

    def set_status(self, run_id: str, status: str) -> None:
        self.db.execute("UPDATE runs SET status = ? WHERE run_id = ?", (status, run_id))

    def pending(self, run_id: str) -> list[PlannedMatch]:
        rows = self.db.execute("SELECT match_id, idx, game, seed, players FROM matches "
                               "WHERE run_id = ? AND status = 'pending' ORDER BY idx", (run_id,))
        return [PlannedMatch(m, i, g, s, [Player(**p) for p in json.loads(pl)]) for m, i, g, s, pl in rows]

    def count(self, run_id: str, status: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM matches WHERE run_id = ?" + (" AND status = ?" if status else "")
        return self.db.execute(sql, (run_id, status) if status else (run_id,)).fetchone()[0]

    # --- matches -------------------------------------------------------------
    def save_match(self, traj: Trajectory) -> None:
        """Commit a finished match atomically; refuses a match that is already done."""
        self.save_rows(match_rows(traj))

    def save_rows(self, rows: "MatchRows") -> None:
        """Commit a finished match given as :func:`match_rows` (what worker processes send back).

        A match whose outcome is ``error`` is kept as status ``error`` without its steps:
        unrated, uncounted, and played again by :meth:`retry_errors` (``--resume``)."""
        match_id, head, outcome, finished, steps = rows
        status = "error" if json.loads(outcome).get("reason") == "error" else "done"
        with self._tx():
            cur = self.db.execute(
                "UPDATE matches SET status = ?, outcome = ?, trajectory = ?, finished = ? "
                "WHERE match_id = ? AND status = 'pending'", (status, outcome, head, finished, match_id))
            if cur.rowcount != 1:
                raise StoreError(f"match {match_id} is unknown or already finished")
            if status == "done":
                self.db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?)", steps)

    def fail_match(self, match_id: str, reason: str) -> None:
        """Mark a match that could not be played (not the agents' fault): ``error``, replayed on resume."""
        self.db.execute("UPDATE matches SET status = 'error', outcome = ? WHERE match_id = ? AND status = 'pending'",
                        (json.dumps({"reason": "error", "detail": reason}), match_id))

    def retry_errors(self, run_id: str) -> int:
        """Make a run's ``error`` matches pending again (``--resume`` plays them); returns how many."""
        with self._tx():
            self.db.execute("DELETE FROM steps WHERE match_id IN "
                            "(SELECT match_id FROM matches WHERE run_id = ? AND status = 'error')", (run_id,))
            return self.db.execute("UPDATE matches SET status = 'pending', outcome = NULL, trajectory = NULL, "
                                   "finished = NULL WHERE run_id = ? AND status = 'error'", (run_id,)).rowcount

    def error_counts(self, run_id: str | None = None) -> dict[str, int]:
        """Matches each agent sat in that ended as ``error`` (unrated; the leaderboard's own column)."""
        sql = "SELECT players FROM matches WHERE status = 'error'" + (" AND run_id = ?" if run_id else "")
        counts: dict[str, int] = {}
        for (players,) in self.db.execute(sql, (run_id,) if run_id else ()):
            for name in {p["name"] for p in json.loads(players)}:
                counts[name] = counts.get(name, 0) + 1
        return counts

    def trajectory(self, match_id: str) -> Trajectory:
        row = self.db.execute("SELECT trajectory FROM matches WHERE match_id = ? AND status = 'done'",
                              (match_id,)).fetchone()
        if row is None:
            raise StoreError(f"no finished match {match_id!r}")
        data = json.loads(row[0])
        data["steps"] = [json.loads(d) for (d,) in self.db.execute(
            "SELECT data FROM steps WHERE match_id = ? ORDER BY idx", (match_id,))]
        return Trajectory.from_dict(data)

    def results(self, run_id: str | None = None) -> Iterator[tuple[int, str, list[Player], Outcome]]:
        """(idx, game, players, outcome) of finished matches, in schedule order."""
        sql = "SELECT idx, game, players, outcome FROM matches WHERE status = 'done'"
        rows = self.db.execute(sql + (" AND run_id = ?" if run_id else "") + " ORDER BY run_id, idx",
                               (run_id,) if run_id else ())
        for idx, game, players, outcome in rows:
            yield idx, game, [Player(**p) for p in json.loads(players)], Outcome(**json.loads(outcome))

    def match_players(self, run_id: str | None = None) -> dict[str, list[Player]]:
        sql = "SELECT match_id, players FROM matches WHERE status = 'done'" + (" AND run_id = ?" if run_id else "")
        return {m: [Player(**p) for p in json.loads(pl)]
                for m, pl in self.db.execute(sql, (run_id,) if run_id else ())}

    def steps(self, run_id: str | None = None) -> Iterator[tuple[str, Step]]:
        rows = self.db.execute("SELECT s.match_id, s.data FROM steps s JOIN matches m USING (match_id) "
                               + ("WHERE m.run_id = ? " if run_id else "") + "ORDER BY m.run_id, m.idx, s.idx",
                               (run_id,) if run_id else ())
        for match_id, data in rows:
            yield match_id, step_from_dict(json.loads(data))

    def _tx(self) -> "_Tx":
        return _Tx(self.db)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
