"""Aligned history buckets: a nice width giving at most ``points`` buckets for any range of the span, the same
boundaries when the range moves, and a plan whose levels never straddle a bucket and partition the range."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from factorytwin.store.rollup import (
    DAY,
    DAY_MS,
    HOUR,
    MINUTE,
    MINUTE_MS,
    NICE_WIDTHS_MS,
    aligned_buckets,
    aligned_plan,
    exact_buckets,
    nice_width,
    width_origin,
)

YEAR_MS = 365 * DAY_MS
spans = st.integers(1, 50 * YEAR_MS)
starts = st.integers(-(10**12), 10**13)


@settings(max_examples=500, deadline=None)
@given(start=starts, span=spans, points=st.integers(2, 5000))
def test_the_width_is_the_narrowest_nice_one_with_at_most_points_buckets(start: int, span: int, points: int) -> None:
    b = aligned_buckets(start, start + span, points)
    assert b.aligned
    assert b.span in NICE_WIDTHS_MS
    assert b.points == 1
    touched = b.index(start + span - 1) - b.index(start) + 1
    assert b.index(start) == 0
    assert touched <= points
    assert b.origin <= start < b.origin + b.span  # the first bucket holds the range's start
    assert (b.origin - width_origin(b.span)) % b.span == 0  # on the aligned grid
    narrower = [w for w in NICE_WIDTHS_MS if w < b.span]
    if narrower:  # the next narrower width can give more than `points` buckets to some range of this span
        w = narrower[-1]
        assert (span + w - 2) // w + 1 > points


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 10**13), span=spans, points=st.integers(2, 2000), shift=st.integers(1, 10 * 60_000))
def test_a_range_moved_by_a_few_seconds_keeps_its_width_and_boundaries(
    start: int, span: int, points: int, shift: int
) -> None:
    before = aligned_buckets(start, start + span, points)
    after = aligned_buckets(start + shift, start + shift + span, points)
    assert after.span == before.span
    assert (after.origin - before.origin) % before.span == 0  # one grid: every boundary in both ranges is shared
    for ts in (start + shift, start + span - 1):  # a reading in both ranges is in a bucket of the same start
        if start + shift <= ts < start + span:
            assert before.start_of(before.index(ts)) == after.start_of(after.index(ts))


def test_nice_widths_for_the_usual_chart_ranges() -> None:
    assert nice_width(3 * 365 * DAY_MS, 500) == 3 * DAY_MS
    assert nice_width(30 * DAY_MS, 500) == 2 * 3_600_000
    assert nice_width(DAY_MS, 500) == 5 * MINUTE_MS
    assert nice_width(3_600_000, 500) == 10_000
    assert nice_width(3_600_000, 6) == 15 * MINUTE_MS  # 10 min could give 7 buckets (one partial at each end)
    assert nice_width(60 * DAY_MS, 10) == 7 * DAY_MS
    assert nice_width(10**6, 1) is None


def test_weeks_start_on_monday_and_other_widths_on_the_epoch() -> None:
    wed = int(datetime(2026, 12, 2, 15, tzinfo=UTC).timestamp() * 1000)
    b = aligned_buckets(wed, wed + 60 * DAY_MS, 10)
    assert b.span == 7 * DAY_MS
    monday = datetime.fromtimestamp(b.origin / 1000, UTC)
    assert (monday.weekday(), monday.hour, monday.minute) == (0, 0, 0)
    assert monday == datetime(2026, 11, 30, tzinfo=UTC)
    day = aligned_buckets(wed, wed + 400 * DAY_MS, 500)
    assert day.span == DAY_MS
    assert datetime.fromtimestamp(day.origin / 1000, UTC) == datetime(2026, 12, 2, tzinfo=UTC)


def test_one_point_is_the_exact_bucket_of_the_whole_range() -> None:
    assert aligned_buckets(5, 10**9, 1) == exact_buckets(5, 10**9, 1)


def test_levels_serve_widths_they_divide() -> None:
    def levels(start: int, span: int, points: int) -> tuple[object, ...] | None:
        p = aligned_plan(aligned_buckets(start, start + span, points))
        return None if p is None else p.levels

    t = 1_700_000_000_123
    assert levels(t, 3 * 365 * DAY_MS, 500) == (DAY, HOUR, MINUTE)
    assert levels(t, 30 * DAY_MS, 500) == (HOUR, MINUTE)
    assert levels(t, DAY_MS, 500) == (MINUTE,)
    assert levels(t, 400 * MINUTE_MS, 500) == (MINUTE,)  # one-minute buckets: a minute never straddles two
    assert levels(t, 3_600_000, 500) is None  # 10 s buckets: raw
    assert levels(t, 20 * MINUTE_MS, 2) is None  # too short to pay for the rollups
    assert levels(-DAY_MS, 30 * DAY_MS, 500) is None  # before 1970: raw


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 10**13),
    span=st.integers(30 * MINUTE_MS, 5 * YEAR_MS),
    points=st.integers(2, 1500),
    dirty_seed=st.lists(st.integers(0, 10**7), max_size=20),
)
def test_aligned_parts_partition_the_range_and_never_straddle_a_bucket(
    start: int, span: int, points: int, dirty_seed: list[int]
) -> None:
    b = aligned_buckets(start, start + span, points)
    p = aligned_plan(b)
    if p is None:
        assert b.span < MINUTE_MS or (start + span) // MINUTE_MS - -(-start // MINUTE_MS) < 30
        return
    assert p.boundaries == ()
    assert p.bucket(start) == b.index(start)
    minutes = p.end_minute - p.first_minute
    dirty = [p.first_minute + d % minutes for d in dirty_seed]
    parts = p.parts(dirty)
    pieces = list(parts.raw)
    for part in parts.levels:
        u = part.level.unit_ms
        # one scan at the coarsest level, below it the two ends and the units above holding dirty minutes
        assert len(part.ranges) <= 2 + len(set(dirty))
        units = part.units(p)
        assert not set(units) & {m // part.level.minutes for m in dirty}
        for unit in units:
            assert b.index(unit * u) == b.index(unit * u + u - 1)
        scanned = [unit for lo, hi in part.ranges for unit in range(lo, hi)]
        assert sorted(units) == sorted(set(scanned) - set(part.dirty))  # no unit is skipped as cut
        pieces += [(unit * u, (unit + 1) * u) for unit in units]
    pieces.sort()
    assert pieces[0][0] == start
    assert pieces[-1][1] == start + span
    for (_, hi), (lo, _) in itertools.pairwise(pieces):
        assert hi == lo
