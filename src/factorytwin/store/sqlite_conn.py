"""SQLite connections: the writer's set-up and migrations, and transactions that survive SQLite's own rollbacks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from factorytwin.domain import all_sensor_keys
from factorytwin.store.profiles_rows import seed_bundled_sqlite
from factorytwin.store.schema import SQLITE_MIGRATIONS


def open_writer(path: Path) -> sqlite3.Connection:
    """The writer's connection to ``path`` (created if needed): WAL, fsync at every commit, the schema migrated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: the WAL is fsynced at every commit, so a batch acknowledged with 2xx survives a power cut.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        with_tx(conn, lambda: _migrate(conn))
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    version = row[0] or 0
    for number, step in enumerate(SQLITE_MIGRATIONS, start=1):
        if number > version:
            for statement in step:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    conn.executemany("INSERT OR IGNORE INTO sensors (key) VALUES (?)", [(k,) for k in all_sensor_keys()])
    seed_bundled_sqlite(conn, datetime.now(UTC))


def with_tx(conn: sqlite3.Connection, body: Callable[[], object]) -> None:
    """Run ``body`` in one immediate transaction on ``conn`` (autocommit-mode connection)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        body()
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction on ``conn`` (autocommit-mode connection): every statement in it sees the same state."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already (it does by itself on a full disk or an I/O
    error, and a second ROLLBACK would hide the original error behind "no transaction is active")."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
