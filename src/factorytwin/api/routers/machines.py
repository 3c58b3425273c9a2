"""GET /machines, /machines/{id}, /machines/{id}/history, /machines/{id}/events; POST/PUT/DELETE provision them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field, ValidationError

from factorytwin.api.auth import Engineer, Viewer, audit
from factorytwin.api.deps import Services, ServicesDep
from factorytwin.api.errors import ErrorBody, problems_from_validation
from factorytwin.domain import Event, EventKind, IsoDatetime, Machine
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.plant import PlantService
from factorytwin.store import query_buckets
from factorytwin.store.base import (
    MAX_HISTORY_POINTS,
    MAX_ID,
    MAX_LIST_LIMIT,
    Bucketing,
    EventQuery,
    HistoryBucket,
    HistoryQuery,
    LatestValue,
)
from factorytwin.twin.messages import MachineState

router = APIRouter(tags=["machines"])

DEFAULT_HISTORY_WINDOW = timedelta(hours=1)


class MachineView(Machine):
    """A machine of the layout and, when the live twin runs, its live state."""

    state: MachineState | None = None


class MachineDetail(MachineView):
    """A machine, its live state and the newest stored value of each sensor."""

    latest: dict[str, LatestValue]


class History(BaseModel):
    """Bucketed history of one sensor; empty buckets are omitted."""

    machine_id: str
    sensor: str
    unit: str
    start: datetime
    end: datetime
    points: int = Field(description="the number of buckets asked for: exact, that many; aligned, at most that many")
    bucketing: Bucketing = Field(
        description="how the range was cut: `aligned` (`exact` when `points` is 1: one bucket of the whole range) "
        "or `exact`"
    )
    bucket_ms: float = Field(
        description="the width of every bucket in ms. Aligned: a whole nice width, each bucket's `ts` a multiple of "
        "it from the epoch (weeks from Monday 1970-01-05); the first and last bucket may reach past `from` and `to` "
        "and hold only the readings inside. Exact: `(to - from) / points`"
    )
    buckets: list[HistoryBucket]


def _state(services: Services, machine: Machine) -> MachineState | None:
    return services.machine_state(machine.id) if services.machine_state is not None else None


def _utc(ts: datetime) -> datetime:
    """Query times without an offset are taken as UTC."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


@router.get("/machines")
async def list_machines(who: Viewer, services: ServicesDep) -> list[MachineView]:
    """Every machine of the layout with its live state (null when the twin is not running)."""
    return [MachineView(**m.model_dump(), state=_state(services, m)) for m in services.machines.values()]


def _plant(services: Services) -> PlantService:
    return services.plant


@router.post("/machines", status_code=status.HTTP_201_CREATED, responses={422: {"model": ErrorBody}})
async def create_machine(body: Machine, who: Engineer, services: ServicesDep, request: Request) -> Machine:
    """Provision a machine live: 422 naming the field for a taken id, an unknown profile or a band override that
    does not fit the profile. Written to the event log and pushed to every dashboard (``machine_changed``)."""
    async with audit(request, who, "machine.create", body.id):
        return await _plant(services).create(body, who.name)


