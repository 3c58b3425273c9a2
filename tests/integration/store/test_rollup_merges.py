"""Rollups kept at write time, on both backends: after writes of new readings (no refresh) every unit of the three
levels equals the aggregate of its readings; a resend adds nothing; a partial resend is marked and recomputed; a
failed batch leaves nothing. Thin batches (a reading or two per series and minute: an edge gateway at 1 Hz) are
exact too, before and after the refresh (SQLite marks them instead of merging; a refresh, or a failed batch, leaves
no mark it thinks is written). (PostgreSQL's concurrent writers: test_pg_ingest.py.)"""

from __future__ import annotations

import math
import random
import sqlite3
import time
from typing import Any

import asyncpg

from factorytwin.domain import Event, EventKind
from factorytwin.errors import StoreRejected
from factorytwin.store import Store
from tests.integration.store.rows import T0, T0_MS, aggregates, columns, sqlite_readings, thin

_LEVELS = (("rollup_1m", "minute", 60_000), ("rollup_1h", "hour", 3_600_000), ("rollup_1d", "day", 86_400_000))


async def _fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the database behind a store URL, outside the store."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
        finally:
            conn.close()
    pg = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await pg.fetch(sql)]
    finally:
        await pg.close()


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """min, max and count equal, the sum up to summation order."""
    return a[0] == b[0] and a[1] == b[1] and a[3] == b[3] and math.isclose(a[2], b[2], rel_tol=1e-12, abs_tol=1e-9)


