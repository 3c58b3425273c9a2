"""The SQLite ``WorkOrderStore``: the work-order table in the store's own file, writes on its single writer thread."""

from __future__ import annotations

from factorytwin.store._rows import models_from_rows
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.store.translate import translate_sqlite, translated
from factorytwin.store.workorders_rows import COLUMNS, body_of, insert_args, list_query, order_from_row
from factorytwin.workorders.models import WorkOrder, WorkOrderState
from factorytwin.workorders.storage import WorkOrderWindow

_sqlite = translated(translate_sqlite)


class SQLiteWorkOrderStore:
    """Work orders in a ``SQLiteStore``'s database (the table made by its migrations)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    @_sqlite
    async def create(self, order: WorkOrder) -> WorkOrder:
        """Store a new work order and return it with its id."""

        def run() -> int:
            conn = self.store._w()
            row = conn.execute(
                "INSERT INTO work_orders (machine_id, state, created_at, version, body) VALUES (?, ?, ?, ?, ?)"
                " RETURNING id",
                insert_args(order),
            ).fetchone()
            return int(row[0])

        return order.model_copy(update={"id": await self.store._on_writer(run)})

    @_sqlite
    async def get(self, order_id: int) -> WorkOrder | None:
        """A work order, or None."""

        def run() -> list[tuple[object, ...]]:
            return self.store._r().execute(f"SELECT {COLUMNS} FROM work_orders WHERE id = ?", (order_id,)).fetchall()

        found = models_from_rows(await self.store._on_reader(run), order_from_row, "work order")
        return found[0] if found else None

    @_sqlite
    async def list(
        self,
        machine_id: str | None = None,
        states: list[WorkOrderState] | None = None,
        limit: int = 500,
        window: WorkOrderWindow | None = None,
    ) -> list[WorkOrder]:
        """Work orders, newest first."""
        sql, args = list_query(machine_id, states, limit, "?", window)

        def run() -> list[tuple[object, ...]]:
            return self.store._r().execute(sql, args).fetchall()

        return models_from_rows(await self.store._on_reader(run), order_from_row, "work order")

    @_sqlite
    async def replace(self, order: WorkOrder, read_version: int) -> bool:
        """Compare-and-set on the version."""

        def run() -> bool:
            conn = self.store._w()
            done = conn.execute(
                "UPDATE work_orders SET state = ?, version = ?, body = ? WHERE id = ? AND version = ?",
                (order.state.value, order.version, body_of(order), order.id, read_version),
            ).rowcount
            return done > 0

        return await self.store._on_writer(run)
