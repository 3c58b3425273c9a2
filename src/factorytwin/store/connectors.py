"""``connector_store_for(store)``: the connector configurations kept in a ``Store``'s own database.

One row per connector: its id, kind, whether it should run, the configuration as JSON (secrets included: the
database is the place that holds them; the API never returns them) and who saved it when. SQLite writes on the
store's writer thread; PostgreSQL uses its pool.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel

from factorytwin.store._rows import from_ms, to_ms
from factorytwin.store.base import Store
from factorytwin.store.translate import translate_postgres, translate_sqlite, translated

_COLUMNS = "id, kind, config, enabled, saved_at, saved_by"
_sqlite = translated(translate_sqlite)
_pg = translated(translate_postgres)


class StoredConnector(BaseModel):
    """A connector as stored: its configuration as JSON text (secrets in clear), and whether it should run."""

    id: str
    kind: str
    config: str
    enabled: bool
    saved_at: AwareDatetime
    saved_by: str


class ConnectorStore(Protocol):
    """Connector configurations; every method is safe to call from the event loop."""

    async def connectors(self) -> list[StoredConnector]:
        """Every stored connector, by id."""

    async def put_connector(self, row: StoredConnector) -> None:
        """Insert or replace a connector by id."""

    async def delete_connector(self, connector_id: str) -> bool:
        """Delete a connector; False when there is none."""


def _row(r: StoredConnector) -> tuple[object, ...]:
    return (r.id, r.kind, r.config, 1 if r.enabled else 0, to_ms(r.saved_at), r.saved_by)


def _from(row: Any) -> StoredConnector:
    cid, kind, config, enabled, saved_at, saved_by = tuple(row)[:6]
    return StoredConnector(
        id=cid, kind=kind, config=config, enabled=bool(enabled), saved_at=from_ms(saved_at), saved_by=saved_by
    )


_UPSERT = (
    f"INSERT INTO connectors ({_COLUMNS}) VALUES ({{}}) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
    "config = excluded.config, enabled = excluded.enabled, saved_at = excluded.saved_at, saved_by = excluded.saved_by"
)


class SQLiteConnectorStore:
    """Connectors in a ``SQLiteStore``'s database (migrated by the store)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @_sqlite
    async def connectors(self) -> list[StoredConnector]:
        """Every stored connector, by id."""
        sql = f"SELECT {_COLUMNS} FROM connectors ORDER BY id"
        rows = await self.store._on_reader(lambda: self.store._r().execute(sql).fetchall())
        return [_from(r) for r in rows]

    @_sqlite
    async def put_connector(self, row: StoredConnector) -> None:
        """Insert or replace a connector by id."""
        sql = _UPSERT.format(", ".join("?" * 6))
        await self.store._on_writer(lambda: self.store._w().execute(sql, _row(row)))

    @_sqlite
    async def delete_connector(self, connector_id: str) -> bool:
        """Delete a connector; False when there is none."""

        def run() -> bool:
            return bool(self.store._w().execute("DELETE FROM connectors WHERE id = ?", (connector_id,)).rowcount > 0)

        done: bool = await self.store._on_writer(run)
        return done


class PostgresConnectorStore:
    """Connectors in a ``PostgresStore``'s database (migrated by the store), over its pool."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @_pg
    async def connectors(self) -> list[StoredConnector]:
        """Every stored connector, by id."""
        return [_from(r) for r in await self.store.pool.fetch(f"SELECT {_COLUMNS} FROM connectors ORDER BY id")]

    @_pg
    async def put_connector(self, row: StoredConnector) -> None:
        """Insert or replace a connector by id."""
        await self.store.pool.execute(_UPSERT.format(", ".join(f"${i}" for i in range(1, 7))), *_row(row))

    @_pg
    async def delete_connector(self, connector_id: str) -> bool:
        """Delete a connector; False when there is none."""
        status: str = await self.store.pool.execute("DELETE FROM connectors WHERE id = $1", connector_id)
        return status != "DELETE 0"


def connector_store_for(store: Store) -> ConnectorStore:
    """The connector store sharing ``store``'s database; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteConnectorStore(store)
    if isinstance(store, PostgresStore):
        return PostgresConnectorStore(store)
    raise TypeError(f"no connector store for {type(store).__name__}")
