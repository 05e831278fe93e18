"""The store's file format: its identity, schema versions and forward migrations.

An arena store is an SQLite file with ``PRAGMA application_id = APPLICATION_ID`` and
``PRAGMA user_version`` = the schema version.  Version 0 is the schema of arena 0.1.0
(no identity, no version); each entry of :data:`MIGRATIONS` takes version ``n - 1`` to
``n`` and a new store is built by running them all from an empty file, so the path an old
store takes is the path every store takes.  A file is inspected read-only before arena
writes anything: another program's SQLite file, a store from a newer arena and a
corrupted file are refused with one line and left byte for byte as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from arena.errors import ArenaError

APPLICATION_ID = 0x41524E41  # "ARNA"

SCHEMA_V0 = """
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

# MIGRATIONS[n - 1] takes a store from version n - 1 to n (run inside one transaction).
MIGRATIONS: list[str] = [
    # 1: identity + the lease a process holds while it executes a run (one executor per run)
    f"""
    PRAGMA application_id = {APPLICATION_ID};
    CREATE TABLE leases (
        run_id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, since REAL NOT NULL, beat REAL NOT NULL);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
V0_TABLES = {"runs", "matches", "steps"}


class StoreError(ArenaError, RuntimeError):
    """The database cannot be used (not an arena store, unknown run, ...)."""


def inspect(path: Path) -> int:
    """The schema version of the store at ``path`` (-1: a new, empty file); raises :class:`StoreError`
    for another program's file, a newer arena's store or a corrupted one. Opens the file read-only."""
    if not path.exists() or path.stat().st_size == 0:
        return -1
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as err:
        raise StoreError(f"{path}: cannot open ({err})") from None
    try:
        return _inspect(db, path)
    except sqlite3.DatabaseError as err:
        reason = str(err)
        if "not a database" in reason:
            raise StoreError(f"{path}: not a usable arena database: not an SQLite file; arena will not write to it") from None
        raise StoreError(f"{path}: corrupted database ({reason}); restore a backup or use another --db") from None
    finally:
        db.close()


def _inspect(db: sqlite3.Connection, path: Path) -> int:
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id != APPLICATION_ID:
        if app_id != 0 or version != 0 or (tables and not V0_TABLES <= tables):
            listed = ", ".join(sorted(tables)[:6]) or "none"
            raise StoreError(f"{path}: not a usable arena database: another program's SQLite file (application_id "
                             f"{app_id:#x}, user_version {version}, tables: {listed}); arena will not write to it")
        if not tables:
            return -1  # an empty SQLite file: build the schema in it
        version = 0
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: made by a newer arena (store schema {version}; this arena knows up to "
                         f"{SCHEMA_VERSION}); upgrade arena to use it")
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise StoreError(f"{path}: corrupted database (quick_check: {'; '.join(problems)}); "
                         "restore a backup or use another --db")
    return version


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring an open store from ``version`` (-1: empty) to :data:`SCHEMA_VERSION`, one step per transaction."""
    if version < 0:
        _in_transaction(db, lambda: _script(db, SCHEMA_V0))
        version = 0
    for target in range(version + 1, SCHEMA_VERSION + 1):
        def step(target: int = target) -> None:
            if db.execute("PRAGMA user_version").fetchone()[0] < target:  # another process may have done it
                _script(db, MIGRATIONS[target - 1])
                db.execute(f"PRAGMA user_version = {target}")
        _in_transaction(db, step)


def _in_transaction(db: sqlite3.Connection, action: Callable[[], None]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        action()
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _script(db: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the caller's transaction (``executescript`` would commit)."""
    for statement in filter(None, (s.strip() for s in script.split(";"))):
        db.execute(statement)
