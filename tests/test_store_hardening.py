"""The hardened store: identity, schema versions and migration, corruption, lock waits, the run lease,
and read-only commands that never create a database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arena.store import Store, StoreError
from arena.store_schema import APPLICATION_ID, SCHEMA_VERSION
from tests.conftest import ROOT, run_cli

# The CREATE statements of arena 0.1.0's store (no application_id, no user_version), copied verbatim:
# the fixture below is a database as that release wrote it.
RELEASE_0_1_SCHEMA = """
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
PLAYERS = [{"name": "tft", "spec": "tit-for-tat", "seat": 0}, {"name": "ad", "spec": "always-defect", "seat": 1}]
OUTCOME = {"scores": [0.0, 10.0], "ranks": [2, 1], "reason": "normal", "detail": ""}


def _python(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A store as arena 0.1.0 wrote it: one run, one finished match, one pending match."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(RELEASE_0_1_SCHEMA)
    db.execute("INSERT INTO runs VALUES ('r1', 1.0, ?, 'running')", (json.dumps({"games": ["prisoners-dilemma"]}),))
    head = {"match_id": "r1-0", "game": "prisoners-dilemma", "params": {}, "seed": 7, "players": PLAYERS,
            "outcome": OUTCOME, "started": 1.0, "finished": 2.0}
    db.execute("INSERT INTO matches VALUES ('r1-0', 'r1', 0, 'prisoners-dilemma', 7, ?, 'done', ?, ?, 2.0, 1)",
               (json.dumps(PLAYERS), json.dumps(OUTCOME), json.dumps(head)))
    db.execute("INSERT INTO matches (match_id, run_id, idx, game, seed, players, status) "
               "VALUES ('r1-1', 'r1', 1, 'prisoners-dilemma', 8, ?, 'pending')", (json.dumps(PLAYERS),))
    db.commit()
    db.close()
    return path


def test_release_store_opens_and_migrates(old_store: Path) -> None:
    store = Store(old_store)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    [(idx, game, players, outcome)] = list(store.results("r1"))
    assert (idx, game, [p.name for p in players], outcome.scores) == (0, "prisoners-dilemma", ["tft", "ad"],
                                                                       [0.0, 10.0])
    assert [m.match_id for m in store.pending("r1")] == ["r1-1"]
    with store.lease("r1"):  # the table the migration added
        assert store.lease_holder("r1")[0] == os.getpid()
    store.close()
    assert Store(old_store, must_exist=True).count("r1") == 2  # reopening a migrated store is a no-op


def test_newer_store_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="made by a newer arena") as info:
        Store(path)
    assert "\n" not in str(info.value) and path.read_bytes() == before


def test_foreign_sqlite_file_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('mine')")
    db.commit()
    db.close()
    before = path.read_bytes()
    for command in (["leaderboard"], ["run", "-g", "prisoners-dilemma", "-a", "tit-for-tat", "-a", "always-defect"],
                    ["report", "--out", str(tmp_path / "r.html")]):
        proc = run_cli(*command, "--db", str(path))
        assert proc.returncode == 2 and "another program's SQLite file" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / "r.html").exists()
    same_id = tmp_path / "same-tables.db"  # arena's table names but another application id
    db = sqlite3.connect(same_id)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID + 1}")
    db.executescript(RELEASE_0_1_SCHEMA)
    db.close()
    with pytest.raises(StoreError, match="another program's"):
        Store(same_id)


