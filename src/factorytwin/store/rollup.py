"""One-minute rollups for history over long ranges, exact by construction.

``rollup_1m`` holds min/max/sum/count of each (machine, sensor, minute). Every write transaction that stores
readings also marks their (machine, sensor, minute) in ``rollup_dirty``; a background refresh recomputes dirty
*closed* minutes from the readings and clears their marks in one transaction, serialised with the writes.

A history query with buckets of two minutes or more reads, in one snapshot:
- from ``rollup_1m``: the minutes that lie wholly inside one bucket and are not dirty;
- from ``readings``: the partial minutes at both ends, the minutes a bucket boundary cuts, and dirty minutes.
The two parts cover every reading of the range exactly once, so the result equals the raw aggregate (avg up to
floating-point summation order). Readings before 1970 (negative ms) are never rolled up; ranges reaching there are
always aggregated raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MINUTE_MS = 60_000
MIN_BUCKET_MS = 2 * MINUTE_MS
"""Narrower buckets are aggregated raw: most of their minutes would be cut by a boundary anyway."""
MIN_ROLLUP_MINUTES = 30
"""Ranges shorter than this are aggregated raw: the rollup would not pay for its second query."""

Aggregate = tuple[int, float, float, float, int]
"""(bucket, min, max, avg, count)"""


def dirty_marks(machines: Sequence[int], sensors: Sequence[int], ts_ms: Sequence[int]) -> list[tuple[int, int, int]]:
    """The (machine, sensor, minute) marks of a batch of readings: per machine, every minute it has readings in,
    times every sensor it has readings of (a superset is harmless: a needless mark only costs a recompute).

    The set-of-zip passes run in C; Python touches only the distinct (machine, ts) and (machine, sensor) pairs.
    """
    minutes: dict[int, set[int]] = {}
    for machine, ts in set(zip(machines, ts_ms, strict=True)):
        if ts >= 0:
            minutes.setdefault(machine, set()).add(ts // MINUTE_MS)
    return [
        (machine, sensor, minute)
        for machine, sensor in set(zip(machines, sensors, strict=True))
        for minute in minutes.get(machine, ())
    ]


def runs(minutes: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted distinct minutes as maximal runs of consecutive minutes ``[first, last]``."""
    out: list[tuple[int, int]] = []
    for minute in sorted(set(minutes)):
        if out and out[-1][1] == minute - 1:
            out[-1] = (out[-1][0], minute)
        else:
            out.append((minute, minute))
    return out


@dataclass(frozen=True, slots=True)
class RollupPlan:
    """How to answer one history query from the rollup plus raw readings."""

    start: int
    end: int
    points: int
    first_minute: int
    """first whole minute of the range (rollup part covers minutes ``[first_minute, end_minute)``)"""
    end_minute: int
    cut_minutes: tuple[int, ...]
    """whole minutes that a bucket boundary cuts: aggregated raw (the rollup query skips them too)"""

    def bucket(self, ts: int) -> int:
        """Bucket index of ``ts``, the same formula as the SQL."""
        return (ts - self.start) * self.points // (self.end - self.start)

    def raw_ranges(self, dirty_minutes: Iterable[int]) -> list[tuple[int, int]]:
        """``[lo, hi)`` ms ranges to aggregate raw: both ends, cut minutes and dirty minutes, each reading once."""
        inside = {m for m in dirty_minutes if self.first_minute <= m < self.end_minute}
        inside.update(self.cut_minutes)
        ranges = [(a * MINUTE_MS, (b + 1) * MINUTE_MS) for a, b in runs(inside)]
        if self.start < self.first_minute * MINUTE_MS:
            ranges.append((self.start, self.first_minute * MINUTE_MS))
        if self.end_minute * MINUTE_MS < self.end:
            ranges.append((self.end_minute * MINUTE_MS, self.end))
        return ranges


def plan(start: int, end: int, points: int) -> RollupPlan | None:
    """A rollup plan for ``points`` buckets over ``[start, end)`` ms, or None when raw aggregation is better."""
    span = end - start
    if start < 0 or span < points * MIN_BUCKET_MS:
        return None
    first = -(-start // MINUTE_MS)
    last = end // MINUTE_MS
    if last - first < MIN_ROLLUP_MINUTES:
        return None
    p = RollupPlan(start, end, points, first, last, ())
    cut = []
    for k in range(1, points):
        boundary = start + -(-(k * span) // points)  # first ms of bucket k
        minute = boundary // MINUTE_MS
        if first <= minute < last and p.bucket(minute * MINUTE_MS) != p.bucket(minute * MINUTE_MS + MINUTE_MS - 1):
            cut.append(minute)
    return RollupPlan(start, end, points, first, last, tuple(cut))


def merge(*parts: Iterable[Sequence[Any]]) -> list[Aggregate]:
    """Combine ``(bucket, min, max, sum, count)`` rows of several parts into ``(bucket, min, max, avg, count)``."""
    acc: dict[int, list[Any]] = {}
    for rows in parts:
        for bucket, lo, hi, total, count in rows:
            a = acc.get(bucket)
            if a is None:
                acc[bucket] = [lo, hi, total, count]
            else:
                a[0] = min(a[0], lo)
                a[1] = max(a[1], hi)
                a[2] += total
                a[3] += count
    return [(b, a[0], a[1], a[2] / a[3], a[3]) for b, a in sorted(acc.items())]


ROLLUP_PART_SQL = """
SELECT ((r.minute * 60000 - {start}) * {points}) / {span} AS bucket, min(r.vmin), max(r.vmax), sum(r.vsum),
  CAST(sum(r.n) AS BIGINT)
FROM rollup_1m r
WHERE r.machine = {machine} AND r.sensor = {sensor} AND r.minute >= {m0} AND r.minute < {m1}
  AND ((r.minute * 60000 - {start}) * {points}) / {span} = ((r.minute * 60000 + 59999 - {start}) * {points}) / {span}
  {clean}
GROUP BY bucket
"""
"""Whole minutes of the range, folded into their buckets; ``{clean}`` excludes the dirty minutes, if any."""
MAX_DIRTY_EXCLUDED = 1000
"""A range with more dirty minutes than this (the refresh is behind) is aggregated raw, still exactly."""

DIRTY_IN_RANGE_SQL = (
    "SELECT minute FROM rollup_dirty WHERE machine = {machine} AND sensor = {sensor} AND minute >= {m0} "
    "AND minute < {m1}"
)

REFRESH_SQL = """
SELECT machine, sensor, ts / 60000, min(value), max(value), sum(value), count(*)
FROM readings WHERE machine = {machine} AND sensor = {sensor} AND ts >= {lo} AND ts < {hi}
GROUP BY machine, sensor, ts / 60000
"""
"""Aggregates of a run of minutes (``lo >= 0``, so integer division is floor division on both backends)."""

REFRESH_LIMIT = 500
"""Dirty marks recomputed per transaction: bounds how long one refresh holds up the writer."""
REFRESH_INTERVAL_S = 5.0
"""How often the background refresh runs."""


def group_runs(marks: Iterable[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """``(machine, sensor, minute)`` marks as ``(machine, sensor, first, last)`` runs of consecutive minutes."""
    by_pair: dict[tuple[int, int], list[int]] = {}
    for machine, sensor, minute in marks:
        by_pair.setdefault((machine, sensor), []).append(minute)
    return [(m, s, a, b) for (m, s), minutes in by_pair.items() for a, b in runs(minutes)]
