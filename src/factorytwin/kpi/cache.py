"""Per-machine tallies of whole UTC days, kept in memory between KPI requests, so a year's KPIs do not re-read and
re-walk a year of events (docs/ARCHITECTURE.md "KPIs from events").

A machine's **chain** is one scan of its status marks over whole days ``[first, end)``: per day the time part of
its tally (status stretches, downtime, failures, episodes; no parts, no alarms) and the failure runs begun in it,
the scan's state at every day boundary, and its production reports (numpy columns). A request over ``[S, E)``
grouped by day (or not grouped) is then, per machine:

- a **head** ``[S, b)`` scanned from the request's own start (as without the cache) up to the first day boundary
  ``b`` where the request's scan is in the same state as the chain (the same current mark, status and cause): from
  there on both scans see the same events from the same state, so their days are the same;
- the chain's days ``[b, c)``;
- a **tail** ``[c, E)`` read from the store and scanned on from the chain's state at ``c`` (whole days of it extend
  the chain).

Parts, the figures' float sums and alarms are always recomputed for the request's own range from the kept report
columns (numpy, in the same order as before), so the report is the one the uncached computation gives, to the
last bit (tests/unit/kpi/test_fast_path.py). When no boundary within ``HEAD_DAYS`` days of ``S`` matches, the
machine is computed without the cache.

**Invalidation**: each request first asks the store for the events committed since it last looked
(``Store.events_after``, an index range read); an event of a machine at ``ts`` cuts its chain back to the last
day boundary before ``ts`` (the whole chain when ``ts`` is at or before its first day). This sees every writer of
the database (REST, MQTT ingest, the twin, other processes) without hooks, in whatever order concurrent writers
commit (on PostgreSQL the cursor is a transaction horizon, not an id: docs/ARCHITECTURE.md "KPIs from events").
"""

from __future__ import annotations

import asyncio
import weakref
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from factorytwin.domain import Machine, MachineStatus
from factorytwin.kpi.compute import (
    CountColumns,
    Tally,
    count_columns,
    finish,
    stretches,
    sum_stretches,
    tally_machine_both,
)
from factorytwin.kpi.timeline import Mark, facts_of_rows, from_ms, initial_of_facts, marks_of_facts
from factorytwin.store.base import EventCursor, KpiRows, Store

DAY_MS = 86_400_000
HEAD_DAYS = 3
"""Day boundaries after a request's start at which its scan may meet a chain's."""


def floor_day(ms: int) -> int:
    """The start of the UTC day of ``ms``."""
    return ms // DAY_MS * DAY_MS


def day_edges(start: int, end: int) -> list[int]:
    """``[start, next midnights..., end]``: the edges of the day buckets of ``[start, end)``."""
    edges = [start]
    edge = floor_day(start) + DAY_MS
    while edge < end:
        edges.append(edge)
        edge += DAY_MS
    edges.append(end)
    return edges


@dataclass(frozen=True, slots=True)
class State:
    """Where a scan of status marks is at a time: the mark whose stretch is in progress (None: unknown), and the
    status and cause that decide whether the next event makes a new mark."""

    current: Mark | None
    status: MachineStatus | None
    cause: str | None


def start_state(initial: Mark | None) -> State:
    """The state a request's scan starts in: its status at the start, no cause named yet (as ``status_marks``)."""
    return State(initial, initial.status if initial else None, None)


def state_at(marks: Sequence[Mark], marks_ts: Sequence[int], base: State, edge: int) -> State:
    """The state of a scan from ``base`` through ``marks`` just before ``edge``."""
    i = bisect_left(marks_ts, edge) - 1
    if i < 0:
        return base
    mark = marks[i]
    return State(mark, mark.status, mark.cause)


@dataclass(slots=True)
class Chain:
    """One machine's scan over whole days from ``first_ms`` (see the module's docstring)."""

    first_ms: int
    cells: list[Tally]
    runs: list[int]
    states: list[State]
    """``states[k]``: the state at ``first_ms + k`` days (one more than ``cells``)."""
    counts: CountColumns
    """The reports with ``first_ms < ts <= end_ms``."""

    @property
    def end_ms(self) -> int:
        """The end of its last day."""
        return self.first_ms + DAY_MS * len(self.cells)

    def day(self, edge: int) -> int:
        """The index of the day starting at ``edge``."""
        return (edge - self.first_ms) // DAY_MS

    def cut(self, ts: int) -> bool:
        """Drop what an event at ``ts`` may change (the days from the last boundary before it); False when that is
        the whole chain."""
        keep = self.day(floor_day(ts - 1))
        if keep <= 0:
            return False
        if keep < len(self.cells):
            del self.cells[keep:]
            del self.runs[keep:]
            del self.states[keep + 1 :]
            self.counts = self.counts.between(self.first_ms, self.end_ms)
        return True


