"""Upgrading a SQLite file made by an older schema: the new steps run once and existing readings are rolled up."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from factorytwin.domain import Event, EventKind
from factorytwin.store import EventQuery, HistoryQuery, ReadingColumns, open_store
from factorytwin.store.schema import SQLITE_MIGRATIONS


async def test_a_version_1_file_is_upgraded_and_its_readings_rolled_up(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in SQLITE_MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute("INSERT INTO machines (id, name, kind, line, x, y) VALUES ('p1', 'P', 'pump', 'l', 0, 0)")
    conn.execute("INSERT INTO sensors (key) VALUES ('flow_rate')")
    t0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1000
    conn.executemany(
        "INSERT INTO readings VALUES (1, 1, ?, ?)", [(t0 + i * 10_000, float(i % 50)) for i in range(6 * 60 * 4)]
    )
    conn.commit()
    conn.close()

    store = open_store(f"sqlite:///{path}")
    await store.open()
    try:
        versions = sqlite3.connect(path).execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert versions == [(n,) for n in range(1, len(SQLITE_MIGRATIONS) + 1)]
        assert await store.refresh_rollups(10**9) == 240  # every minute of the old readings was marked dirty
        start = datetime(2026, 1, 1, tzinfo=UTC)
        query = HistoryQuery(machine_id="p1", sensor="flow_rate", start=start, end=start + timedelta(hours=4), points=4)
        buckets = await store.history(query)
        assert [b.count for b in buckets] == [360] * 4
        assert [(b.min, b.max) for b in buckets] == [(0.0, 49.0)] * 4
    finally:
        await store.close()


async def test_a_version_2_file_keeps_its_duplicate_events_and_stores_new_ones_once(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in SQLITE_MIGRATIONS[0] + SQLITE_MIGRATIONS[1]:
        conn.execute(statement)
    conn.executemany("INSERT INTO schema_version VALUES (?)", [(1,), (2,)])
    conn.execute("INSERT INTO machines (id, name, kind, line, x, y) VALUES ('p1', 'P', 'pump', 'l', 0, 0)")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    old = ("p1", int(t0.timestamp()) * 1000, "note", None, "resent before the key existed", "{}")
    conn.executemany("INSERT INTO events (machine_id, ts, kind, status, message, data) VALUES (?,?,?,?,?,?)", [old] * 2)
    conn.commit()
    conn.close()

    store = open_store(f"sqlite:///{path}")
    await store.open()
    try:
        assert (await store.stats()).events == 2  # old rows have no key (NULL) and stay as they were
        event = Event(machine_id="p1", ts=t0, kind=EventKind.NOTE, message="new")
        for _ in range(3):
            await store.write_batch(ReadingColumns(), [event])
        assert (await store.stats()).events == 3
        assert [e.message for e in await store.events(EventQuery())].count("new") == 1
    finally:
        await store.close()


async def test_a_file_with_minute_rollups_gets_its_hours_and_days_from_them(tmp_path: Path) -> None:
    path = tmp_path / "minutes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    before = SQLITE_MIGRATIONS[:-3]  # every step but the hourly and daily rollups (and the two steps after it)
    for number, step in enumerate(before, start=1):
        for statement in step:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
    conn.execute("INSERT INTO machines (id, name, kind, line, x, y) VALUES ('p1', 'P', 'pump', 'l', 0, 0)")
    conn.execute("INSERT INTO sensors (key) VALUES ('flow_rate')")
    t0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1000
    rows = [(t0 + i * 60_000, float(i % 97)) for i in range(3 * 1440)]  # three days, one reading a minute
    conn.executemany("INSERT INTO readings VALUES (1, 1, ?, ?)", rows)
    conn.execute("DELETE FROM rollup_dirty")  # rolled up by the old schema's refresh:
    conn.execute("INSERT INTO rollup_1m SELECT machine, sensor, ts / 60000, value, value, value, 1 FROM readings")
    conn.commit()
    conn.close()

    store = open_store(f"sqlite:///{path}")
    await store.open()
    try:
        check = sqlite3.connect(path)
        assert check.execute("SELECT count(*), sum(n) FROM rollup_1h").fetchone() == (72, 3 * 1440)
        assert check.execute("SELECT count(*), sum(n), min(vmin), max(vmax) FROM rollup_1d").fetchone() == (
            3,
            3 * 1440,
            0.0,
            96.0,
        )
        assert await store.refresh_rollups(10**9) == 0
        start = datetime(2026, 1, 1, tzinfo=UTC)
        query = HistoryQuery(machine_id="p1", sensor="flow_rate", start=start, end=start + timedelta(days=3), points=1)
        [bucket] = await store.history(query)  # one bucket of three whole days: read from rollup_1d
        assert (bucket.count, bucket.min, bucket.max) == (3 * 1440, 0.0, 96.0)
        assert bucket.avg == sum(v for _, v in rows) / len(rows)
    finally:
        await store.close()