def test_corrupted_store_one_line_and_not_appended(tmp_path: Path) -> None:
    path = tmp_path / "arena.db"
    store = Store(path)
    with store._tx():
        store.db.executemany("INSERT INTO runs VALUES (?, 0, ?, 'done')", [(f"r{i}", "x" * 500) for i in range(2000)])
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = bytes(range(256)) * 16
    path.write_bytes(bytes(data))
    proc = run_cli("run", "-g", "prisoners-dilemma", "-a", "tit-for-tat", "-a", "always-defect", "--db", str(path))
    assert proc.returncode == 2 and "corrupted database" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == bytes(data)


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for command in (["leaderboard"], ["report", "--out", str(tmp_path / "r.html")],
                    ["export", "pgn", "--out", str(tmp_path / "g.pgn")], ["export", "phh", "--out", str(tmp_path / "h")],
                    ["export", "preferences", "--out", str(tmp_path / "p.jsonl")]):
        proc = run_cli(*command, "--db", str(missing))
        assert proc.returncode == 2 and f"no such database: {missing}" in proc.stderr, (command, proc.stderr)
    proc = run_cli("leaderboard", "--db", str(tmp_path / "nodir" / "arena.db"))
    assert proc.returncode == 2 and f"no such directory: {tmp_path / 'nodir'}" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_held_write_lock_delays_without_crash(tmp_path: Path) -> None:
    """Another process holds the write lock for 6 s: the store waits (retrying) and then writes."""
    path = tmp_path / "arena.db"
    store = Store(path, busy_timeout=1.0, busy_retries=60)
    store.db.execute("INSERT INTO runs VALUES ('r1', 0, '{}', 'running')")
    holder = _python(f"""
        import sqlite3, time
        db = sqlite3.connect({str(path)!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO runs VALUES ('holder', 0, '{{}}', 'x')")
        print("locked", flush=True)
        time.sleep(6)
        db.execute("COMMIT")
    """)
    assert holder.stdout.readline().strip() == "locked"
    store.set_status("r1", "done")  # blocks until the holder commits; earlier tries fail with "locked"
    assert holder.wait(timeout=300) == 0
    statuses = dict(store.db.execute("SELECT run_id, status FROM runs"))
    assert statuses == {"r1": "done", "holder": "x"}  # the holder's commit came before ours
    impatient = Store(path, busy_timeout=0.1, busy_retries=1)
    holder = _python(f"""
        import sqlite3, time
        db = sqlite3.connect({str(path)!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep(30)
    """)
    assert holder.stdout.readline().strip() == "locked"
    try:
        with pytest.raises(StoreError, match="database is locked") as info:
            impatient.set_status("r1", "again")
        assert "\n" not in str(info.value) and "after 2 tries" in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def test_one_executor_per_run(tmp_path: Path) -> None:
    path = tmp_path / "arena.db"
    proc = run_cli("run", "-g", "prisoners-dilemma:rounds=2", "-a", "tit-for-tat", "-a", "always-defect",
                   "--json", "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads(proc.stdout)["run_id"]
    holder = _python(f"""
        import time
        from arena.store import Store
        store = Store({str(path)!r})
        with store.lease({run_id!r}):
            print("held", flush=True)
            time.sleep(300)
    """)
    try:
        assert holder.stdout.readline().strip() == "held"
        second = run_cli("run", "--resume", run_id, "--db", str(path))
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert f"run {run_id} is being executed by pid {holder.pid} on " in second.stderr
        with pytest.raises(StoreError, match=f"pid {holder.pid}"):
            with Store(path).lease(run_id):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    store = Store(path)  # the holder died without releasing: its lease is stale and taken over
    with store.lease(run_id):
        assert store.lease_holder(run_id)[0] == os.getpid()
    assert store.lease_holder(run_id) is None
    assert run_cli("run", "--resume", run_id, "--db", str(path)).returncode == 0


def test_arena_run_waits_for_a_held_lock(tmp_path: Path) -> None:
    """`arena run` while another process holds the write lock for 12 s (longer than one busy timeout)."""
    path = tmp_path / "arena.db"
    Store(path).close()
    holder = _python(f"""
        import sqlite3, time
        db = sqlite3.connect({str(path)!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep(12)
        db.execute("COMMIT")
    """)
    assert holder.stdout.readline().strip() == "locked"
    proc = run_cli("run", "-g", "prisoners-dilemma:rounds=2", "-a", "tit-for-tat", "-a", "always-defect", "--json",
                   "--db", str(path))
    assert holder.wait(timeout=300) == 0
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert sum(r["games"] for r in json.loads(proc.stdout)["leaderboard"]) == 4
