"""What both work-order stores share: the row <-> model conversion and the list query."""

from __future__ import annotations

import json
from typing import Any

from factorytwin.store._rows import to_ms
from factorytwin.workorders.models import WorkOrder, WorkOrderState
from factorytwin.workorders.storage import WorkOrderWindow

COLUMNS = "id, body"


def body_of(order: WorkOrder) -> str:
    """The stored JSON body (the id lives in its column)."""
    return order.model_dump_json(exclude={"id"})


def order_from_row(row: Any) -> WorkOrder:
    """A stored (id, body) row as a ``WorkOrder``."""
    body = json.loads(row[1])
    body["id"] = int(row[0])
    return WorkOrder.model_validate(body)


def insert_args(order: WorkOrder) -> tuple[object, ...]:
    """The values of an insert: machine, state, created, version, body."""
    return (order.machine_id, order.state.value, to_ms(order.created_at), order.version, body_of(order))


def list_query(
    machine_id: str | None,
    states: list[WorkOrderState] | None,
    limit: int,
    mark: str,
    window: WorkOrderWindow | None = None,
) -> tuple[str, list[object]]:
    """The list SELECT with placeholders made by ``mark(n)`` ("?" or "$n") and its arguments."""
    where: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return mark.format(n=len(args))

    if machine_id is not None:
        where.append(f"machine_id = {arg(machine_id)}")
    if window is not None:
        if window.start is not None:
            where.append(f"created_at >= {arg(to_ms(window.start))}")
        if window.end is not None:
            where.append(f"created_at < {arg(to_ms(window.end))}")
        if window.before is not None:  # the next page: strictly older in (created_at, id) order
            ms, order_id = to_ms(window.before[0]), window.before[1]
            where.append(f"(created_at < {arg(ms)} OR (created_at = {arg(ms)} AND id < {arg(order_id)}))")
    if states:
        marks = []
        for s in states:
            args.append(s.value)
            marks.append(mark.format(n=len(args)))
        where.append(f"state IN ({', '.join(marks)})")
    args.append(limit)
    sql = f"SELECT {COLUMNS} FROM work_orders"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY created_at DESC, id DESC LIMIT {mark.format(n=len(args))}"
    return sql, args
