"""/work-orders: maintenance work orders (list, read, create by hand or from an alarm, move, note).

Reads need the viewer role; creating, moving and noting the operator role (the people on the floor run the jobs).
Each write is recorded in the audit trail, and each state change is an event in the machine's event log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from factorytwin.api.auth import Operator, Viewer, audit
from factorytwin.api.deps import ServicesDep
from factorytwin.api.errors import ErrorBody
from factorytwin.domain import MachineId
from factorytwin.store.workorders import work_order_store_for
from factorytwin.workorders.models import (
    WorkOrder,
    WorkOrderCreate,
    WorkOrderNoteIn,
    WorkOrderState,
    WorkOrderTransition,
)
from factorytwin.workorders.service import WorkOrderService

router = APIRouter(tags=["work orders"])

MAX_ID = 2**63 - 1
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such work order", "model": ErrorBody}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the move is not allowed, or the work order changed meanwhile", "model": ErrorBody}
}


def get_work_orders(services: ServicesDep) -> WorkOrderService:
    """FastAPI dependency: the work-order service over the app's store (cheap: a thin wrapper)."""
    twin = services.twin
    return WorkOrderService(
        work_order_store_for(services.store),
        services.store,
        lambda: set(services.machines),
        publish=None if twin is None else twin.hub.event,
    )


WorkOrdersDep = Annotated[WorkOrderService, Depends(get_work_orders)]


@router.get("/work-orders")
async def list_work_orders(
    orders: WorkOrdersDep,
    _: Viewer,
    machine_id: Annotated[MachineId | None, Query(description="only this machine's")] = None,
    state: Annotated[list[WorkOrderState] | None, Query(description="only in these states (repeatable)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[WorkOrder]:
    """Work orders, newest first."""
    return await orders.list(machine_id, state, limit)


@router.get("/work-orders/{order_id}", responses=NOT_FOUND)
async def get_work_order(order_id: int, orders: WorkOrdersDep, _: Viewer) -> WorkOrder:
    """One work order with its steps and notes."""
    return await orders.get(order_id)


@router.post("/work-orders", status_code=status.HTTP_201_CREATED)
async def create_work_order(body: WorkOrderCreate, orders: WorkOrdersDep, who: Operator, request: Request) -> WorkOrder:
    """Open a work order by hand (``machine_id``, ``title``) or from an alarm (``alarm_id``): 422 naming an unknown
    machine or alarm."""
    target = body.machine_id or f"alarm {body.alarm_id}"
    async with audit(request, who, "work_order.create", target) as note:
        created = await orders.create(body, who.name)
        note.detail = f"work order {created.id}"
    return created


@router.post("/work-orders/{order_id}/transition", responses=NOT_FOUND | CONFLICT)
async def transition_work_order(
    order_id: int, body: WorkOrderTransition, orders: WorkOrdersDep, who: Operator, request: Request
) -> WorkOrder:
    """Move a work order: open -> assigned | in_progress | cancelled, assigned -> in_progress | cancelled,
    in_progress -> done | cancelled (409 naming ``state`` otherwise); with an assignee, a note, parts, downtime."""
    async with audit(request, who, "work_order.transition", str(order_id)) as note:
        moved = await orders.transition(order_id, body, who.name)
        note.detail = moved.state.value
    return moved


@router.post("/work-orders/{order_id}/notes", responses=NOT_FOUND | CONFLICT)
async def note_work_order(
    order_id: int, body: WorkOrderNoteIn, orders: WorkOrdersDep, who: Operator, request: Request
) -> WorkOrder:
    """Add a note to a work order."""
    async with audit(request, who, "work_order.note", str(order_id)):
        return await orders.add_note(order_id, body.text, who.name)
