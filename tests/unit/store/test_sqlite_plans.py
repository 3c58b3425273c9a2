"""SQLite's plans for the per-sensor reads of a machine: the sensors outside, two key seeks each, never a scan of
the machine's readings or blocks (which ran a subquery per reading: 500 ms for a machine of a million readings)."""

from __future__ import annotations

import sqlite3

import pytest

from factorytwin.store import sqlite as sqlite_store
from factorytwin.store import sqlite_blocks
from factorytwin.store.schema import SQLITE_MIGRATIONS


@pytest.fixture
def conn() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    for step in SQLITE_MIGRATIONS:
        for statement in step:
            db.execute(statement)
    return db


@pytest.mark.parametrize(
    ("sql", "args"),
    [
        (sqlite_store._LATEST, (1,)),
        (sqlite_blocks.LATEST, (1,)),
        (sqlite_blocks.MACHINE_OVERLAPPING, (1, 0, 10)),
        (sqlite_store._RANGE.format(only=""), (1, 0, 10)),
    ],
    ids=["latest rows", "latest blocks", "a machine's blocks in a range", "a machine's rows in a range"],
)
def test_the_sensors_are_the_outer_loop(conn: sqlite3.Connection, sql: str, args: tuple[int, ...]) -> None:
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
    assert any(step == "SCAN s" for step in plan), plan
    assert not any(step.endswith("(machine=?)") for step in plan), plan
