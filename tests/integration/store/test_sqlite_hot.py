"""SQLite's hot partition: thin batches go to ``readings_hot``, dense ones to ``readings``, a key is in one of them
at most whatever order resends come in, the move keeps every reading, and every read sees both partitions."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from factorytwin.layout import load_layout
from factorytwin.store import HistoryQuery, sqlite_history
from factorytwin.store.sqlite import SQLiteStore
from tests.integration.store.rows import T0, T0_MS, columns, sqlite_readings, thin

MACHINES = ("mill-01", "pump-01")


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


def _count(store: SQLiteStore, table: str) -> int:
    """Rows of ``table``; readings of ``readings_blocks``; ``every``: every reading of the file."""
    if table == "every":
        return len(sqlite_readings(store.path))
    column = "sum(n)" if table == "readings_blocks" else "count(*)"
    conn = sqlite3.connect(store.path)
    try:
        return int(conn.execute(f"SELECT coalesce({column}, 0) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _dense(first: int, seconds: int, value: float = 2.0) -> list[tuple[str, str, int, float]]:
    """Every second of ``[first, first + seconds)`` of two series (a batch of minutes)."""
    return [(m, "power", T0_MS + s * 1_000, value) for m in MACHINES for s in range(first, first + seconds)]


async def test_thin_batches_go_hot_dense_ones_to_blocks_and_the_move_keeps_them_all(store: SQLiteStore) -> None:
    for second in range(30):
        assert await store.write_batch(columns(thin(second))) == 2
    assert await store.write_batch(columns(_dense(100, 120))) == 240
    assert await store.write_batch(columns(_dense(220, 4))) == 8  # fewer than a block's minimum per series
    parts = ("readings_hot", "readings", "readings_blocks")
    assert tuple(_count(store, t) for t in parts) == (60, 8, 240)
    assert await store.move_hot() == 60
    assert tuple(_count(store, t) for t in parts) == (0, 68, 240)
    assert (await store.stats()).readings == _count(store, "every") == 308


async def test_a_reading_is_stored_once_whichever_partition_holds_it(store: SQLiteStore) -> None:
    for second in range(30):
        await store.write_batch(columns(thin(second)))
    assert await store.write_batch(columns(_dense(20, 20))) == 2 * 10  # seconds 20-29 are hot already
    assert await store.write_batch(columns(thin(25))) == 0  # in the hot partition
    assert await store.write_batch(columns(thin(35))) == 0  # in readings (the dense batch)
    await store.move_hot()
    assert await store.write_batch(columns(thin(5))) == 0  # moved into readings
    assert await store.write_batch(columns(_dense(0, 60))) == 2 * 20  # seconds 40-59 only
    assert _count(store, "every") == 2 * 60 == (await store.stats()).readings


async def test_the_partitions_state_survives_a_restart(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    store = SQLiteStore(path)
    await store.open()
    await store.register_machines(load_layout().machines)
    await store.write_batch(columns(_dense(0, 60)))  # into readings: its newest time is kept in the counters
    await store.write_batch(columns(thin(100)))  # into the hot partition
    await store.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.write_batch(columns(thin(30))) == 0  # older than readings' newest: checked there
        assert await store.write_batch(columns(_dense(90, 20))) == 2 * 19  # the hot partition's second 100 skipped
        assert _count(store, "every") == 2 * (60 + 20)
    finally:
        await store.close()


async def test_reads_see_both_partitions_before_and_after_the_move(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.write_batch(columns(_dense(0, 120, 2.0)))  # readings
    for second in range(120, 150):
        await store.write_batch(columns(thin(second, float(second))))  # hot
    query = HistoryQuery(machine_id="mill-01", sensor="power", start=T0, end=T0 + timedelta(minutes=3), points=3)

    async def reads() -> tuple[object, ...]:
        window = await store.read_range("mill-01", T0, T0 + timedelta(minutes=3))
        return (
            [(b.min, b.max, b.count) for b in await store.history(query)],
            (len(window), window.ts_ms[0], window.ts_ms[-1]),
            await store.reading_span("mill-01", T0, T0 + timedelta(minutes=3)),
            (await store.latest("mill-01"))["power"].value,
        )

    before = await reads()
    assert before[0] == [(2.0, 2.0, 60), (2.0, 2.0, 60), (120.0, 149.0, 30)]
    assert before[1] == (150, T0_MS, T0_MS + 149_000)
    assert before[3] == 149.0  # the newest is in the hot partition
    monkeypatch.setattr(sqlite_history, "HOT_MOVE_ROWS", 7)  # the move in many transactions
    assert await store.move_hot() == 60
    assert await reads() == before
    await store.refresh_rollups(10**9)
    assert await reads() == before


async def test_the_background_refresh_spreads_a_backlog(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from factorytwin.store import rollup

    monkeypatch.setattr(rollup, "REFRESH_LIMIT", 10)
    for minute in range(50):  # two series, 50 closed minutes: 100 marks
        assert await store.write_batch(columns(thin(minute * 60))) == 2
    assert _count(store, "rollup_dirty") == 100
    rounds = []
    while left := _count(store, "rollup_dirty"):
        await store._background_refresh()
        rounds.append(left - _count(store, "rollup_dirty"))
    assert rounds == [40, 40, 20]  # REFRESH_MIN_CHUNKS chunks a round (100 / 10 / 6 is fewer)
    monkeypatch.setattr("factorytwin.store.sqlite.REFRESH_SPREAD_ROUNDS", 1)
    for minute in range(50, 100):
        await store.write_batch(columns(thin(minute * 60)))
    await store._background_refresh()
    assert _count(store, "rollup_dirty") == 0  # a backlog over a round's minimum: enough chunks to clear it
