"""The rollup planner: the rollup part and the raw ranges cover every millisecond of a range exactly once."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from factorytwin.store.rollup import DAY, HOUR, MINUTE, MINUTE_MS, Level, dirty_marks, group_runs, merge, plan, runs


def covered(start: int, end: int, points: int, dirty: list[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """(raw ranges, whole minutes taken from the rollup) of a plan, the way the store uses them."""
    p = plan(start, end, points)
    assert p is not None
    rolled = [
        m
        for m in range(p.first_minute, p.end_minute)
        if p.bucket(m * MINUTE_MS) == p.bucket(m * MINUTE_MS + MINUTE_MS - 1) and m not in dirty
    ]
    return p.raw_ranges(dirty), rolled


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 10**12),
    minutes=st.integers(30, 3000),
    extra=st.integers(0, MINUTE_MS - 1),
    points=st.integers(1, 1500),
    dirty_seed=st.lists(st.integers(0, 3000), max_size=20),
)
def test_rollup_and_raw_parts_partition_the_range(
    start: int, minutes: int, extra: int, points: int, dirty_seed: list[int]
) -> None:
    end = start + minutes * MINUTE_MS + extra
    p = plan(start, end, points)
    if p is None:  # read raw: nothing to partition
        whole_minutes = end // MINUTE_MS - -(-start // MINUTE_MS)
        assert end - start < points * 2 * MINUTE_MS or whole_minutes < 30
        return
    dirty = [p.first_minute + d for d in dirty_seed]
    raw, rolled = covered(start, end, points, dirty)
    pieces = sorted([*raw, *((m * MINUTE_MS, (m + 1) * MINUTE_MS) for m in rolled)])
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    for (_, hi), (lo, _) in itertools.pairwise(pieces):
        assert hi == lo  # no gap, no overlap
    for m in rolled:  # a rolled-up minute never spans two buckets
        assert p.bucket(m * MINUTE_MS) == p.bucket(m * MINUTE_MS + MINUTE_MS - 1)


def test_narrow_buckets_and_short_ranges_are_read_raw() -> None:
    assert plan(0, 3_600_000, 500) is None  # 7.2 s buckets
    assert plan(0, 20 * MINUTE_MS, 2) is None  # 20 minutes
    assert plan(-MINUTE_MS, 10**9, 10) is None  # before 1970
    assert plan(0, 10**9, 10) is not None


def test_dirty_marks_pair_each_machines_minutes_with_its_sensors() -> None:
    machines = [1, 1, 1, 2]
    sensors = [7, 8, 7, 9]
    ts = [0, 0, 61_000, 120_000]
    assert sorted(dirty_marks(machines, sensors, ts)) == [(1, 7, 0), (1, 7, 1), (1, 8, 0), (1, 8, 1), (2, 9, 2)]


def test_runs_and_merge() -> None:
    assert runs([5, 3, 4, 9, 3]) == [(3, 5), (9, 9)]
    assert group_runs([(1, 2, 3), (1, 2, 4), (1, 3, 4)]) == [(1, 2, 3, 4), (1, 3, 4, 4)]
    merged = merge([(0, 1.0, 5.0, 6.0, 2)], [(0, 0.5, 2.0, 2.5, 2), (3, 1.0, 1.0, 1.0, 1)])
    assert merged == [(0, 0.5, 5.0, 8.5 / 4, 4), (3, 1.0, 1.0, 1.0, 1)]


@settings(max_examples=100, deadline=None)
@given(
    start=st.integers(0, 10**12),
    span=st.integers(30 * MINUTE_MS, 3 * 365 * 1440 * MINUTE_MS),
    points=st.integers(1, 1500),
    dirty_seed=st.lists(st.integers(0, 3 * 365 * 1440), max_size=30),
)
def test_levels_and_raw_parts_partition_the_range(start: int, span: int, points: int, dirty_seed: list[int]) -> None:
    end = start + span
    p = plan(start, end, points)
    if p is None:
        return
    dirty = [p.first_minute + d % max(1, p.end_minute - p.first_minute) for d in dirty_seed]
    parts = p.parts(dirty)
    pieces = list(parts.raw)
    for part in parts.levels:
        level = part.level
        assert level in p.levels
        dirty_units = {m // level.minutes for m in dirty}
        for unit in part.units(p):  # whole, in one bucket, clean
            assert p.bucket(unit * level.unit_ms) == p.bucket((unit + 1) * level.unit_ms - 1)
            assert unit not in dirty_units
            pieces.append((unit * level.unit_ms, (unit + 1) * level.unit_ms))
    pieces.sort()
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    for (_, hi), (lo, _) in itertools.pairwise(pieces):
        assert hi == lo  # no gap, no overlap
    assert parts.raw == p.raw_ranges(dirty)


def test_the_coarsest_level_a_bucket_holds_is_chosen() -> None:
    day = 1440 * MINUTE_MS

    def levels(span: int) -> tuple[Level, ...]:
        p = plan(0, span, 500)
        assert p is not None
        return p.levels

    assert levels(3 * 365 * day) == (DAY, HOUR, MINUTE)  # 2.2-day buckets
    assert levels(30 * day) == (HOUR, MINUTE)  # 86-minute buckets
    assert levels(7 * day) == (MINUTE,)  # 20-minute buckets
    three_years = plan(day // 3, day // 3 + 3 * 365 * day, 500)
    assert three_years is not None
    parts = three_years.parts([])
    rows = {part.level: len(part.units(three_years)) for part in parts.levels}
    assert rows[DAY] < 1100  # whole days, then a few hours and minutes per boundary
    assert rows[HOUR] < 500 * 24
    assert rows[MINUTE] < 500 * 60
    assert sum(b - a for a, b in parts.raw) <= 501 * MINUTE_MS  # at most the cut minutes and the edges
