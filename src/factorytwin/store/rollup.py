"""Exact rollups at three levels (minute, hour, day) for history over long ranges.

``rollup_1m``, ``rollup_1h`` and ``rollup_1d`` hold min/max/sum/count of each (machine, sensor, unit). They are
kept in two ways, and the one invariant below holds through both:

- *Merged at write time*: a batch known to be all new (on PostgreSQL stored by binary ``COPY``, which fails on any
  key stored before; on SQLite one whose ``INSERT OR IGNORE`` stored every row) has its own aggregates
  (``deltas``, computed from its columns) added to its minutes, hours and days in its write transaction (min of
  mins, max of maxes, sum of sums, count of counts; ``pg_ingest``, ``sqlite_history.roll_up_new``).
- *Marked and refreshed*: every other write transaction that stores readings (a batch that stored only part of
  itself: a resend with some new readings; the migration of old databases) marks their
  (machine, sensor, minute) in ``rollup_dirty``; a background refresh recomputes dirty *closed* minutes from the
  readings, then the hours of those minutes from ``rollup_1m`` and their days from ``rollup_1h``, and clears the
  marks, all in one transaction serialised with the writes (on PostgreSQL: an advisory lock that the refresh takes
  exclusively and a write shared, before its marks and merges; on SQLite: the one writer thread).

The invariant: a unit (minute, hour, day) with no dirty minute holds exactly the aggregate of its readings. A
merge adds exactly the aggregate of the readings its transaction adds, in the same commit. A refresh replaces a
minute with the aggregate of every reading it can see, and it sees every committed one and no uncommitted one
whose writer could still merge or mark before it: a writer holding the lock shared commits before the refresh
takes it, a writer that asks for it after commits (readings, merges, marks) after the refresh. So a minute
recomputed by a refresh misses no reading a merge will not add, and a merge never lands on a value it would double
count. An hour (a day) with no dirty minute is exact because the last refresh to recompute it did so from minutes
(hours) that were all exact, and every change since came with a merge. An hour or day that still has a dirty minute
may be stale and is never read.

A history query with buckets of two minutes or more reads, in one snapshot, per level from the coarsest its
buckets allow down to minutes: the units that lie wholly inside the range and inside one bucket and have no dirty
minute, not already covered by a coarser unit; everything left over (the partial minutes at both ends, minutes a
bucket boundary cuts, dirty minutes) from ``readings``. The parts cover every reading of the range exactly once, so
the result equals the raw aggregate (avg up to floating-point summation order). Readings before 1970 (negative ms)
are never rolled up; ranges reaching there are always aggregated raw.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MINUTE_MS = 60_000
MIN_BUCKET_MS = 2 * MINUTE_MS
"""Narrower buckets are aggregated raw: most of their minutes would be cut by a boundary anyway."""
MIN_ROLLUP_MINUTES = 30
"""Ranges shorter than this are aggregated raw: the rollup would not pay for its second query."""

Aggregate = tuple[int, float, float, float, int]
"""(bucket, min, max, avg, count)"""


@dataclass(frozen=True, slots=True)
class Level:
    """One rollup table: its name, the column of its unit and the unit's width."""

    table: str
    column: str
    unit_ms: int

    @property
    def minutes(self) -> int:
        """Minutes per unit."""
        return self.unit_ms // MINUTE_MS


MINUTE = Level("rollup_1m", "minute", MINUTE_MS)
HOUR = Level("rollup_1h", "hour", 60 * MINUTE_MS)
DAY = Level("rollup_1d", "day", 1440 * MINUTE_MS)
LEVELS: tuple[Level, ...] = (DAY, HOUR, MINUTE)
"""Coarse to fine; each unit is a whole number of units of the next."""

Ranges = list[tuple[int, int]]
"""``[lo, hi)`` ranges: of units for a rollup level, of ms for the readings"""


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


@dataclass(frozen=True, slots=True)
class Deltas:
    """The aggregates of some new readings per unit of one level: parallel columns, one entry per distinct
    (machine, sensor, unit), sorted by that key (so writers merging them lock rows in one order)."""

    level: Level
    machine: NDArray[np.int64]
    sensor: NDArray[np.int64]
    unit: NDArray[np.int64]
    vmin: NDArray[np.float64]
    vmax: NDArray[np.float64]
    vsum: NDArray[np.float64]
    n: NDArray[np.int64]


