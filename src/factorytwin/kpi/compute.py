"""The KPI arithmetic: time and part tallies per machine and bucket, summed over machines, turned into figures.

Pure functions of marks, counts and alarm times (no I/O), so every formula is tested against hand-computed cases.
Times are integer milliseconds while tallying (exact) and seconds in the figures. Formulas: docs/KPIS.md.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from factorytwin.domain import MachineStatus
from factorytwin.kpi.models import (
    GROUP_STEP,
    SHIFT_ORIGIN_HOUR,
    DowntimeCategory,
    DowntimeCause,
    Grouping,
    KpiFigures,
)
from factorytwin.kpi.timeline import Count, Mark, count_of_row
from factorytwin.store.base import CountRow

if TYPE_CHECKING:  # numpy is imported where it is used, so the API starts without the numeric stack
    import numpy as np
    import numpy.typing as npt

_CATEGORIES: tuple[DowntimeCategory, ...] = ("failure", "maintenance", "stop", "idle", "offline")
NO_COUNTERS = "no part counters (production events) in the range: performance, quality and OEE are unknown"
NO_IDEAL = "part counts without an ideal cycle time: performance and OEE are unknown"
NO_PLANNED = "no planned production time in the range: availability and OEE are undefined"
NO_FAILURES = "no failures in the range: MTBF is undefined (not infinite)"
UNKNOWN_TIME = "part of the range has no known machine status; it is left out of planned production time"


@dataclass(slots=True)
class Tally:
    """Sums of one machine (or of several) over one bucket. Times in ms; ``ideal_ms`` = ideal cycle x parts."""

    range_ms: int = 0
    planned_stop_ms: int = 0
    unknown_ms: int = 0
    run_ms: int = 0
    failed_ms: int = 0
    downtime: dict[str, list[int]] = field(default_factory=dict)  # cause -> [ms, stops]
    failures: int = 0
    episodes: int = 0
    alarms: int = 0
    counted: int = 0  # machines (or reports) with part counters
    ideal_missing: int = 0  # of those, without an ideal cycle time
    parts_total: int = 0
    parts_bad: int = 0
    ideal_ms: float = 0.0
    ideal_good_ms: float = 0.0
    counted_run_ms: int = 0  # run time of the machines with counters and ideal cycle time
    counted_planned_ms: int = 0  # planned time of the same machines

    @property
    def planned_ms(self) -> int:
        """Planned production time: the range less planned stops and time of unknown status."""
        return self.range_ms - self.planned_stop_ms - self.unknown_ms

    def down(self, cause: str, ms: int, stops: int) -> None:
        """Add ``ms`` of downtime (and ``stops`` new stretches) of ``cause``."""
        entry = self.downtime.setdefault(cause, [0, 0])
        entry[0] += ms
        entry[1] += stops

    def add_time(self, other: Tally) -> None:
        """Fold in the time part of ``other``: its integer sums of time, failures and downtime."""
        self.range_ms += other.range_ms
        self.planned_stop_ms += other.planned_stop_ms
        self.unknown_ms += other.unknown_ms
        self.run_ms += other.run_ms
        self.failed_ms += other.failed_ms
        self.failures += other.failures
        for cause, (ms, stops) in other.downtime.items():
            self.down(cause, ms, stops)

    def add(self, other: Tally) -> None:
        """Fold in another machine's tally of the same bucket."""
        self.add_time(other)
        self.episodes += other.episodes
        self.alarms += other.alarms
        self.counted += other.counted
        self.ideal_missing += other.ideal_missing
        self.parts_total += other.parts_total
        self.parts_bad += other.parts_bad
        self.ideal_ms += other.ideal_ms
        self.ideal_good_ms += other.ideal_good_ms
        self.counted_run_ms += other.counted_run_ms
        self.counted_planned_ms += other.counted_planned_ms

    def copy(self) -> Tally:
        """An independent copy (its downtime too)."""
        return Tally(
            self.range_ms,
            self.planned_stop_ms,
            self.unknown_ms,
            self.run_ms,
            self.failed_ms,
            {c: [ms, stops] for c, (ms, stops) in self.downtime.items()},
            self.failures,
            self.episodes,
            self.alarms,
            self.counted,
            self.ideal_missing,
            self.parts_total,
            self.parts_bad,
            self.ideal_ms,
            self.ideal_good_ms,
            self.counted_run_ms,
            self.counted_planned_ms,
        )


