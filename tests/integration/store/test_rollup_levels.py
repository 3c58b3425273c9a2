"""History from the minute, hour and day rollups equals the raw answer, on random data, through partial refreshes,
late data and resends, on both backends; a database from before the hour and day levels gets them from its
minutes."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import timedelta

import asyncpg
import pytest

from factorytwin.layout import load_layout
from factorytwin.store import HistoryQuery, Store, open_store, rollup
from factorytwin.store._rows import from_ms
from factorytwin.store.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS
from tests.integration.store.rows import T0, T0_MS, columns

DAY_MS = 86_400_000


def brute(truth: dict[int, float], start: int, end: int, points: int) -> list[tuple[int, float, float, float, int]]:
    """The raw answer: every reading of the range in its bucket."""
    groups: dict[int, list[float]] = defaultdict(list)
    for ts, value in truth.items():
        if start <= ts < end:
            groups[(ts - start) * points // (end - start)].append(value)
    return [(b, min(v), max(v), sum(v) / len(v), len(v)) for b, v in sorted(groups.items())]


def queries(rng: random.Random, days: int) -> list[tuple[int, int, int]]:
    """Fixed long ranges (every level in use) and random ones (any mix of levels, edges anywhere)."""
    out = [
        (T0_MS, T0_MS + days * DAY_MS, 500),
        (T0_MS - 7_777, T0_MS + days * DAY_MS + 12_345, 37),
        (T0_MS + 3_600_001, T0_MS + (days - 3) * DAY_MS - 1, 1),
        (T0_MS + DAY_MS // 3, T0_MS + 30 * DAY_MS, 500),
    ]
    for _ in range(12):
        start = T0_MS + rng.randrange(-DAY_MS, days * DAY_MS)
        end = start + rng.randrange(3_600_000, days * DAY_MS)
        out.append((start, end, rng.choice([1, 2, 7, 50, 97, 300, 500, 1000])))
    return out


async def test_multi_level_history_equals_the_raw_answer(store: Store) -> None:
    rng = random.Random(15)
    days = 400
    truth: dict[int, float] = {}  # ts -> value of mill-01/torque, first write wins

    async def write(timestamps: list[int]) -> None:
        rows = [("mill-01", "torque", ts, round(rng.uniform(-50, 50), 3)) for ts in timestamps]
        rows += [("mill-01", "power", ts, 1e6) for ts in timestamps[:100]]  # another series, never in the answer
        for _, _, ts, value in rows[: len(timestamps)]:
            truth.setdefault(ts, value)
        await store.write_batch(columns(rows))

    checked = queries(rng, days)
    levels = {level for start, end, points in checked if (p := rollup.plan(start, end, points)) for level in p.levels}
    assert levels == {rollup.DAY, rollup.HOUR, rollup.MINUTE}

    async def check() -> None:
        for start, end, points in checked:
            query = HistoryQuery(
                machine_id="mill-01",
                sensor="torque",
                start=T0 + timedelta(milliseconds=start - T0_MS),
                end=T0 + timedelta(milliseconds=end - T0_MS),
                points=points,
            )
            got = await store.history(query)
            want = brute(truth, start, end, points)
            assert [b.count for b in got] == [w[4] for w in want], (start, end, points)
            for bucket, (index, lo, hi, avg, _n) in zip(got, want, strict=True):
                assert (bucket.min, bucket.max) == (lo, hi), (start, end, points, index)
                assert bucket.avg == pytest.approx(avg, rel=1e-9, abs=1e-9)
                assert bucket.ts == from_ms(start + index * (end - start) // points)

    # Sparse readings over the whole span, and a dense stretch of two days (minutes full, boundaries cutting them).
    await write(rng.sample(range(T0_MS - DAY_MS, T0_MS + (days + 1) * DAY_MS), 6000))
    await write(rng.sample(range(T0_MS + 100 * DAY_MS, T0_MS + 102 * DAY_MS, 1000), 20_000))
    await check()  # rolled up as written
    first_minute = T0_MS // 60_000
    # The sparse batch is thin: merged as written on PostgreSQL, marked (and refreshed now) on SQLite.
    refreshed = await store.refresh_rollups(first_minute + 150 * 1440 + 17)
    assert (refreshed > 0) == (store.backend == "sqlite")
    await check()
    await write(rng.sample(range(T0_MS + 100 * DAY_MS, T0_MS + 101 * DAY_MS), 300))  # late data into rolled-up days
    await write(sorted(truth)[:300])  # a resend: nothing new, nothing dirty
    await write(sorted(truth)[:200] + [ts + 1 for ts in sorted(truth)[:50] if ts + 1 not in truth])
    # ... and one with some new readings: its minutes are marked, read raw until the refresh recomputes them
    await check()  # the partial resend's minutes are dirty: their hours and days are not read
    assert await store.refresh_rollups(first_minute + (days + 5) * 1440) > 0
    await check()  # everything rolled up
    await write([T0_MS + 200 * DAY_MS + 59_999, T0_MS + 200 * DAY_MS + 3_600_000])  # merged as written
    await store.refresh_rollups(first_minute + 200 * 1440)  # nothing dirty left
    await check()


async def run_sql(url: str, statements: list[str]) -> None:
    """Run statements on the database behind a store URL, outside the store (as an older version left it)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()
    else:
        pg = await asyncpg.connect(url)
        try:
            for statement in statements:
                await pg.execute(statement)
        finally:
            await pg.close()


async def test_a_database_from_before_the_levels_gets_them_from_its_minutes(store_url: str) -> None:
    store = open_store(store_url)
    await store.open()
    await store.register_machines(load_layout().machines)
    rows = [("mill-01", "torque", T0_MS + i * 7_000, float(i % 101)) for i in range(5 * 86_400 // 7)]
    await store.write_batch(columns(rows))
    await store.refresh_rollups(10**9)
    await store.close()
    assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS)
    # What the schema before the hour and day levels had: the same tables without them (nor the steps after them,
    # SQLite's hot partition and blocks), its version three lower.
    levels_step = len(SQLITE_MIGRATIONS) - 2
    later = (
        [
            "DROP VIEW readings_all",
            "DROP TABLE readings_hot",
            "DROP TABLE readings_blocks",
            "DELETE FROM counters WHERE name IN ('readings_max_ts', 'blocks_max_ts')",
        ]
        if store_url.startswith("sqlite")
        else []
    )
    await run_sql(
        store_url,
        [
            "DROP TABLE rollup_1h",
            "DROP TABLE rollup_1d",
            *later,
            f"DELETE FROM schema_version WHERE version >= {levels_step}",
        ],
    )
    store = open_store(store_url)
    await store.open()  # the migration fills both levels from rollup_1m
    try:
        start = T0 + timedelta(hours=1)
        query = HistoryQuery(
            machine_id="mill-01", sensor="torque", start=start, end=start + timedelta(days=4), points=2
        )
        plan = rollup.plan(T0_MS + 3_600_000, T0_MS + 3_600_000 + 4 * DAY_MS, 2)
        assert plan is not None
        assert rollup.DAY in plan.levels
        assert await store.refresh_rollups(10**9) == 0  # nothing dirty: the answer comes from the levels
        want = brute({ts: v for _, _, ts, v in rows}, T0_MS + 3_600_000, T0_MS + 3_600_000 + 4 * DAY_MS, 2)
        got = await store.history(query)
        assert [(b.count, b.min, b.max) for b in got] == [(n, lo, hi) for _, lo, hi, _, n in want]
        assert [b.avg for b in got] == pytest.approx([w[3] for w in want], rel=1e-12)
    finally:
        await store.close()