def _group_starts(*keys: NDArray[np.int64]) -> NDArray[np.intp]:
    """Where each run of equal keys starts in sorted key columns."""
    import numpy as np

    change = np.zeros(len(keys[0]), dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def deltas(
    machines: NDArray[Any], sensors: NDArray[Any], ts_ms: NDArray[Any], values: NDArray[np.float64]
) -> list[Deltas]:
    """The minute, hour and day aggregates of these readings (readings before 1970 left out), with numpy: one sort
    by (machine, sensor, minute), then each level grouped from the one below it, which that order also sorts.

    min and max follow PostgreSQL's order of doubles, where NaN is above every number: ``fmin`` skips a NaN
    unless all are, ``maximum`` keeps it. [] when nothing is left to roll up.
    """
    import numpy as np

    ts = np.asarray(ts_ms, dtype=np.int64)
    keep = ts >= 0
    machine, sensor = np.asarray(machines, dtype=np.int64), np.asarray(sensors, dtype=np.int64)
    value = np.asarray(values, dtype=np.float64)
    if not keep.all():
        machine, sensor, ts, value = machine[keep], sensor[keep], ts[keep], value[keep]
    if not len(ts):
        return []
    minute = ts // MINUTE_MS
    order = np.lexsort((minute, sensor, machine))
    machine, sensor, minute, value = machine[order], sensor[order], minute[order], value[order]
    starts = _group_starts(machine, sensor, minute)
    out = [
        Deltas(
            MINUTE,
            machine[starts],
            sensor[starts],
            minute[starts],
            np.fmin.reduceat(value, starts),
            np.maximum.reduceat(value, starts),
            np.add.reduceat(value, starts),
            np.diff(np.append(starts, len(value))).astype(np.int64),
        )
    ]
    for fine, coarse in COARSER:
        d = out[-1]
        unit = d.unit // (coarse.unit_ms // fine.unit_ms)
        starts = _group_starts(d.machine, d.sensor, unit)
        out.append(
            Deltas(
                coarse,
                d.machine[starts],
                d.sensor[starts],
                unit[starts],
                np.fmin.reduceat(d.vmin, starts),
                np.maximum.reduceat(d.vmax, starts),
                np.add.reduceat(d.vsum, starts),
                np.add.reduceat(d.n, starts),
            )
        )
    return out


def runs(minutes: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted distinct minutes as maximal runs of consecutive minutes ``[first, last]``."""
    out: list[tuple[int, int]] = []
    for minute in sorted(set(minutes)):
        if out and out[-1][1] == minute - 1:
            out[-1] = (out[-1][0], minute)
        else:
            out.append((minute, minute))
    return out


def _coalesce(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Disjoint ``[lo, hi)`` ranges sorted, with touching ones joined (one seek each instead of several)."""
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


@dataclass(frozen=True, slots=True)
class LevelPart:
    """What one query reads from one level: the units of ``ranges`` that lie in one bucket and are not in
    ``dirty`` (the SQL applies both conditions, so a range need not stop at every cut or dirty unit)."""

    level: Level
    ranges: Ranges
    dirty: list[int]
    """dirty units of the query's range (holding a dirty minute), skipped"""

    def units(self, plan: RollupPlan) -> list[int]:
        """The units read, as the SQL selects them (for tests: a Python loop over every unit of the ranges)."""
        u = self.level.unit_ms
        skip = set(self.dirty)
        return [
            unit
            for lo, hi in self.ranges
            for unit in range(lo, hi)
            if unit not in skip and plan.bucket(unit * u) == plan.bucket(unit * u + u - 1)
        ]


@dataclass(frozen=True, slots=True)
class RollupParts:
    """What to read for one query: a part per rollup level (coarse to fine) and ms ranges of readings."""

    levels: list[LevelPart]
    raw: Ranges


@dataclass(frozen=True, slots=True)
class RollupPlan:
    """How to answer one history query from the rollup levels plus raw readings."""

    start: int
    end: int
    points: int
    first_minute: int
    """first whole minute of the range (rolled-up parts lie in minutes ``[first_minute, end_minute)``)"""
    end_minute: int
    levels: tuple[Level, ...]
    """the levels this query reads, coarse to fine; always ends with minutes"""
    boundaries: tuple[int, ...]
    """first ms of each bucket after the first that a unit of a level may straddle (none for aligned buckets)"""
    origin: int | None = None
    """with ``span``: the buckets' own formula (``Buckets``) when it is not ``points`` equal parts of the range"""
    span: int | None = None

    def bucket(self, ts: int) -> int:
        """Bucket index of ``ts``, the same formula as the SQL."""
        origin = self.start if self.origin is None else self.origin
        span = self.end - self.start if self.span is None else self.span
        return (ts - origin) * self.points // span

    def cut_units(self, level: Level) -> list[int]:
        """Sorted units of ``level`` that a bucket boundary cuts (a unit spanning two buckets holds the first ms of
        the later one)."""
        u = level.unit_ms
        return sorted({b // u for b in self.boundaries if self.bucket(b // u * u) != self.bucket(b // u * u + u - 1)})

    def parts(self, dirty_minutes: Iterable[int]) -> RollupParts:
        """Split the range: per level the whole, uncut, clean units not under a coarser one; the rest raw.

        At each level, every range still to cover contributes its whole units as one range to scan (the SQL skips
        the cut and dirty ones) and hands its partial units at both ends and its cut and dirty units to the next
        level, as ms ranges.
        """
        dirty = {m for m in dirty_minutes if self.first_minute <= m < self.end_minute}
        todo: Ranges = [(self.start, self.end)]  # ms ranges not covered yet
        levels: list[LevelPart] = []
        for level in self.levels:
            u = level.unit_ms
            dirty_units = sorted({m // level.minutes for m in dirty})
            bad = sorted(set(self.cut_units(level)).union(dirty_units))
            scan: Ranges = []
            rest: Ranges = []
            for lo, hi in todo:
                first, last = -(-lo // u), hi // u
                if first >= last:
                    rest.append((lo, hi))
                    continue
                if lo < first * u:
                    rest.append((lo, first * u))
                if last * u < hi:
                    rest.append((last * u, hi))
                scan.append((first, last))
                rest.extend(
                    (b * u, (b + 1) * u) for b in bad[bisect.bisect_left(bad, first) : bisect.bisect_left(bad, last)]
                )
            if scan:
                levels.append(LevelPart(level, scan, dirty_units))
            todo = _coalesce(rest)
        return RollupParts(levels, todo)

    def raw_ranges(self, dirty_minutes: Iterable[int]) -> Ranges:
        """``[lo, hi)`` ms ranges to aggregate raw: both ends, cut minutes and dirty minutes, each reading once."""
        return self.parts(dirty_minutes).raw


def plan(start: int, end: int, points: int) -> RollupPlan | None:
    """A rollup plan for ``points`` buckets over ``[start, end)`` ms, or None when raw aggregation is better.

    Minutes serve buckets of two minutes or more; hours and days join in when a bucket is at least one of their
    units wide (narrower, no unit would fit in a bucket). So 500 buckets over three years read about a thousand
    days, the hours of the days the boundaries cut, the minutes of the cut hours and the readings of the cut
    minutes: a few hundred thousand values at most instead of 94 M (or 1.6 M minutes).
    """
    span = end - start
    if start < 0 or span < points * MIN_BUCKET_MS:
        return None
    first = -(-start // MINUTE_MS)
    last = end // MINUTE_MS
    if last - first < MIN_ROLLUP_MINUTES:
        return None
    levels = tuple(level for level in LEVELS if level is MINUTE or span >= points * level.unit_ms)
    boundaries = tuple(start + -(-(k * span) // points) for k in range(1, points))
    return RollupPlan(start, end, points, first, last, levels, boundaries)


SECOND_MS = 1000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_ORIGIN_MS = 4 * DAY_MS
"""Monday 1970-01-05 00:00 UTC: where buckets of whole weeks start (1970-01-01 was a Thursday)."""
YEAR_MS = 365 * DAY_MS


def _nice_widths() -> tuple[int, ...]:
    """Bucket widths of aligned history in ms, ascending: 1-2-5 ms and s steps, then the clock's own steps."""
    widths = [1, 2, 5, 10, 20, 50, 100, 200, 500]
    widths += [n * SECOND_MS for n in (1, 2, 5, 10, 15, 30)]
    widths += [n * MINUTE_MS for n in (1, 2, 5, 10, 15, 30)]
    widths += [n * HOUR_MS for n in (1, 2, 3, 6, 12)]
    widths += [n * DAY_MS for n in (1, 2, 3, 7, 14, 30, 60, 90, 180, 365)]
    for decade in range(9):  # 2, 5, 10, ... 10**9 years of 365 days: past any span a datetime can hold
        widths += [n * 10**decade * YEAR_MS for n in (2, 5, 10)]
    return tuple(sorted(set(widths)))


NICE_WIDTHS_MS = _nice_widths()


def most_buckets(span: int, width: int) -> int:
    """The most buckets of ``width`` (epoch-aligned) that any range of ``span`` ms touches, wherever it starts."""
    return (span + width - 2) // width + 1


def nice_width(span: int, points: int) -> int | None:
    """The narrowest nice width whose buckets number at most ``points`` for *any* range of ``span`` ms.

    It depends on the span alone, not on where the range starts, so a range moved by a few seconds (a chart's
    refresh) keeps its width and its boundaries. None for ``points`` < 2: one bucket can hold every range of a
    span only if it is the range itself (the exact mode's one bucket).
    """
    if points < 2:
        return None
    return next(w for w in NICE_WIDTHS_MS if most_buckets(span, w) <= points)


def width_origin(width: int) -> int:
    """Where the buckets of ``width`` are aligned: whole weeks on Mondays, every other width on the epoch."""
    return WEEK_ORIGIN_MS if width % (7 * DAY_MS) == 0 else 0


@dataclass(frozen=True, slots=True)
class Buckets:
    """The buckets of one history query over ``[start, end)`` ms: bucket ``k`` holds the readings with
    ``(ts - origin) * points // span == k``, and starts at ``origin + k * span // points`` (clipped to the range
    only in what it holds).

    Exact mode: ``points`` equal parts of the range (origin = start, span = the range). Aligned mode: ``points``
    = 1, ``span`` = a nice width and ``origin`` the last aligned boundary at or before ``start``, so the index is
    never negative and integer division is floor division on every backend.
    """

    start: int
    end: int
    origin: int
    points: int
    span: int
    aligned: bool

    @property
    def width(self) -> float:
        """The width of a bucket in ms (the first and last of aligned buckets may hold less of the range)."""
        return self.span / self.points

    def index(self, ts: int) -> int:
        """The bucket of ``ts``, as the SQL computes it."""
        return (ts - self.origin) * self.points // self.span

    def start_of(self, index: int) -> int:
        """The first ms of bucket ``index`` (for aligned buckets, a multiple of the width past the alignment)."""
        return self.origin + index * self.span // self.points


def exact_buckets(start: int, end: int, points: int) -> Buckets:
    """``points`` equal buckets of ``[start, end)``."""
    return Buckets(start, end, start, points, end - start, aligned=False)


def aligned_buckets(start: int, end: int, points: int) -> Buckets:
    """At most ``points`` buckets of ``[start, end)`` of a nice, aligned width; exact buckets for ``points`` < 2."""
    width = nice_width(end - start, points)
    if width is None:
        return exact_buckets(start, end, points)
    align = width_origin(width)
    return Buckets(start, end, align + (start - align) // width * width, 1, width, aligned=True)


def aligned_plan(buckets: Buckets) -> RollupPlan | None:
    """A rollup plan for aligned ``buckets``, or None when raw aggregation is better (buckets under a minute,
    ranges under ``MIN_ROLLUP_MINUTES`` or reaching before 1970).

    A level serves when its unit divides the width and the alignment: then no unit straddles two buckets, so every
    bucket wholly inside the range is read from the coarsest such level in one grouped scan, and only the partial
    units at both ends of the range (and units holding dirty minutes) go down to finer levels and the readings.
    """
    start, end, width = buckets.start, buckets.end, buckets.span
    first, last = -(-start // MINUTE_MS), end // MINUTE_MS
    if start < 0 or last - first < MIN_ROLLUP_MINUTES:
        return None
    levels = tuple(lv for lv in LEVELS if width % lv.unit_ms == 0 and buckets.origin % lv.unit_ms == 0)
    if not levels:
        return None
    return RollupPlan(start, end, 1, first, last, levels, (), origin=buckets.origin, span=width)


def plan_buckets(buckets: Buckets) -> RollupPlan | None:
    """The rollup plan of ``buckets`` (aligned or exact), or None: aggregate raw."""
    if buckets.aligned:
        return aligned_plan(buckets)
    return plan(buckets.start, buckets.end, buckets.points)


def merge_sums(*parts: Iterable[Sequence[Any]]) -> list[tuple[int, float, float, float, int]]:
    """Combine ``(bucket, min, max, sum, count)`` rows of several parts, per bucket in bucket order."""
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
    return [(b, a[0], a[1], a[2], a[3]) for b, a in sorted(acc.items())]


def merge(*parts: Iterable[Sequence[Any]]) -> list[Aggregate]:
    """Combine ``(bucket, min, max, sum, count)`` rows of several parts into ``(bucket, min, max, avg, count)``."""
    return [(b, lo, hi, total / count, count) for b, lo, hi, total, count in merge_sums(*parts)]


MAX_DIRTY_EXCLUDED = 1000
"""A range with more dirty minutes than this (the refresh is behind) is aggregated raw, still exactly."""

DIRTY_IN_RANGE_SQL = (
    "SELECT minute FROM rollup_dirty WHERE machine = {machine} AND sensor = {sensor} AND minute >= {m0} "
    "AND minute < {m1}"
)

LEVEL_BUCKET_SQL = (
    "(({alias}.{column} * {unit_ms} - {origin}) * {points}) / {span} AS bucket, min({alias}.vmin), "
    "max({alias}.vmax), sum({alias}.vsum), CAST(sum({alias}.n) AS BIGINT)"
)
"""The select list of a level's part: each unit folded into the bucket of its first ms."""
LEVEL_IN_ONE_BUCKET_SQL = (
    "(({alias}.{column} * {unit_ms} - {origin}) * {points}) / {span} = "
    "(({alias}.{column} * {unit_ms} + {last_ms} - {origin}) * {points}) / {span}"
)
"""The condition that skips units a bucket boundary cuts."""


def level_sql(level: Level, alias: str, origin: str, points: str, span: str) -> tuple[str, str]:
    """(select list, in-one-bucket condition) of a level's part with the backend's placeholders (the bucket
    formula of ``Buckets``)."""
    names = {"alias": alias, "column": level.column, "unit_ms": level.unit_ms, "origin": origin, "points": points}
    return (
        LEVEL_BUCKET_SQL.format(**names, span=span),
        LEVEL_IN_ONE_BUCKET_SQL.format(**names, span=span, last_ms=level.unit_ms - 1),
    )


REFRESH_SQL = """
SELECT machine, sensor, ts / 60000, min(value), max(value), sum(value), count(*)
FROM {readings} WHERE machine = {machine} AND sensor = {sensor} AND ts >= {lo} AND ts < {hi}
GROUP BY machine, sensor, ts / 60000
"""
"""Aggregates of a run of minutes (``lo >= 0``, so integer division is floor division on both backends);
``{readings}``: the table, or SQLite's view of both partitions (its WHERE reaches both: one seek each)."""

ROLL_UP_SQL = """
SELECT machine, sensor, {fine} / {ratio}, min(vmin), max(vmax), sum(vsum), CAST(sum(n) AS BIGINT)
FROM {fine_table} WHERE machine = {machine} AND sensor = {sensor} AND {fine} >= {lo} AND {fine} < {hi}
GROUP BY machine, sensor, {fine} / {ratio}
"""
"""Aggregates of a run of coarse units from the finer level (``{lo}``/``{hi}`` in fine units)."""

COARSER = ((MINUTE, HOUR), (HOUR, DAY))
"""(finer, coarser) pairs, in the order the refresh recomputes them."""


def roll_up_sql(fine: Level, coarse: Level, machine: str, sensor: str, lo: str, hi: str) -> str:
    """The SELECT computing ``coarse`` rows from ``fine`` ones, with the backend's placeholders."""
    return ROLL_UP_SQL.format(
        fine=fine.column,
        ratio=coarse.unit_ms // fine.unit_ms,
        fine_table=fine.table,
        machine=machine,
        sensor=sensor,
        lo=lo,
        hi=hi,
    )


def coarse_runs(
    runs_: Iterable[tuple[int, int, int, int]], fine: Level, coarse: Level
) -> list[tuple[int, int, int, int]]:
    """``(machine, sensor, first, last)`` runs of ``fine`` units as runs of the ``coarse`` units holding them."""
    ratio = coarse.unit_ms // fine.unit_ms
    units = {(m, s, u) for m, s, a, b in runs_ for u in range(a // ratio, b // ratio + 1)}
    return group_runs(units)


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
