"""The rollup planner: the rollup part and the raw ranges cover every millisecond of a range exactly once."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from factorytwin.store.rollup import MINUTE_MS, dirty_marks, group_runs, merge, plan, runs


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
