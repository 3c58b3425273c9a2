"""GET /exports/{history,alarms,events,kpis,work-orders}: CSV, Parquet or JSON files, streamed in constant memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import ServicesDep
from factorytwin.api.routers.kpi import (
    BAD_INPUT,
    FromParam,
    GroupParam,
    IdParam,
    ScopeParam,
    ToParam,
    check_machine,
    kpi_query,
    kpi_service,
    query_range,
)
from factorytwin.api.routers.workorders import WorkOrdersDep
from factorytwin.domain import AlarmState, EventKind, IsoDatetime
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.export import MEDIA_TYPES, ExportFormat, encode, tables
from factorytwin.export.formats import Chunks, Column
from factorytwin.kpi import Grouping, Scope
from factorytwin.store.base import MAX_HISTORY_POINTS, EventQuery
from factorytwin.workorders import WorkOrderState

router = APIRouter(prefix="/exports", tags=["exports"])

FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the file (CSV with a header row, Parquet, or JSON: an array of objects), streamed",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    },
    **BAD_INPUT,
}
FormatParam = Annotated[ExportFormat, Query(description="csv, parquet or json")]


def _aware(ts: datetime | None) -> datetime | None:
    """A query's time, UTC when it names no zone."""
    return ts if ts is None or ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _file(name: str, fmt: ExportFormat, columns: list[Column], chunks: Chunks) -> StreamingResponse:
    body: AsyncIterator[bytes] = encode(fmt, columns, chunks)
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )


@router.get("/history", response_class=StreamingResponse, responses=FILE)
async def export_history(
    who: Viewer,
    services: ServicesDep,
    machine_id: Annotated[str | None, Query(description="one machine; default: every machine")] = None,
    sensor: Annotated[list[str] | None, Query(description="only these sensors (repeatable)")] = None,
    start: FromParam = None,
    end: ToParam = None,
    points: Annotated[
        int | None, Query(ge=1, le=MAX_HISTORY_POINTS, description="bucketed: this many buckets per sensor")
    ] = None,
    format: FormatParam = ExportFormat.CSV,
) -> StreamingResponse:
    """Readings in `[from, to)`: raw (`machine_id, ts, sensor, value`, by machine then time) or, with `points`,
    bucketed (`machine_id, sensor, ts, min, max, avg, count` per bucket)."""
    check_machine(services, machine_id)
    start_ts, end_ts = query_range(start, end)
    machines = [services.machines[machine_id]] if machine_id else list(services.machines.values())
    if sensor:
        known = {key for m in machines for key in services.registry.specs(m.profile)}
        unknown = [s for s in sensor if s not in known]
        if unknown:
            msg = f"no sensor {unknown[0]!r} on the machines exported; one of: {', '.join(sorted(known))}"
            raise InvalidInput([FieldProblem(("query", "sensor"), msg, unknown[0])])
    if points is not None:
        per_machine = [
            (m.id, [k for k in services.registry.specs(m.profile) if not sensor or k in sensor]) for m in machines
        ]
        chunks = tables.bucketed_history(services.store, per_machine, start_ts, end_ts, points)
        return _file("history-buckets", format, tables.BUCKET_COLUMNS, chunks)
    raw = tables.raw_history(services.store, [m.id for m in machines], start_ts, end_ts, sensor)
    return _file("history", format, tables.HISTORY_COLUMNS, raw)


@router.get("/alarms", response_class=StreamingResponse, responses=FILE)
async def export_alarms(
    who: Viewer,
    services: ServicesDep,
    machine_id: Annotated[str | None, Query()] = None,
    state: Annotated[list[AlarmState] | None, Query(description="repeat to allow several")] = None,
    start: FromParam = None,
    end: ToParam = None,
    format: FormatParam = ExportFormat.CSV,
) -> StreamingResponse:
    """Alarms raised in `[from, to)`, newest first."""
    check_machine(services, machine_id)
    start_ts, end_ts = query_range(start, end)
    chunks = tables.alarms(services.store, machine_id, start_ts, end_ts, state)
    return _file("alarms", format, tables.ALARM_COLUMNS, chunks)


@router.get("/events", response_class=StreamingResponse, responses=FILE)
async def export_events(
    who: Viewer,
    services: ServicesDep,
    machine_id: Annotated[str | None, Query()] = None,
    kind: Annotated[list[EventKind] | None, Query(description="only these kinds (repeatable)")] = None,
    start: FromParam = None,
    end: ToParam = None,
    format: FormatParam = ExportFormat.CSV,
) -> StreamingResponse:
    """Events in `[from, to)`, newest first (`data` as JSON text)."""
    check_machine(services, machine_id)
    start_ts, end_ts = query_range(start, end)
    query = EventQuery(machine_id=machine_id, kinds=kind, start=start_ts, end=end_ts)
    return _file("events", format, tables.EVENT_COLUMNS, tables.events(services.store, query))


@router.get("/kpis", response_class=StreamingResponse, responses=FILE)
async def export_kpis(
    who: Viewer,
    services: ServicesDep,
    scope: ScopeParam = Scope.PLANT,
    scope_id: IdParam = None,
    start: FromParam = None,
    end: ToParam = None,
    group: GroupParam = Grouping.DAY,
    format: FormatParam = ExportFormat.CSV,
) -> StreamingResponse:
    """The KPIs of `GET /kpis` as a table: one row per bucket (the total with group=none), then one row per part
    of the scope (lines of the plant, machines of a line); downtime by cause as JSON text."""
    report = await kpi_service(services).report(kpi_query(scope, scope_id, start, end, group))
    return _file("kpis", format, tables.KPI_COLUMNS, tables.kpis(report))


@router.get("/work-orders", response_class=StreamingResponse, responses=FILE)
async def export_work_orders(
    who: Viewer,
    services: ServicesDep,
    orders: WorkOrdersDep,
    machine_id: Annotated[str | None, Query(description="only this machine's")] = None,
    state: Annotated[list[WorkOrderState] | None, Query(description="only in these states (repeatable)")] = None,
    start: Annotated[IsoDatetime | None, Query(alias="from", description="created at or after (ISO 8601)")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="created before (ISO 8601)")] = None,
    format: FormatParam = ExportFormat.CSV,
) -> StreamingResponse:
    """Work orders created in `[from, to)` (default: all), newest first, a row each with the columns a CMMS
    import maps: `id, machine_id, machine_name, line, title, description, state, source, alarm_id, planned_for,
    assignee, created_at, created_by, assigned_at, started_at, finished_at, downtime_start, downtime_end,
    downtime_s, parts` (joined with `; `), `notes` (how many), `last_note, updated_at`."""
    check_machine(services, machine_id)
    start_ts, end_ts = _aware(start), _aware(end)
    if start_ts is not None and end_ts is not None and start_ts >= end_ts:
        raise InvalidInput([FieldProblem(("query", "from"), "'from' must be before 'to'", start_ts.isoformat())])
    names = {m.id: (m.name, m.line) for m in services.machines.values()}
    pages = orders.pages(machine_id, state, start_ts, end_ts)
    return _file("work-orders", format, tables.WORK_ORDER_COLUMNS, tables.work_orders(pages, names))
