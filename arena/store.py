"""SQLite store (WAL) of runs, matches and steps; the basis of resume.

A run's whole schedule is written up front as ``pending`` matches; each finished
match (its steps and outcome) is committed in one transaction, so a process killed
at any moment leaves every match either done or pending, never half-written.

Opening checks the file first (read-only; see :mod:`arena.store_schema`): another
program's SQLite file, a newer arena's store and a corrupted file are refused with one
line; an older store is migrated.  ``must_exist=True`` (every read-only command) never
creates a file.  When another process holds the write lock, each statement waits
``busy_timeout`` seconds and is retried up to ``busy_retries`` times before a one-line
:class:`StoreError`.  A process executing a run holds the run's lease (pid, host, since),
so a second ``--resume`` of the same run is refused while the first one lives.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from arena.atomic import pid_alive
from arena.store_schema import StoreError, inspect, migrate
from arena.trajectory import Outcome, Player, Step, Trajectory, step_from_dict, step_to_dict

MatchRows = tuple[str, str, str, float, list[tuple[str, int, int, str, str]]]


def match_rows(traj: Trajectory) -> MatchRows:
    """A finished match as the rows the store writes: (id, head JSON, outcome JSON, finished, steps)."""
    assert traj.outcome is not None
    head = traj.to_dict(steps=False)
    steps = [(traj.match_id, s.index, s.player, s.action, json.dumps(step_to_dict(s))) for s in traj.steps]
    return (traj.match_id, json.dumps(head, sort_keys=True), json.dumps(head["outcome"], sort_keys=True),
            traj.finished, steps)


@dataclass
class PlannedMatch:
    match_id: str
    idx: int
    game: str
    seed: int
    players: list[Player]


log = logging.getLogger(__name__)
T = TypeVar("T")
LEASE_STALE_S = 3600.0  # a lease of another host with no heartbeat for this long is taken over


def _busy(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class Store:
    def __init__(self, path: str | Path, *, must_exist: bool = False, busy_timeout: float = 5.0,
                 busy_retries: int = 60) -> None:
        self.path = str(path)
        self.busy_retries = busy_retries
        file = Path(path)
        if not file.parent.is_dir():
            raise StoreError(f"no such directory: {file.parent} (for the database {self.path})")
        if must_exist and not file.is_file():
            raise StoreError(f"no such database: {self.path}")
        version = self._retry(lambda: inspect(file))
        try:
            self.db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open ({err})") from None
        self._retry(lambda: self.db.execute("PRAGMA journal_mode=WAL"))
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._retry(lambda: migrate(self.db, version))

    def close(self) -> None:
        self.db.close()

    def _retry(self, action: Callable[[], T]) -> T:
        """``action()``, retried while another process holds the lock; every failure one :class:`StoreError`."""
        for attempt in range(self.busy_retries + 1):
            try:
                return action()
            except StoreError as err:
                if "locked" not in str(err) or attempt == self.busy_retries:
                    raise
            except sqlite3.OperationalError as err:
                if not _busy(err) or attempt == self.busy_retries:
                    raise StoreError(f"{self.path}: {err}" + (f" (after {attempt + 1} tries)" if _busy(err)
                                                                else "")) from None
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: {type(err).__name__}: {err}") from None
            if attempt == 0:
                log.warning("%s is locked by another process; waiting", self.path)
            time.sleep(min(1.0, 0.05 * 2 ** attempt))
        raise AssertionError("unreachable")

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._retry(lambda: self.db.execute(sql, params))

    # --- the lease of a run's executor ----------------------------------------
    @contextlib.contextmanager
    def lease(self, run_id: str) -> Iterator[None]:
        """Hold ``run_id``'s lease while the block runs; :class:`StoreError` names a live holder."""
        me = (os.getpid(), socket.gethostname())
        with self._tx():
            row = self.db.execute("SELECT pid, host, since, beat FROM leases WHERE run_id = ?", (run_id,)).fetchone()
            if row is not None and (row[0], row[1]) != me and _live(row[0], row[1], row[3]):
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row[2]))
                raise StoreError(f"run {run_id} is being executed by pid {row[0]} on {row[1]} since {since}; "
                                 "wait for it to finish or stop that process")
            reentrant = row is not None and (row[0], row[1]) == me
            if not reentrant:
                self.db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?)",
                                (run_id, *me, time.time(), time.time()))
        try:
            yield
        finally:
            if not reentrant:
                with contextlib.suppress(StoreError, sqlite3.Error):
                    self._exec("DELETE FROM leases WHERE run_id = ? AND pid = ? AND host = ?", (run_id, *me))

    def lease_holder(self, run_id: str) -> tuple[int, str, float] | None:
        """(pid, host, since) of the process executing ``run_id``, if any."""
        row = self._exec("SELECT pid, host, since FROM leases WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

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
        self._exec("UPDATE runs SET status = ? WHERE run_id = ?", (status, run_id))

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
            self.db.execute("UPDATE leases SET beat = ? WHERE pid = ? AND host = ?",
                            (time.time(), os.getpid(), socket.gethostname()))

    def fail_match(self, match_id: str, reason: str) -> None:
        """Mark a match that could not be played (not the agents' fault): ``error``, replayed on resume."""
        self._exec("UPDATE matches SET status = 'error', outcome = ? WHERE match_id = ? AND status = 'pending'",
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

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction; waiting for the write lock is retried (see :meth:`_retry`)."""
        self._exec("BEGIN IMMEDIATE")
        try:
            yield
        except sqlite3.Error as err:
            self.db.execute("ROLLBACK")
            raise StoreError(f"{self.path}: {type(err).__name__}: {err}") from None
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as err:
            self.db.execute("ROLLBACK")
            raise StoreError(f"{self.path}: commit failed ({err})") from None


def _live(pid: int, host: str, beat: float) -> bool:
    """Whether a lease holder may still run: a live pid on this host; elsewhere, a recent heartbeat."""
    if host == socket.gethostname():
        return pid_alive(pid)
    return time.time() - beat < LEASE_STALE_S