@dataclass(slots=True)
class _Scan:
    """A scan of ``[start, end)`` cut at midnights: the time part of each day bucket and the runs begun in it."""

    edges: list[int]
    cells: list[Tally]
    runs: list[int]
    marks: list[Mark]
    marks_ts: list[int]
    base: State

    def state(self, edge: int) -> State:
        return state_at(self.marks, self.marks_ts, self.base, edge)

    def chain(self, counts: CountColumns) -> Chain | None:
        """Its whole days as a chain (None when it has none)."""
        first = 0 if self.edges[0] % DAY_MS == 0 else 1
        last = len(self.cells) if self.edges[-1] % DAY_MS == 0 else len(self.cells) - 1
        if last <= first:
            return None
        return Chain(
            first_ms=self.edges[first],
            cells=[c.copy() for c in self.cells[first:last]],
            runs=self.runs[first:last],
            states=[self.state(e) for e in self.edges[first : last + 1]],
            counts=counts.between(self.edges[first], self.edges[last]),
        )


def _scan(start: int, end: int, rows: KpiRows, base: State, resumed: bool) -> _Scan:
    """Scan ``rows``' status events of ``[start, end)`` from ``base``. ``resumed``: ``base`` is a chain's state
    (the scan goes on from there) rather than the request's start (which begins a new failure run)."""
    facts = [f for f in facts_of_rows(rows.status) if start <= f[0] < end]
    marks = marks_of_facts(facts, base.status, base.cause)
    edges = day_edges(start, end)
    cells, runs = stretches(edges, marks, base.current)
    if resumed and runs and base.current is not None and base.current.status is MachineStatus.FAILED:
        at_start = [m for m in marks if m.ts_ms == start]
        first = at_start[-1] if at_start else base.current
        if first.status is MachineStatus.FAILED:
            runs[0] -= 1  # the failure in progress at ``start`` began before it
    return _Scan(edges, cells, runs, marks, [m.ts_ms for m in marks], base)