EXACT_FLOAT_INT = 2**53
"""Integers up to here are exact as float64: part sums below it are summed by numpy as floats without loss."""


@dataclass(frozen=True, slots=True)
class CountColumns:
    """A machine's production reports as numpy columns (oldest first), summed per bucket by ``np.bincount``.

    ``bincount`` adds its weights one after the other in input order, as the loop over ``Count``s does, and the
    products are the same IEEE operations, so the figures are the same to the last bit. ``ideal_cycle_s`` is NaN
    where a report has none."""

    ts_ms: npt.NDArray[np.int64]
    total: npt.NDArray[np.float64]
    bad: npt.NDArray[np.float64]
    ideal_cycle_s: npt.NDArray[np.float64]

    @staticmethod
    def empty() -> CountColumns:
        """No reports."""
        import numpy as np  # lazily: the API starts without the numeric stack

        none = np.zeros(0, dtype=np.float64)
        return CountColumns(np.zeros(0, dtype=np.int64), none, none, none)

    @staticmethod
    def concat(parts: Sequence[CountColumns]) -> CountColumns:
        """The reports of ``parts`` one after the other."""
        import numpy as np  # lazily: the API starts without the numeric stack

        return CountColumns(
            np.concatenate([p.ts_ms for p in parts]),
            np.concatenate([p.total for p in parts]),
            np.concatenate([p.bad for p in parts]),
            np.concatenate([p.ideal_cycle_s for p in parts]),
        )

    def between(self, after_ms: int, until_ms: int) -> CountColumns:
        """The reports with ``after_ms < ts <= until_ms``."""
        import numpy as np  # lazily: the API starts without the numeric stack

        lo, hi = np.searchsorted(self.ts_ms, [after_ms, until_ms], side="right").tolist()
        return CountColumns(self.ts_ms[lo:hi], self.total[lo:hi], self.bad[lo:hi], self.ideal_cycle_s[lo:hi])

    def add_to(self, out: list[Tally], edges_ms: Sequence[int], ideal_cycle_s: float | None) -> None:
        """Add the reports to the tallies of the buckets ``[edges_ms[i], edges_ms[i+1])`` they close."""
        import numpy as np  # lazily: the API starts without the numeric stack

        n = len(out)
        index = np.searchsorted(np.asarray(edges_ms, dtype=np.int64), self.ts_ms, side="left") - 1
        keep = (index >= 0) & (index < n)
        if not keep.all():
            index = index[keep]
            total, bad, ideal = self.total[keep], self.bad[keep], self.ideal_cycle_s[keep]
        else:
            total, bad, ideal = self.total, self.bad, self.ideal_cycle_s
        if ideal_cycle_s is not None:
            ideal = np.full(len(total), ideal_cycle_s)
        missing = np.isnan(ideal)
        per_ms = np.where(missing, 0.0, ideal) * 1000.0
        reports = np.bincount(index, minlength=n)
        lacking = np.bincount(index, weights=missing, minlength=n)
        parts = np.bincount(index, weights=total, minlength=n)
        parts_bad = np.bincount(index, weights=bad, minlength=n)
        ideal_ms = np.bincount(index, weights=per_ms * total, minlength=n)
        ideal_good_ms = np.bincount(index, weights=per_ms * (total - bad), minlength=n)
        for i in np.flatnonzero(reports).tolist():
            tally = out[i]
            tally.counted += int(reports[i])
            tally.ideal_missing += int(lacking[i])
            tally.parts_total += int(parts[i])
            tally.parts_bad += int(parts_bad[i])
            tally.ideal_ms += float(ideal_ms[i])
            tally.ideal_good_ms += float(ideal_good_ms[i])


