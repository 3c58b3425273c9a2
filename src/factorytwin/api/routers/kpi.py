"""GET /kpis (OEE, MTBF, MTTR, downtime by cause per plant, line or machine) and GET /events (the plant's log)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, ValidationError

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import Services, ServicesDep
from factorytwin.api.errors import problems_from_validation
from factorytwin.domain import Event, EventKind, IsoDatetime
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.kpi import MAX_BUCKETS, Grouping, KpiQuery, KpiReport, KpiService, Scope
from factorytwin.kpi.timeline import from_ms, to_ms
from factorytwin.store.base import MAX_ID, MAX_LIST_LIMIT, EventQuery

router = APIRouter(tags=["kpis"])

DEFAULT_WINDOW = timedelta(hours=24)
BAD_INPUT: dict[int | str, dict[str, Any]] = {
    422: {"description": "bad range, grouping, cursor or an unknown machine or line (naming the field)"}
}
_CURSOR = re.compile(r"^(-?\d{1,15})\.(\d{1,19})$")


def kpi_service(services: Services) -> KpiService:
    """The KPI service over the app's store and layout."""
    lines = {line.id: line.name for line in services.layout.lines}
    return KpiService(services.store, list(services.machines.values()), lines, services.settings.time_scale)


def query_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """``[from, to)`` of a query, UTC: ``to`` defaults to now, ``from`` to ``to`` - 24 h; 422 naming ``from``
    unless ``from`` < ``to``."""
    end_ts = _utc(end) if end is not None else datetime.now(UTC)
    start_ts = _utc(start) if start is not None else end_ts - DEFAULT_WINDOW
    if start_ts >= end_ts:
        raise InvalidInput([FieldProblem(("query", "from"), "'from' must be before 'to'", start_ts.isoformat())])
    return start_ts, end_ts


def check_machine(services: Services, machine_id: str | None, field: str = "machine_id") -> None:
    """422 naming ``field`` when ``machine_id`` is not a machine of the layout."""
    if machine_id is not None and machine_id not in services.machines:
        msg = f"no machine {machine_id!r} in the factory layout"
        raise InvalidInput([FieldProblem(("query", field), msg, machine_id)])


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def kpi_query(
    scope: Scope, scope_id: str | None, start: datetime | None, end: datetime | None, group: Grouping
) -> KpiQuery:
    """A validated ``KpiQuery`` from query parameters (422 naming the field)."""
    start_ts, end_ts = query_range(start, end)
    try:
        return KpiQuery(scope=scope, id=scope_id, start=start_ts, end=end_ts, group=group)
    except ValidationError as exc:
        raise InvalidInput(problems_from_validation(exc, ("query",))) from None


ScopeParam = Annotated[Scope, Query(description="plant, line or machine")]
IdParam = Annotated[str | None, Query(alias="id", description="the line's or machine's id (not for the plant)")]
FromParam = Annotated[IsoDatetime | None, Query(alias="from", description="ISO 8601; default: `to` - 24 h")]
ToParam = Annotated[IsoDatetime | None, Query(alias="to", description="ISO 8601; default: now")]
GroupParam = Annotated[
    Grouping, Query(description=f"buckets: none, hour, shift (06/14/22 h UTC) or day (UTC); at most {MAX_BUCKETS}")
]


@router.get("/kpis", responses=BAD_INPUT)
async def get_kpis(
    who: Viewer,
    services: ServicesDep,
    scope: ScopeParam = Scope.PLANT,
    scope_id: IdParam = None,
    start: FromParam = None,
    end: ToParam = None,
    group: GroupParam = Grouping.NONE,
) -> KpiReport:
    """Availability, performance, quality, OEE, MTBF, MTTR, downtime by cause and failure/alarm counts of the
    plant, a line or a machine over `[from, to)`: the total, one entry per bucket of `group`, and the totals of
    the scope's parts (the plant's lines, a line's machines) for drill-down. Definitions: docs/KPIS.md."""
    query = kpi_query(scope, scope_id, start, end, group)
    return await kpi_service(services).report(query)


class EventPage(BaseModel):
    """A page of the plant's event log, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    events: list[Event]
    next_cursor: str | None = Field(description="null on the last page")


def parse_cursor(cursor: str) -> tuple[datetime, int]:
    """(before, before_id) of a cursor ``<ts ms>.<id>``; 422 naming ``cursor`` when it is not one."""
    found = _CURSOR.match(cursor)
    if found is None or int(found.group(2)) > MAX_ID:
        raise InvalidInput([FieldProblem(("query", "cursor"), "not a cursor of this list (use next_cursor)", cursor)])
    try:
        return from_ms(int(found.group(1))), int(found.group(2))
    except OverflowError:
        raise InvalidInput([FieldProblem(("query", "cursor"), "cursor time out of range", cursor)]) from None


@router.get("/events", responses=BAD_INPUT)
async def list_events(
    who: Viewer,
    services: ServicesDep,
    machine_id: Annotated[str | None, Query(description="only this machine's events")] = None,
    kind: Annotated[list[EventKind] | None, Query(description="only these kinds (repeatable)")] = None,
    start: Annotated[IsoDatetime | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor` of the previous page")] = None,
) -> EventPage:
    """The plant-wide event log (status changes, faults, maintenance, commands, production), newest first."""
    check_machine(services, machine_id)
    start_ts = _utc(start) if start is not None else None
    end_ts = _utc(end) if end is not None else None
    if start_ts is not None and end_ts is not None and start_ts >= end_ts:
        raise InvalidInput([FieldProblem(("query", "from"), "'from' must be before 'to'", start_ts.isoformat())])
    before, before_id = parse_cursor(cursor) if cursor is not None else (None, None)
    try:
        query = EventQuery(
            machine_id=machine_id,
            kinds=kind,
            start=start_ts,
            end=end_ts,
            limit=limit,
            before=before,
            before_id=before_id,
        )
    except ValidationError as exc:
        raise InvalidInput(problems_from_validation(exc, ("query",))) from None
    events = await services.store.events(query)
    last = events[-1] if len(events) == limit else None
    next_cursor = f"{to_ms(last.ts)}.{last.id}" if last is not None and last.id is not None else None
    return EventPage(events=events, next_cursor=next_cursor)
