"""``work_order_store_for(store)``: the ``WorkOrderStore`` keeping work orders beside a ``Store``."""

from __future__ import annotations

from factorytwin.store.base import Store
from factorytwin.workorders.storage import WorkOrderStore


def work_order_store_for(store: Store) -> WorkOrderStore:
    """The work-order store sharing ``store``'s database and connections; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from factorytwin.store.workorders_sqlite import SQLiteWorkOrderStore

        return SQLiteWorkOrderStore(store)
    if isinstance(store, PostgresStore):
        from factorytwin.store.workorders_postgres import PostgresWorkOrderStore

        return PostgresWorkOrderStore(store)
    raise TypeError(f"no work-order store for the {store.backend!r} backend")