def count_columns(rows: Sequence[CountRow]) -> CountColumns | list[Count]:
    """A store's count rows as the reports ``timeline.counts`` makes of the same events: ``CountColumns``, or a
    list of ``Count``s when a part count is too large for float64 sums to be exact."""
    import numpy as np  # lazily: the API starts without the numeric stack

    if not rows:
        return CountColumns.empty()
    table = np.array(rows, dtype=np.float64)  # None (not a number) -> NaN
    total = np.trunc(table[:, 1])
    if total.sum() >= EXACT_FLOAT_INT:
        return [count_of_row(r) for r in rows]
    bad = np.nan_to_num(table[:, 2], nan=-1.0)
    bad = np.minimum(np.where(bad < 0, 0.0, np.trunc(bad)), total)
    ideal = np.nan_to_num(table[:, 3], nan=0.0)
    return CountColumns(
        ts_ms=np.array([r[0] for r in rows], dtype=np.int64),
        total=total,
        bad=bad,
        ideal_cycle_s=np.where(ideal > 0, ideal, np.nan),
    )


def bucket_edges(start: datetime, end: datetime, group: Grouping) -> list[datetime]:
    """Edges of the buckets of ``[start, end)``: aligned to UTC hours, shifts (06/14/22 h) or days, the first
    and last clipped to the range."""
    if group is Grouping.NONE:
        return [start, end]
    step = GROUP_STEP[group]
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # The shift in progress at midnight began at 22:00 the day before.
    origin = day + timedelta(hours=SHIFT_ORIGIN_HOUR) - timedelta(days=1) if group is Grouping.SHIFT else day
    first = origin + step * ((start - origin) // step)
    edges = [start]
    edge = first + step
    while edge < end:
        edges.append(edge)
        edge += step
    edges.append(end)
    return edges


def bucket_count(start: datetime, end: datetime, group: Grouping) -> int:
    """How many buckets ``bucket_edges`` would make, without making them."""
    if group is Grouping.NONE:
        return 1
    step = GROUP_STEP[group]
    return int((end - start) / step) + 2  # an upper bound: at most two partial buckets more


def tally_machine(
    edges_ms: Sequence[int],
    marks: Sequence[Mark],
    initial: Mark | None,
    counts: Sequence[Count] | CountColumns,
    alarms_ms: Sequence[int],
    ideal_cycle_s: float | None = None,
) -> list[Tally]:
    """One machine's tally per bucket ``[edges_ms[i], edges_ms[i+1])``.

    ``marks``: its status changes in the range, oldest first; ``initial``: its status at the range's start (None:
    unknown until the first mark); ``counts``: production reports with ``start < ts <= end`` (``Count``s, or the
    same as ``CountColumns``, summed by numpy to the same figures); ``alarms_ms``: raise times in the range.
    ``ideal_cycle_s`` (the machine's own, e.g. from its metadata) overrides the reports'.
    """
    out, _ = stretches(edges_ms, marks, initial)
    finish(out, edges_ms, counts, alarms_ms, ideal_cycle_s)
    return out


def tally_machine_both(
    edges_ms: Sequence[int],
    marks: Sequence[Mark],
    initial: Mark | None,
    counts: Sequence[Count] | CountColumns,
    alarms_ms: Sequence[int],
    ideal_cycle_s: float | None = None,
) -> tuple[Tally, list[Tally]]:
    """``tally_machine`` over ``[edges_ms[0], edges_ms[-1]]`` (the total) and over ``edges_ms`` (the buckets), the
    same figures as two calls, with the status stretches walked once: the total's times, downtime and failures
    are the buckets' integer sums; its failure episodes are the runs of failed stretches (a repair spanning two
    buckets is one episode of the total)."""
    out, runs = stretches(edges_ms, marks, initial)
    total = sum_stretches(out, runs)
    finish([total], [edges_ms[0], edges_ms[-1]], counts, alarms_ms, ideal_cycle_s)
    finish(out, edges_ms, counts, alarms_ms, ideal_cycle_s)
    return total, out


def sum_stretches(parts: Sequence[Tally], runs: Sequence[int]) -> Tally:
    """The time part of the tally of consecutive buckets' union: their integer sums, and the runs of failed
    stretches begun in them as its failure episodes."""
    total = Tally(episodes=sum(runs))
    for part in parts:
        total.add_time(part)
    return total


def finish(
    out: list[Tally],
    edges_ms: Sequence[int],
    counts: Sequence[Count] | CountColumns,
    alarms_ms: Sequence[int],
    ideal_cycle_s: float | None,
) -> None:
    """Add the reports and alarms to the tallies of their buckets; then ``counted`` says whether they count parts."""
    n = len(out)
    if isinstance(counts, CountColumns):
        counts.add_to(out, edges_ms, ideal_cycle_s)
    else:
        for report in counts:
            i = bisect_left(edges_ms, report.ts_ms) - 1  # a report at an edge closes the bucket before it
            if 0 <= i < n:
                _add_count(out[i], report, ideal_cycle_s)
    for ts in alarms_ms:
        i = bisect_right(edges_ms, ts) - 1
        if 0 <= i < n:
            out[i].alarms += 1
    for tally in out:
        if tally.counted:  # from here on, ``counted`` and ``ideal_missing`` count machines, not reports
            tally.counted = 1
            tally.ideal_missing = min(tally.ideal_missing, 1)
            if tally.ideal_missing:
                tally.ideal_ms = tally.ideal_good_ms = 0.0
            else:
                tally.counted_run_ms = tally.run_ms
                tally.counted_planned_ms = tally.planned_ms


def stretches(edges_ms: Sequence[int], marks: Sequence[Mark], initial: Mark | None) -> tuple[list[Tally], list[int]]:
    """The time part of ``tally_machine``: status stretches, downtime, failures and episodes per bucket; and per
    bucket how many runs of failed stretches begin in it (their sum: the episodes of the range's total)."""
    n = len(edges_ms) - 1
    out = [Tally(range_ms=edges_ms[i + 1] - edges_ms[i]) for i in range(n)]
    start, end = edges_ms[0], edges_ms[-1]
    stretches: list[tuple[int, int, Mark | None]] = []
    current, since = initial, start
    for mark in marks:
        ts = min(max(mark.ts_ms, start), end)
        if ts > since:
            stretches.append((since, ts, current))
        current, since = mark, max(since, ts)
    if end > since:
        stretches.append((since, end, current))
    episode_bucket = -1  # the bucket where the failure in progress was last counted as an episode
    runs = [0] * n
    previous: Mark | None = None
    for a, b, state in stretches:
        first = bisect_right(edges_ms, a) - 1
        started = state is not None and start <= state.ts_ms == a
        failed = state is not None and state.status is MachineStatus.FAILED
        continuing = failed and previous is not None and previous.status is MachineStatus.FAILED
        if failed and not continuing:
            episode_bucket = -1
            runs[first] += 1
        for i in range(first, n):
            lo, hi = max(a, edges_ms[i]), min(b, edges_ms[i + 1])
            if hi <= lo:
                break
            _add_stretch(out[i], state, hi - lo, started and i == first)
            if failed and i != episode_bucket:
                out[i].episodes += 1
                episode_bucket = i
        previous = state
    for mark in marks:
        i = bisect_right(edges_ms, mark.ts_ms) - 1
        if mark.failure and start <= mark.ts_ms < end:
            out[i].failures += 1
    return out, runs


def _add_stretch(tally: Tally, mark: Mark | None, ms: int, started: bool) -> None:
    if mark is None:
        tally.unknown_ms += ms
    elif mark.planned:
        tally.planned_stop_ms += ms
    elif mark.status is MachineStatus.RUNNING:
        tally.run_ms += ms
    else:
        tally.down(mark.cause or "unknown", ms, 1 if started else 0)
        if mark.status is MachineStatus.FAILED:
            tally.failed_ms += ms


def _add_count(tally: Tally, report: Count, ideal_cycle_s: float | None) -> None:
    ideal = ideal_cycle_s if ideal_cycle_s is not None else report.ideal_cycle_s
    tally.counted += 1
    tally.parts_total += report.total
    tally.parts_bad += report.bad
    if ideal is None:
        tally.ideal_missing += 1
    else:
        tally.ideal_ms += ideal * 1000.0 * report.total
        tally.ideal_good_ms += ideal * 1000.0 * (report.total - report.bad)


def _category(cause: str) -> DowntimeCategory:
    head = cause.split(":", 1)[0]
    for category in _CATEGORIES:
        if head == category:
            return category
    return "stop"


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def figures(tally: Tally, start: datetime, end: datetime, time_scale: float = 1.0) -> KpiFigures:
    """The KPIs of a tally (one machine's, or the sum of several machines'), every duration in the machines' time:
    the tally measures the clock that stamps the events, ``time_scale`` machine seconds per second of it (a
    simulator at 60x: 60), while ideal cycle times are machine seconds already."""
    notes: list[str] = []

    def k(ms: float) -> float:  # event-clock ms -> machine seconds (exactly ms / 1000 at scale 1)
        return ms * time_scale / 1000.0

    planned = tally.planned_ms
    if planned <= 0:
        notes.append(NO_PLANNED)
    if tally.unknown_ms:
        notes.append(UNKNOWN_TIME)
    known = tally.counted > 0 and tally.counted > tally.ideal_missing
    if not tally.counted:
        notes.append(NO_COUNTERS)
    elif tally.ideal_missing:
        notes.append(NO_IDEAL)
    performance = _ratio(tally.ideal_ms, tally.counted_run_ms * time_scale) if known else None
    oee = _ratio(tally.ideal_good_ms, tally.counted_planned_ms * time_scale) if known else None
    if tally.failures == 0:
        notes.append(NO_FAILURES)
    downtime = sorted(
        (
            DowntimeCause(cause=c, category=_category(c), seconds=k(ms), stops=stops)
            for c, (ms, stops) in tally.downtime.items()
        ),
        key=lambda d: (-d.seconds, d.cause),
    )
    counted = tally.counted > 0
    return KpiFigures(
        start=start,
        end=end,
        range_s=k(tally.range_ms),
        planned_stop_s=k(tally.planned_stop_ms),
        unknown_s=k(tally.unknown_ms),
        planned_s=k(max(planned, 0)),
        run_s=k(tally.run_ms),
        downtime_s=k(sum(ms for ms, _ in tally.downtime.values())),
        availability=_ratio(tally.run_ms, planned),
        performance=performance,
        quality=_ratio(tally.parts_total - tally.parts_bad, tally.parts_total) if counted else None,
        oee=oee,
        parts_total=tally.parts_total if counted else None,
        parts_good=tally.parts_total - tally.parts_bad if counted else None,
        parts_bad=tally.parts_bad if counted else None,
        performance_loss_s=(tally.counted_run_ms * time_scale - tally.ideal_ms) / 1000.0 if known else None,
        quality_loss_s=(tally.ideal_ms - tally.ideal_good_ms) / 1000.0 if known else None,
        failures=tally.failures,
        alarms=tally.alarms,
        mtbf_s=k(tally.run_ms) / tally.failures if tally.failures else None,
        mttr_s=k(tally.failed_ms) / tally.episodes if tally.episodes else None,
        downtime=downtime,
        notes=notes,
    )
