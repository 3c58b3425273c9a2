"""``WorkOrderService``: create (by hand or from an alarm), assign, move through the allowed states, note.

Every change is compare-and-set on the stored version (409 on a concurrent change) and is written to the plant's
event log as a ``note`` event of the machine (``data.work_order``, ``data.state``); completing one also writes a
``maintenance`` event without a status (``data.reason = "work_order"``), which the what-if replicas read as the
machine's last maintenance. Neither event sets the machine's status, so KPIs are not changed by them.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from factorytwin.domain import Event, EventKind
from factorytwin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from factorytwin.store.base import Store
from factorytwin.workorders.models import (
    ALLOWED,
    MAX_NOTES,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderNote,
    WorkOrderSource,
    WorkOrderState,
    WorkOrderStep,
    WorkOrderTransition,
)
from factorytwin.workorders.storage import WorkOrderStore, WorkOrderWindow

Clock = Callable[[], datetime]
PAGE = 500
"""Work orders read at a time by ``pages``."""


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(loc: tuple[str | int, ...], msg: str, value: object = None) -> InvalidInput:
    return InvalidInput([FieldProblem(("body", *loc), msg, value)])


class WorkOrderService:
    """Work orders of the plant's machines, with their events."""

    def __init__(
        self,
        orders: WorkOrderStore,
        store: Store,
        machine_ids: Callable[[], set[str]],
        clock: Clock = _now,
        publish: Callable[[Event], None] | None = None,
    ) -> None:
        self.publish = publish
        self.orders = orders
        self.store = store
        self.machine_ids = machine_ids
        self.clock = clock

    async def get(self, order_id: int) -> WorkOrder:
        """A work order; ``NotFound`` when there is none."""
        found = await self.orders.get(order_id) if 0 < order_id < 2**63 else None
        if found is None:
            raise NotFound(f"no work order {order_id}")
        return found

    async def list(self, machine_id: str | None, states: list[WorkOrderState] | None, limit: int) -> list[WorkOrder]:
        """Work orders, newest first."""
        return await self.orders.list(machine_id, states, limit)

    async def pages(
        self,
        machine_id: str | None,
        states: builtins.list[WorkOrderState] | None,
        start: datetime | None,
        end: datetime | None,
        page: int = PAGE,
    ) -> AsyncIterator[builtins.list[WorkOrder]]:
        """Every work order of a machine (or all), in some states (or all), created in ``[start, end)``, newest
        first, ``page`` at a time (an export holds one page)."""
        window = WorkOrderWindow(start, end)
        while True:
            found = await self.orders.list(machine_id, states, page, window)
            if found:
                yield found
            if len(found) < page:
                return
            window = WorkOrderWindow(start, end, (found[-1].created_at, found[-1].id))

    async def create(self, body: WorkOrderCreate, by: str) -> WorkOrder:
        """A new open (or, with an assignee, assigned) work order; 422 naming an unknown machine or alarm."""
        machine_id, title = body.machine_id, body.title
        source: WorkOrderSource = body.source or "manual"
        if source == "schedule" and body.alarm_id is not None:
            raise _invalid(("source",), "a work order from the schedule has no alarm_id", source)
        if source == "schedule" and body.planned_for is None:
            raise _invalid(("planned_for",), "a work order from the schedule needs the visit's planned_for")
        if source != "schedule" and body.planned_for is not None:
            raise _invalid(("planned_for",), 'planned_for is for a visit of the schedule (source "schedule")')
        if body.alarm_id is not None:
            alarm = await self.store.alarm(body.alarm_id)
            if alarm is None:
                raise _invalid(("alarm_id",), "no such alarm", body.alarm_id)
            if machine_id is not None and machine_id != alarm.machine_id:
                raise _invalid(("machine_id",), f"the alarm is on {alarm.machine_id}", machine_id)
            machine_id, title, source = alarm.machine_id, title or alarm.message[:200], "alarm"
            if not title:
                title = alarm.type[:200]
        assert machine_id is not None
        assert title is not None
        if machine_id not in self.machine_ids():
            raise _invalid(("machine_id",), "unknown machine", machine_id)
        now = self.clock()
        state = WorkOrderState.ASSIGNED if body.assignee else WorkOrderState.OPEN
        steps = [WorkOrderStep(state=WorkOrderState.OPEN, at=now, by=by)]
        if state is WorkOrderState.ASSIGNED:
            steps.append(WorkOrderStep(state=state, at=now, by=by))
        order = WorkOrder(
            id=0,
            machine_id=machine_id,
            title=title,
            description=body.description,
            source=source,
            alarm_id=body.alarm_id,
            planned_for=body.planned_for,
            state=state,
            assignee=body.assignee,
            downtime_start=body.downtime_start,
            downtime_end=body.downtime_end,
            created_at=now,
            created_by=by,
            updated_at=now,
            version=1,
            steps=steps,
        )
        saved = await self.orders.create(order)
        await self._events(saved, f"work order {saved.id} opened: {saved.title}")
        return saved

    async def transition(self, order_id: int, change: WorkOrderTransition, by: str) -> WorkOrder:
        """Move a work order to ``change.state``: 409 naming ``state`` when the move is not allowed."""
        order = await self.get(order_id)
        if change.state not in ALLOWED[order.state]:
            raise Conflict(f"a work order that is {order.state.value} cannot become {change.state.value}", ("state",))
        assignee = change.assignee or order.assignee
        if change.state is WorkOrderState.ASSIGNED and not assignee:
            raise _invalid(("assignee",), "assigning needs an assignee")
        start = change.downtime_start or order.downtime_start
        end = change.downtime_end or order.downtime_end
        if start is not None and end is not None and end < start:
            raise _invalid(("downtime_end",), "before downtime_start", end.isoformat())
        now = self.clock()
        notes = list(order.notes)
        if change.note:
            notes.append(WorkOrderNote(at=now, by=by, text=change.note))
        updated = order.model_copy(
            update={
                "state": change.state,
                "assignee": assignee,
                "downtime_start": start,
                "downtime_end": end,
                "parts": change.parts if change.parts is not None else order.parts,
                "notes": notes[-MAX_NOTES:],
                "steps": [*order.steps, WorkOrderStep(state=change.state, at=now, by=by)],
                "updated_at": now,
                "version": order.version + 1,
            }
        )
        await self._replace(updated, order.version)
        await self._events(updated, f"work order {order.id} {change.state.value.replace('_', ' ')} by {by}")
        return updated

    async def add_note(self, order_id: int, text: str, by: str) -> WorkOrder:
        """Add a note (allowed in every state, the final ones too: a late finding still belongs to the job)."""
        order = await self.get(order_id)
        if len(order.notes) >= MAX_NOTES:
            raise Conflict(f"a work order keeps at most {MAX_NOTES} notes", ("text",))
        now = self.clock()
        updated = order.model_copy(
            update={
                "notes": [*order.notes, WorkOrderNote(at=now, by=by, text=text)],
                "updated_at": now,
                "version": order.version + 1,
            }
        )
        await self._replace(updated, order.version)
        return updated

    async def _replace(self, updated: WorkOrder, read_version: int) -> None:
        if not await self.orders.replace(updated, read_version):
            raise Conflict(f"work order {updated.id} was changed meanwhile: read it again", ("version",))

    async def _events(self, order: WorkOrder, message: str) -> None:
        data: dict[str, object] = {"work_order": order.id, "state": order.state.value, "by": order.steps[-1].by}
        if order.assignee:
            data["assignee"] = order.assignee
        events = [
            Event(machine_id=order.machine_id, ts=order.updated_at, kind=EventKind.NOTE, message=message, data=data)
        ]
        if order.state is WorkOrderState.DONE:
            events.append(
                Event(
                    machine_id=order.machine_id,
                    ts=order.updated_at,
                    kind=EventKind.MAINTENANCE,
                    message=f"work order {order.id} done: {order.title}"[:200],
                    data={"work_order": order.id, "reason": "work_order", "parts": list(order.parts)},
                )
            )
        saved = await self.store.write_events(events)
        if self.publish is not None:
            for event in saved:
                self.publish(event)