async def _assert_exact(url: str, dirty_allowed: bool = False) -> set[tuple[int, int, int]]:
    """Every unit without a dirty minute holds exactly the aggregate of its readings (no dirty minute at all unless
    ``dirty_allowed``); the dirty marks."""
    dirty = {(m, s, minute) for m, s, minute in await _fetch(url, "SELECT machine, sensor, minute FROM rollup_dirty")}
    if not dirty_allowed:
        assert dirty == set()
    lite = url.startswith("sqlite")
    every = sqlite_readings(url.removeprefix("sqlite:///")) if lite else []  # SQLite: every partition
    for table, column, unit_ms in _LEVELS:
        rows = await _fetch(url, f"SELECT machine, sensor, {column}, vmin, vmax, vsum, n FROM {table}")
        raw = (
            aggregates(every, unit_ms)
            if lite
            else await _fetch(
                url,
                f"SELECT machine, sensor, ts / {unit_ms}, min(value), max(value), sum(value), count(*) FROM readings "
                "WHERE ts >= 0 GROUP BY 1, 2, 3",
            )
        )
        got, want = {r[:3]: r[3:] for r in rows}, {r[:3]: r[3:] for r in raw}
        stale = {(m, s, minute * 60_000 // unit_ms) for m, s, minute in dirty}
        assert set(got) - stale == set(want) - stale, table
        assert {k: (got[k], want[k]) for k in set(want) - stale if not _same(got[k], want[k])} == {}, table
    return dirty


def _rows(rng: random.Random, stamps: list[int]) -> list[tuple[str, str, int, float]]:
    return [
        (m, s, ts, round(rng.uniform(-9, 9), 3)) for ts in stamps for m in ("mill-01", "pump-01") for s in ("power",)
    ]


async def test_new_readings_are_rolled_up_as_they_are_written(store: Store, store_url: str) -> None:
    rng = random.Random(15)
    midnight = T0_MS - 12 * 3_600_000
    stamps = rng.sample(range(midnight - 1_800_000, midnight + 1_800_000), 4_000)  # dense: ~17 per minute and series
    for k in range(4):  # four writes over the same minutes, hours and days (the hour before midnight and after)
        assert await store.write_batch(columns(_rows(rng, stamps[k * 1000 : (k + 1) * 1000]))) == 2_000
    before_1970 = columns([("mill-01", "torque", -60_001 + i * 30_000, float(i)) for i in range(5)])
    group = [(columns(_rows(rng, [T0_MS + 5 + i for i in range(300)])), ()), (before_1970, ())]
    assert await store.write_batches(group) == [600, 5]
    await _assert_exact(store_url)
    assert await store.refresh_rollups(10**9) == 0


async def test_a_resend_adds_nothing_and_a_partial_one_is_recomputed(store: Store, store_url: str) -> None:
    rng = random.Random(16)
    rows = _rows(rng, [T0_MS + i * 997 for i in range(600)])
    assert await store.write_batch(columns(rows)) == 1_200
    assert await store.write_batch(columns(rows)) == 0
    await _assert_exact(store_url)
    partial = rows[:300] + [("mill-01", "power", T0_MS + i * 997 + 1, 7.5) for i in range(100)]
    assert await store.write_batch(columns(partial)) == 100
    assert await _assert_exact(store_url, dirty_allowed=True)  # marked, not merged: the refresh recomputes them
    more = [("mill-01", "power", T0_MS + i * 997 + 2, -3.25) for i in range(600)]
    assert await store.write_batch(columns(more)) == 600  # merged into units that are still dirty
    assert await store.refresh_rollups(10**9) > 0
    await _assert_exact(store_url)


async def test_a_failed_batch_merges_nothing(store: Store, store_url: str) -> None:
    good = columns([("mill-01", "power", T0_MS + i * 1_000, 1.0) for i in range(120)])
    failing = columns([("mill-01", "power", T0_MS + i * 1_000 + 500, 100.0) for i in range(120)])
    bad_event = Event.model_construct(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, data={"x": object()})
    results = await store.write_batches([(good, ()), (failing, [bad_event])])
    assert results[0] == 120
    assert isinstance(results[1], StoreRejected)
    await _assert_exact(store_url)
    assert max(r[0] for r in await _fetch(store_url, "SELECT vmax FROM rollup_1d")) == 1.0


async def test_thin_batches_are_exact_before_and_after_the_refresh(store: Store, store_url: str) -> None:
    for second in range(90):  # a minute and a half of 1 Hz batches
        assert await store.write_batch(columns(thin(second, float(second % 7)))) == 2
    dirty = await _assert_exact(store_url, dirty_allowed=True)
    assert dirty == set() or store.backend == "sqlite"
    assert (await store.refresh_rollups(10**9) > 0) == (store.backend == "sqlite")
    await _assert_exact(store_url)
    # The refresh deleted the marks: a batch in the same minute after it writes its mark again.
    assert await store.write_batch(columns([("mill-01", "power", T0_MS + 30_500, 100.0)])) == 1
    await _assert_exact(store_url, dirty_allowed=True)
    await store.refresh_rollups(10**9)
    await _assert_exact(store_url)
    assert max(r[0] for r in await _fetch(store_url, "SELECT vmax FROM rollup_1d")) == 100.0


async def test_a_failed_thin_batch_leaves_no_mark_taken_for_written(store: Store, store_url: str) -> None:
    assert await store.write_batch(columns(thin(0, 1.0))) == 2
    bad_event = Event.model_construct(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, data={"x": object()})
    results = await store.write_batches([(columns(thin(120, 5.0)), [bad_event]), (columns(thin(1, 2.0)), ())])
    assert isinstance(results[0], StoreRejected)
    assert results[1] == 2
    assert await store.write_batch(columns(thin(121, 7.0))) == 2  # the minute of the failed batch: marked now
    await _assert_exact(store_url, dirty_allowed=True)
    await store.refresh_rollups(10**9)
    await _assert_exact(store_url)
    assert {r[0] for r in await _fetch(store_url, "SELECT vmax FROM rollup_1m")} == {2.0, 7.0}


async def test_the_refresh_follows_a_data_clock_that_runs_ahead(store: Store, store_url: str) -> None:
    """A simulator at 60x stamps its readings hours ahead of the wall clock: its closed minutes are refreshed."""
    ahead = (int(time.time()) // 60 + 120) * 60_000  # two hours ahead, on a minute
    for minute in (0, 1, 5):
        assert await store.write_batch(columns([("mill-01", "power", ahead + minute * 60_000, 1.0)])) == 1
    await store.refresh_rollups()  # the default horizon
    left = await _assert_exact(store_url, dirty_allowed=True)
    assert {minute for _, _, minute in left} == (set() if store.backend == "postgresql" else {ahead // 60_000 + 5})