@router.put("/machines/{machine_id}", responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def update_machine(
    machine_id: str, body: Machine, who: Engineer, services: ServicesDep, request: Request
) -> Machine:
    """Replace a machine: move, rotate, rename, another profile, band overrides, metadata (the id stays). The
    history of the sensors it keeps stays readable."""
    async with audit(request, who, "machine.update", machine_id):
        return await _plant(services).update(machine_id, body, who.name)


@router.delete("/machines/{machine_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": ErrorBody}})
async def delete_machine(machine_id: str, who: Engineer, services: ServicesDep, request: Request) -> Response:
    """Take a machine off the plant: it stops being accepted by ingest and leaves the floor; its stored history,
    events and alarms stay readable (a machine created again with the same id continues it)."""
    async with audit(request, who, "machine.delete", machine_id):
        await _plant(services).delete(machine_id, who.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/machines/{machine_id}", responses={404: {"description": "no such machine"}})
async def get_machine(who: Viewer, machine_id: str, services: ServicesDep) -> MachineDetail:
    """A machine's metadata, live state and latest stored value of each sensor."""
    machine = services.machine(machine_id)
    latest = await services.store.latest(machine_id)
    return MachineDetail(**machine.model_dump(), state=_state(services, machine), latest=latest)


@router.get(
    "/machines/{machine_id}/history",
    responses={404: {"description": "no such machine"}, 422: {"description": "unknown sensor or bad range"}},
)
async def get_history(
    who: Viewer,
    machine_id: str,
    services: ServicesDep,
    sensor: Annotated[str, Query(description="sensor key of the machine's kind")],
    start: Annotated[IsoDatetime | None, Query(alias="from", description="ISO 8601; default: `to` - 1 h")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="ISO 8601; default: now")] = None,
    points: Annotated[
        int, Query(ge=1, le=MAX_HISTORY_POINTS, description="number of buckets (aligned: at most this many)")
    ] = 500,
    bucketing: Annotated[
        Bucketing,
        Query(
            description="`aligned` (default): at most `points` buckets of a nice width (1, 2, 5, 10, 15, 30 s or "
            "min, 1, 2, 3, 6, 12 h, 1, 2, 3 d, 1 or 2 weeks from Monday, 30, 60, 90, 180, 365 d, ...) on fixed "
            "boundaries from the epoch, so a chart's refresh keeps them; `exact`: `points` equal buckets from "
            "`from` to `to`"
        ),
    ] = Bucketing.ALIGNED,
) -> History:
    """Min/max/avg/count of one sensor per time bucket between `from` and `to` (empty buckets left out).

    Aligned (the default, as InfluxDB's `GROUP BY time`, Grafana's `$__interval`): the width is the narrowest nice
    one giving at most `points` buckets for any range of this length, and a bucket's `ts` is its aligned start,
    so the first one may start before `from` (it holds only readings from `from` on) and the last may end after
    `to`. `exact`: `points` equal buckets, the first starting at `from`. `bucket_ms` states the width either way.
    """
    machine = services.machine(machine_id)
    specs = services.registry.sensors(machine)
    if sensor not in specs:
        msg = f"machine {machine_id} (profile {machine.profile}) has no sensor {sensor!r}; one of: {', '.join(specs)}"
        raise InvalidInput([FieldProblem(("query", "sensor"), msg, sensor)])
    end_ts = _utc(end) if end is not None else datetime.now(UTC)
    start_ts = _utc(start) if start is not None else end_ts - DEFAULT_HISTORY_WINDOW
    try:
        query = HistoryQuery(
            machine_id=machine_id, sensor=sensor, start=start_ts, end=end_ts, points=points, bucketing=bucketing
        )
    except ValidationError as exc:
        raise InvalidInput(problems_from_validation(exc, ("query",))) from None
    cut = query_buckets(query)
    buckets = await services.store.history(query)
    return History(
        machine_id=machine_id,
        sensor=sensor,
        unit=specs[sensor].unit,
        start=start_ts,
        end=end_ts,
        points=points,
        bucketing=Bucketing.ALIGNED if cut.aligned else Bucketing.EXACT,
        bucket_ms=cut.width,
        buckets=buckets,
    )


@router.get("/machines/{machine_id}/events", responses={404: {"description": "no such machine"}})
async def get_events(
    who: Viewer,
    machine_id: str,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
    kind: Annotated[list[EventKind] | None, Query(description="only these kinds (repeatable)")] = None,
    start: Annotated[IsoDatetime | None, Query(alias="from", description="ISO 8601")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="ISO 8601")] = None,
    before: Annotated[IsoDatetime | None, Query(description="next page: `ts` of the last event of the page")] = None,
    before_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="next page: `id` of the last event (used only with `before`)")
    ] = None,
) -> list[Event]:
    """The machine's event log (status changes, faults, maintenance, commands), newest first.

    At most `limit` events; for the next page pass the last event's `ts` as `before` and its `id` as `before_id`.
    """
    services.machine(machine_id)
    try:
        query = EventQuery(
            machine_id=machine_id,
            kinds=kind,
            start=_utc(start) if start is not None else None,
            end=_utc(end) if end is not None else None,
            limit=limit,
            before=_utc(before) if before is not None else None,
            before_id=before_id if before is not None else None,  # a tie-breaker within `before` only
        )
    except ValidationError as exc:
        raise InvalidInput(problems_from_validation(exc, ("query",))) from None
    return await services.store.events(query)
