"""Aligned history equals the raw answer computed from the readings, on random data, through partial refreshes and
late data, on both backends; its boundaries stay put when the range moves."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from factorytwin.store import Bucketing, HistoryQuery, Store, query_buckets, rollup
from factorytwin.store._rows import from_ms, to_ms
from tests.integration.store.rows import T0, T0_MS, columns

DAY_MS = 86_400_000


def at(ms: int) -> datetime:
    """The aware datetime of ``ms`` since the epoch."""
    return T0 + timedelta(milliseconds=ms - T0_MS)


def aligned(start: int, end: int, points: int) -> HistoryQuery:
    """An aligned history query of mill-01/torque."""
    return HistoryQuery(
        machine_id="mill-01", sensor="torque", start=at(start), end=at(end), points=points, bucketing=Bucketing.ALIGNED
    )


def brute(truth: dict[int, float], query: HistoryQuery) -> list[tuple[int, float, float, float, int]]:
    """The raw answer: every reading of the range in the aligned bucket holding it, by the bucket's start (ms),
    computed without the store's formula: the width, and buckets starting at whole multiples of it (from Monday
    1970-01-05 for weeks)."""
    start, end = to_ms(query.start), to_ms(query.end)
    width = rollup.nice_width(end - start, query.points)
    assert width is not None
    origin = 4 * DAY_MS if width % (7 * DAY_MS) == 0 else 0
    groups: dict[int, list[float]] = defaultdict(list)
    for ts, value in truth.items():
        if start <= ts < end:
            groups[origin + (ts - origin) // width * width].append(value)
    return [(b, min(v), max(v), sum(v) / len(v), len(v)) for b, v in sorted(groups.items())]


async def test_aligned_history_equals_the_raw_answer(store: Store) -> None:
    rng = random.Random(1515)
    days = 400
    truth: dict[int, float] = {}

    async def write(timestamps: list[int]) -> None:
        rows = [("mill-01", "torque", ts, round(rng.uniform(-50, 50), 3)) for ts in timestamps]
        for _, _, ts, value in rows:
            truth.setdefault(ts, value)
        rows += [("mill-01", "power", ts, 1e6) for ts in timestamps[:100]]  # another series, never in the answer
        await store.write_batch(columns(rows))

    checked = [
        aligned(T0_MS, T0_MS + days * DAY_MS, 500),  # 1-day buckets: days, hours and minutes at the ends
        aligned(T0_MS + 5 * 3_600_000 + 17_000, T0_MS + 35 * DAY_MS + 5 * 3_600_000 + 17_000, 500),  # 2 h
        aligned(T0_MS + 99 * DAY_MS + 1234, T0_MS + 103 * DAY_MS, 50),  # 2 h again, over the dense stretch
        aligned(T0_MS + 100 * DAY_MS + 7_777, T0_MS + 100 * DAY_MS + 8 * 3_600_000, 500),  # 1 min: minutes
        aligned(T0_MS + 100 * DAY_MS + 7_777, T0_MS + 100 * DAY_MS + 3_600_000, 500),  # 10 s: raw
        aligned(T0_MS - 3 * DAY_MS, T0_MS + 90 * DAY_MS, 10),  # weeks from Monday
    ]
    for _ in range(12):
        start = T0_MS + rng.randrange(-DAY_MS, days * DAY_MS)
        end = start + rng.randrange(3_600_000, days * DAY_MS)
        checked.append(aligned(start, end, rng.choice([2, 7, 50, 97, 300, 500, 1000])))
    widths = {query_buckets(q).span for q in checked}
    assert {DAY_MS, 2 * 3_600_000, 60_000, 10_000, 7 * DAY_MS} <= widths
    levels = {lv for q in checked if (p := rollup.plan_buckets(query_buckets(q))) for lv in p.levels}
    assert levels == {rollup.DAY, rollup.HOUR, rollup.MINUTE}

    async def check() -> None:
        for query in checked:
            got = await store.history(query)
            want = brute(truth, query)
            where = (query.start, query.end, query.points)
            assert [(to_ms(b.ts), b.count) for b in got] == [(w[0], w[4]) for w in want], where
            for bucket, (_, lo, hi, avg, _n) in zip(got, want, strict=True):
                assert (bucket.min, bucket.max) == (lo, hi), where
                assert bucket.avg == pytest.approx(avg, rel=1e-9, abs=1e-9)
            assert len(got) <= query.points

    await write(rng.sample(range(T0_MS - DAY_MS, T0_MS + (days + 1) * DAY_MS), 6000))
    await write(rng.sample(range(T0_MS + 100 * DAY_MS, T0_MS + 102 * DAY_MS, 1000), 20_000))
    await check()  # rolled up as written
    first_minute = T0_MS // 60_000
    # The sparse batch is thin: merged as written on PostgreSQL, marked (and refreshed now) on SQLite.
    refreshed = await store.refresh_rollups(first_minute + 150 * 1440 + 17)
    assert (refreshed > 0) == (store.backend == "sqlite")
    await check()
    await write(rng.sample(range(T0_MS + 100 * DAY_MS, T0_MS + 101 * DAY_MS), 300))  # late data, rolled-up days
    await check()  # their minutes are dirty: their hours and days are not read
    await store.refresh_rollups(first_minute + (days + 5) * 1440)
    await check()  # everything rolled up


async def test_a_moved_range_keeps_its_bucket_boundaries(store: Store) -> None:
    rows = [("mill-01", "torque", T0_MS + i * 60_000, float(i)) for i in range(3 * 1440)]
    await store.write_batch(columns(rows))
    await store.refresh_rollups(10**9)
    start = T0_MS + 3_600_000 + 4_321
    first = await store.history(aligned(start, start + 2 * DAY_MS, 500))
    moved = await store.history(aligned(start + 7_000, start + 2 * DAY_MS + 7_000, 500))
    width = 10 * 60_000  # 2 days in at most 500 buckets
    assert {to_ms(b.ts) % width for b in first + moved} == {0}
    both = {b.ts: b for b in first} | {b.ts: b for b in moved}
    inner = [ts for ts in both if to_ms(ts) >= start + width and to_ms(ts) + width <= start + 2 * DAY_MS]
    for ts in inner:  # every whole bucket in both ranges: the same bucket with the same readings
        a = next(b for b in first if b.ts == ts)
        b = next(b for b in moved if b.ts == ts)
        assert a == b
    assert first[0].ts == from_ms(start // width * width)  # the first bucket starts before the range
    assert first[0].count == 9  # ... and holds only the range's readings: minutes 61 to 69, not 60