class KpiCache:
    """The chains of one store's machines (one per store, shared by every ``KpiService`` over it)."""

    def __init__(self, store: Store, lookback: int) -> None:
        self.store = store
        self.lookback = lookback
        self.chains: dict[str, Chain] = {}
        self.watermark: EventCursor | None = None
        self.lock = asyncio.Lock()

    async def _invalidate(self) -> None:
        newest, written = await self.store.events_after(self.watermark)
        for machine_id, ts in written.items():
            chain = self.chains.get(machine_id)
            if chain is not None and not chain.cut(ts):
                del self.chains[machine_id]
        self.watermark = newest

    async def _rows(self, ranges: dict[str, tuple[int, int]]) -> dict[str, KpiRows]:
        """``Store.kpi_rows`` of each machine over its range, one call per distinct range."""
        by_range: dict[tuple[int, int], list[str]] = defaultdict(list)
        for machine_id, span in ranges.items():
            by_range[span].append(machine_id)
        out: dict[str, KpiRows] = {}
        for (lo, hi), ids in by_range.items():
            out.update(await self.store.kpi_rows(ids, from_ms(lo), from_ms(hi), self.lookback))
        return out

    async def tallies(
        self, machines: Sequence[Machine], start: int, end: int, ideal: dict[str, float | None]
    ) -> dict[str, tuple[Tally, list[Tally]]]:
        """Per machine: its tally over ``[start, end)`` and its tallies per UTC day (the first and last clipped)."""
        async with self.lock:
            await self._invalidate()
            ids = [m.id for m in machines]
            alarms = await self.store.alarm_times(ids, from_ms(start), from_ms(end))
            heads: dict[str, tuple[int, int]] = {}
            for machine_id in ids:
                chain = self.chains.get(machine_id)
                if chain is None:
                    continue
                first = max(floor_day(start - 1) + DAY_MS, chain.first_ms)
                last = min(chain.end_ms, floor_day(end), first + HEAD_DAYS * DAY_MS)
                if first <= last:
                    heads[machine_id] = (start, max(last, start + 1))
            head_rows = await self._rows(heads)
            out: dict[str, tuple[Tally, list[Tally]]] = {}
            plans: dict[str, tuple[_Scan | None, int]] = {}  # machine -> (head scan, boundary met)
            for machine_id, rows in head_rows.items():
                plan = self._meet(self.chains[machine_id], rows, start, heads[machine_id][1])
                if plan is not None:
                    plans[machine_id] = plan
            fresh = [m for m in ids if m not in plans]
            fresh_rows = await self._rows({m: (start, end) for m in fresh}) if fresh else {}
            tails: dict[str, tuple[int, int]] = {}
            for machine_id in plans:
                chain = self.chains[machine_id]
                c = min(chain.end_ms, floor_day(end))
                if c < end:
                    tails[machine_id] = (c, end)
            tail_rows = await self._rows(tails)
            for machine_id in fresh:
                out[machine_id] = self._fresh(
                    machine_id, fresh_rows[machine_id], start, end, alarms[machine_id], ideal[machine_id]
                )
            for machine_id, (head, met) in plans.items():
                counted = self._cached(
                    machine_id,
                    head,
                    met,
                    head_rows[machine_id],
                    tail_rows.get(machine_id),
                    start,
                    end,
                    alarms[machine_id],
                    ideal[machine_id],
                )
                if counted is None:  # part counts too large for exact float sums: without the cache
                    rows = (await self._rows({machine_id: (start, end)}))[machine_id]
                    counted = self._fresh(machine_id, rows, start, end, alarms[machine_id], ideal[machine_id])
                out[machine_id] = counted
            return out

    def _meet(self, chain: Chain, rows: KpiRows, start: int, head_end: int) -> tuple[_Scan | None, int] | None:
        """The head scan and the first boundary where it meets ``chain``, or None."""
        base = start_state(initial_of_facts(facts_of_rows(rows.before)))
        facts = facts_of_rows(rows.status)
        marks = marks_of_facts(facts, base.status)
        marks_ts = [m.ts_ms for m in marks]
        edge = max(floor_day(start - 1) + DAY_MS, chain.first_ms)
        while edge <= min(head_end, chain.end_ms):
            if state_at(marks, marks_ts, base, edge) == chain.states[chain.day(edge)]:
                if edge == start:
                    return None, edge
                head = [m for m in marks if m.ts_ms < edge]
                cells, runs = stretches(day_edges(start, edge), head, base.current)
                return _Scan(day_edges(start, edge), cells, runs, head, [m.ts_ms for m in head], base), edge
            edge += DAY_MS
        return None

    def _fresh(
        self, machine_id: str, rows: KpiRows, start: int, end: int, alarms: list[int], ideal: float | None
    ) -> tuple[Tally, list[Tally]]:
        """Without the cache (and keep its whole days as the machine's chain when it has none or a shorter one)."""
        initial = initial_of_facts(facts_of_rows(rows.before))
        counts = count_columns(rows.counts)
        if not isinstance(counts, CountColumns):
            marks = marks_of_facts(facts_of_rows(rows.status), initial.status if initial else None)
            return tally_machine_both(day_edges(start, end), marks, initial, counts, alarms, ideal)
        scan = _scan(start, end, rows, start_state(initial), resumed=False)
        chain = scan.chain(counts)
        old = self.chains.get(machine_id)
        if chain is not None and (old is None or len(old.cells) <= len(chain.cells)):
            self.chains[machine_id] = chain
        return _finish(scan.cells, scan.runs, scan.edges, counts, alarms, ideal)

    def _cached(
        self,
        machine_id: str,
        head: _Scan | None,
        met: int,
        head_rows: KpiRows,
        tail_rows: KpiRows | None,
        start: int,
        end: int,
        alarms: list[int],
        ideal: float | None,
    ) -> tuple[Tally, list[Tally]] | None:
        chain = self.chains[machine_id]
        c = min(chain.end_ms, floor_day(end))
        head_counts = count_columns(head_rows.counts)
        if not isinstance(head_counts, CountColumns):
            return None
        cells = [t.copy() for t in head.cells] if head is not None else []
        runs = list(head.runs) if head is not None else []
        cells += [t.copy() for t in chain.cells[chain.day(met) : chain.day(c)]]
        runs += chain.runs[chain.day(met) : chain.day(c)]
        parts = [head_counts.between(start, met), chain.counts.between(met, c)]
        if tail_rows is not None:
            tail_counts = count_columns(tail_rows.counts)
            if not isinstance(tail_counts, CountColumns):
                return None
            tail = _scan(c, end, tail_rows, chain.states[chain.day(c)], resumed=True)
            if c == chain.end_ms:  # whole days past the chain's end extend it
                days = (floor_day(end) - c) // DAY_MS
                chain.cells += [t.copy() for t in tail.cells[:days]]
                chain.runs += tail.runs[:days]
                chain.states += [tail.state(e) for e in tail.edges[1 : days + 1]]
                chain.counts = CountColumns.concat([chain.counts, tail_counts.between(c, c + days * DAY_MS)])
            cells += tail.cells
            runs += tail.runs
            parts.append(tail_counts.between(c, end))
        return _finish(cells, runs, day_edges(start, end), CountColumns.concat(parts), alarms, ideal)


def _finish(
    cells: list[Tally], runs: list[int], edges: list[int], counts: CountColumns, alarms: list[int], ideal: float | None
) -> tuple[Tally, list[Tally]]:
    total = sum_stretches(cells, runs)
    finish([total], [edges[0], edges[-1]], counts, alarms, ideal)
    finish(cells, edges, counts, alarms, ideal)
    return total, cells


_CACHES: weakref.WeakKeyDictionary[Store, KpiCache] = weakref.WeakKeyDictionary()


def cache_of(store: Store, lookback: int) -> KpiCache:
    """The cache of ``store`` (made on first use; it goes with the store)."""
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES[store] = KpiCache(store, lookback)
    return cache
