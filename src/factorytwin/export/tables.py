"""What can be exported, as columns and row chunks read page by page from the store: raw or bucketed history,
alarms, events, KPIs and work orders. Each source holds one page (or one time window) at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from factorytwin.domain import AlarmState
from factorytwin.export.formats import TIMESTAMP, Chunks, Column, Row
from factorytwin.kpi import KpiFigures, KpiReport
from factorytwin.kpi.timeline import from_ms
from factorytwin.store.base import MAX_LIST_LIMIT, AlarmQuery, EventQuery, HistoryQuery, Store
from factorytwin.workorders import WorkOrder, WorkOrderState

TARGET_ROWS = 50_000
"""Rows a raw-history window aims at: the window grows while it returns fewer, shrinks when it returns more."""
FIRST_WINDOW = timedelta(hours=1)
MIN_WINDOW = timedelta(seconds=10)
MAX_WINDOW = timedelta(days=31)

HISTORY_COLUMNS = [
    Column("machine_id", "string"),
    Column("ts", TIMESTAMP),
    Column("sensor", "string"),
    Column("value", "float64"),
]
BUCKET_COLUMNS = [
    Column("machine_id", "string"),
    Column("sensor", "string"),
    Column("ts", TIMESTAMP),
    Column("min", "float64"),
    Column("max", "float64"),
    Column("avg", "float64"),
    Column("count", "int64"),
]
ALARM_COLUMNS = [
    Column("id", "int64"),
    Column("machine_id", "string"),
    Column("type", "string"),
    Column("severity", "string"),
    Column("state", "string"),
    Column("message", "string"),
    Column("sensor", "string"),
    Column("value", "float64"),
    Column("raised_at", TIMESTAMP),
    Column("acked_at", TIMESTAMP),
    Column("acked_by", "string"),
    Column("cleared_at", TIMESTAMP),
    Column("cleared_by", "string"),
]
EVENT_COLUMNS = [
    Column("id", "int64"),
    Column("machine_id", "string"),
    Column("ts", TIMESTAMP),
    Column("kind", "string"),
    Column("status", "string"),
    Column("message", "string"),
    Column("data", "string"),
]
KPI_FIELDS = (
    "range_s",
    "planned_stop_s",
    "unknown_s",
    "planned_s",
    "run_s",
    "downtime_s",
    "availability",
    "performance",
    "quality",
    "oee",
    "parts_total",
    "parts_good",
    "parts_bad",
    "failures",
    "alarms",
    "mtbf_s",
    "mttr_s",
)
_INT_FIELDS = {"parts_total", "parts_good", "parts_bad", "failures", "alarms"}
KPI_COLUMNS = [
    Column("scope", "string"),
    Column("id", "string"),
    Column("start", TIMESTAMP),
    Column("end", TIMESTAMP),
    *(Column(name, "int64" if name in _INT_FIELDS else "float64") for name in KPI_FIELDS),
    Column("downtime", "string"),
]


async def raw_history(
    store: Store, machine_ids: Sequence[str], start: datetime, end: datetime, sensors: Sequence[str] | None
) -> Chunks:
    """Raw readings of each machine in turn, oldest first, in time windows sized to about ``TARGET_ROWS``."""
    for machine_id in machine_ids:
        span = await store.reading_span(machine_id, start, end)
        if span is None:
            continue  # nothing in the range: not one window read (a range of centuries must not take hours)
        window, a = FIRST_WINDOW, span[0]
        stop = min(end, span[1] + timedelta(milliseconds=1))
        while a < stop:
            b = min(a + window, stop)
            cols = await store.read_range(machine_id, a, b, sensors)
            n = len(cols)
            if n > 4 * TARGET_ROWS and window > MIN_WINDOW:  # too many at once: the same span in smaller bites
                window = max(window / 4, MIN_WINDOW)
                continue
            if n:
                yield list(
                    zip(cols.machine_ids, (from_ms(t) for t in cols.ts_ms), cols.sensors, cols.values, strict=True)
                )
            a = b
            if n < TARGET_ROWS // 2:
                window = min(window * 2, MAX_WINDOW)
            elif n > TARGET_ROWS:
                window = max(window / 2, MIN_WINDOW)


async def bucketed_history(
    store: Store, machines: Sequence[tuple[str, Sequence[str]]], start: datetime, end: datetime, points: int
) -> Chunks:
    """``points`` buckets per sensor (min/max/avg/count; empty buckets left out), one chunk per sensor."""
    for machine_id, sensors in machines:
        for sensor in sensors:
            query = HistoryQuery(machine_id=machine_id, sensor=sensor, start=start, end=end, points=points)
            buckets = await store.history(query)
            if buckets:
                yield [(machine_id, sensor, b.ts, b.min, b.max, b.avg, b.count) for b in buckets]


async def alarms(
    store: Store, machine_id: str | None, start: datetime, end: datetime, states: list[AlarmState] | None
) -> Chunks:
    """Alarms raised in ``[start, end)``, newest first, a page at a time."""
    query = AlarmQuery(machine_id=machine_id, states=states, before=end, limit=MAX_LIST_LIMIT)
    while True:
        page = await store.alarms(query)
        rows: list[Row] = [
            (
                a.id,
                a.machine_id,
                a.type,
                a.severity.value,
                a.state.value,
                a.message,
                a.sensor,
                a.value,
                a.raised_at,
                a.acked_at,
                a.acked_by,
                a.cleared_at,
                a.cleared_by,
            )
            for a in page
            if a.raised_at >= start
        ]
        if rows:
            yield rows
        if len(page) < query.limit or page[-1].id is None or page[-1].raised_at < start:
            return
        query = query.model_copy(update={"before": page[-1].raised_at, "before_id": page[-1].id})


async def events(store: Store, query: EventQuery) -> Chunks:
    """Events matching ``query``, newest first, a page at a time (data as compact JSON text)."""
    query = query.model_copy(update={"limit": MAX_LIST_LIMIT})
    while True:
        page = await store.events(query)
        if page:
            yield [
                (
                    e.id,
                    e.machine_id,
                    e.ts,
                    e.kind.value,
                    e.status.value if e.status else None,
                    e.message,
                    json.dumps(e.data, separators=(",", ":"), sort_keys=True),
                )
                for e in page
            ]
        if len(page) < query.limit or page[-1].id is None:
            return
        query = query.model_copy(update={"before": page[-1].ts, "before_id": page[-1].id})


def kpi_row(scope: str, ident: str | None, f: KpiFigures) -> Row:
    """One row of a KPI export: the scope, the bucket and its figures (downtime by cause as JSON)."""
    values = [getattr(f, name) for name in KPI_FIELDS]
    causes = {d.cause: d.seconds for d in f.downtime}
    return (scope, ident, f.start, f.end, *values, json.dumps(causes, separators=(",", ":")))


async def kpis(report: KpiReport) -> Chunks:
    """A KPI report as rows: one per bucket (the total with group=none), then the total of each child."""
    scope, ident = report.scope.value, report.id
    yield [kpi_row(scope, ident, f) for f in (report.buckets or [report.total])]
    if report.children:
        yield [kpi_row(c.scope.value, c.id, c.total) for c in report.children]


WORK_ORDER_COLUMNS = [
    Column("id", "int64"),
    Column("machine_id", "string"),
    Column("machine_name", "string"),
    Column("line", "string"),
    Column("title", "string"),
    Column("description", "string"),
    Column("state", "string"),
    Column("source", "string"),
    Column("alarm_id", "int64"),
    Column("planned_for", TIMESTAMP),
    Column("assignee", "string"),
    Column("created_at", TIMESTAMP),
    Column("created_by", "string"),
    Column("assigned_at", TIMESTAMP),
    Column("started_at", TIMESTAMP),
    Column("finished_at", TIMESTAMP),
    Column("downtime_start", TIMESTAMP),
    Column("downtime_end", TIMESTAMP),
    Column("downtime_s", "float64"),
    Column("parts", "string"),
    Column("notes", "int64"),
    Column("last_note", "string"),
    Column("updated_at", TIMESTAMP),
]
"""A row per work order, the columns a CMMS import maps: ids, the asset (machine, its name and line), what and
who, the times of its life (created, first assigned, first started, done or cancelled), the downtime covered,
parts used (joined with ``PARTS_SEPARATOR``), how many notes and the last one."""
PARTS_SEPARATOR = "; "


def _utc(ts: datetime | None) -> datetime | None:
    """``ts`` in UTC (orders stored before their times were kept in UTC may carry another offset)."""
    if ts is None or ts.utcoffset() == timedelta(0):
        return ts
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        return ts


def _first_step(order: WorkOrder, states: set[WorkOrderState]) -> datetime | None:
    return next((s.at for s in order.steps if s.state in states), None)


def work_order_row(order: WorkOrder, names: Mapping[str, tuple[str, str | None]]) -> Row:
    """One row of a work-order export; ``names``: machine id -> (its name, its line)."""
    name, line = names.get(order.machine_id, (order.machine_id, None))
    start, end = _utc(order.downtime_start), _utc(order.downtime_end)
    last = order.notes[-1] if order.notes else None
    return (
        order.id,
        order.machine_id,
        name,
        line,
        order.title,
        order.description,
        order.state.value,
        order.source,
        order.alarm_id,
        _utc(order.planned_for),
        order.assignee,
        order.created_at,
        order.created_by,
        _first_step(order, {WorkOrderState.ASSIGNED}),
        _first_step(order, {WorkOrderState.IN_PROGRESS}),
        _first_step(order, {WorkOrderState.DONE, WorkOrderState.CANCELLED}),
        start,
        end,
        (end - start).total_seconds() if start is not None and end is not None else None,
        PARTS_SEPARATOR.join(order.parts),
        len(order.notes),
        last.text if last is not None else None,
        order.updated_at,
    )


async def work_orders(pages: AsyncIterator[list[WorkOrder]], names: Mapping[str, tuple[str, str | None]]) -> Chunks:
    """Work orders as rows, a page at a time (in the order the pages come: newest first)."""
    async for page in pages:
        yield [work_order_row(o, names) for o in page]
