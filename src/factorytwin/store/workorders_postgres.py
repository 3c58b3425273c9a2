"""The PostgreSQL ``WorkOrderStore``: the work-order table in the store's database, over its connection pool."""

from __future__ import annotations

from factorytwin.store._rows import models_from_rows
from factorytwin.store.postgres import PostgresStore
from factorytwin.store.translate import translate_postgres, translated
from factorytwin.store.workorders_rows import COLUMNS, body_of, insert_args, list_query, order_from_row
from factorytwin.workorders.models import WorkOrder, WorkOrderState
from factorytwin.workorders.storage import WorkOrderWindow

_pg = translated(translate_postgres)


class PostgresWorkOrderStore:
    """Work orders in a ``PostgresStore``'s database (the table made by its migrations)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    @_pg
    async def create(self, order: WorkOrder) -> WorkOrder:
        """Store a new work order and return it with its id."""
        order_id = await self.store.pool.fetchval(
            "INSERT INTO work_orders (machine_id, state, created_at, version, body) VALUES ($1, $2, $3, $4, $5)"
            " RETURNING id",
            *insert_args(order),
        )
        return order.model_copy(update={"id": int(order_id)})

    @_pg
    async def get(self, order_id: int) -> WorkOrder | None:
        """A work order, or None."""
        rows = await self.store.pool.fetch(f"SELECT {COLUMNS} FROM work_orders WHERE id = $1", order_id)
        found = models_from_rows(rows, order_from_row, "work order")
        return found[0] if found else None

    @_pg
    async def list(
        self,
        machine_id: str | None = None,
        states: list[WorkOrderState] | None = None,
        limit: int = 500,
        window: WorkOrderWindow | None = None,
    ) -> list[WorkOrder]:
        """Work orders, newest first."""
        sql, args = list_query(machine_id, states, limit, "${n}", window)
        return models_from_rows(await self.store.pool.fetch(sql, *args), order_from_row, "work order")

    @_pg
    async def replace(self, order: WorkOrder, read_version: int) -> bool:
        """Compare-and-set on the version."""
        status = await self.store.pool.execute(
            "UPDATE work_orders SET state = $1, version = $2, body = $3 WHERE id = $4 AND version = $5",
            order.state.value,
            order.version,
            body_of(order),
            order.id,
            read_version,
        )
        return not status.endswith(" 0")
