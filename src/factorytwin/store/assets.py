"""``asset_store_for(store)``: the ``AssetStore`` keeping uploaded glTF/GLB files in a ``Store``'s own database.

The SQLite one writes on the store's single writer thread and reads on its reader; the PostgreSQL one uses its pool.
"""

from __future__ import annotations

import json
from typing import Any

from factorytwin.profiles.assets import Asset, AssetInfo, AssetStore
from factorytwin.store._rows import from_ms, to_ms
from factorytwin.store.base import Store
from factorytwin.store.translate import translate_postgres, translate_sqlite, translated

_INFO = "id, name, media_type, size, sha256, bounds, saved_at, saved_by"
_sqlite = translated(translate_sqlite)
_pg = translated(translate_postgres)


def _info(row: Any) -> AssetInfo:
    asset_id, name, media_type, size, sha256, bounds, saved_at, saved_by = tuple(row)[:8]
    return AssetInfo(
        id=asset_id,
        name=name,
        media_type=media_type,
        size=size,
        sha256=sha256,
        bounds=None if bounds is None else json.loads(bounds),
        saved_at=from_ms(saved_at),
        saved_by=saved_by,
    )


def _row(info: AssetInfo, data: bytes) -> tuple[object, ...]:
    bounds = None if info.bounds is None else json.dumps(info.bounds)
    return (
        info.id,
        info.name,
        info.media_type,
        info.size,
        info.sha256,
        bounds,
        to_ms(info.saved_at),
        info.saved_by,
        data,
    )


class SQLiteAssetStore:
    """Assets in a ``SQLiteStore``'s database (migrated by the store)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        def run() -> list[tuple[object, ...]]:
            rows: list[tuple[object, ...]] = self.store._r().execute(sql, args).fetchall()
            return rows

        rows: list[tuple[object, ...]] = await self.store._on_reader(run)
        return rows

    @_sqlite
    async def assets(self) -> list[AssetInfo]:
        """Every asset, by id (without the bytes)."""
        return [_info(r) for r in await self._rows(f"SELECT {_INFO} FROM assets ORDER BY id")]

    @_sqlite
    async def asset(self, asset_id: str) -> Asset | None:
        """An asset with its bytes, or None."""
        rows = await self._rows(f"SELECT {_INFO}, data FROM assets WHERE id = ?", (asset_id,))
        return Asset(_info(rows[0]), bytes(rows[0][8])) if rows else None  # type: ignore[call-overload]

    @_sqlite
    async def put_asset(self, info: AssetInfo, data: bytes) -> AssetInfo:
        """Store an asset; an id already stored keeps its first upload, which is returned."""

        def run() -> None:
            conn = self.store._w()
            conn.execute(
                f"INSERT INTO assets ({_INFO}, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                _row(info, data),
            )

        await self.store._on_writer(run)
        rows = await self._rows(f"SELECT {_INFO} FROM assets WHERE id = ?", (info.id,))
        return _info(rows[0])

    @_sqlite
    async def delete_asset(self, asset_id: str) -> bool:
        """Delete an asset; False when there is none."""

        def run() -> bool:
            conn = self.store._w()
            gone = conn.execute("DELETE FROM assets WHERE id = ?", (asset_id,)).rowcount > 0
            return bool(gone)

        done: bool = await self.store._on_writer(run)
        return done


class PostgresAssetStore:
    """Assets in a ``PostgresStore``'s database (migrated by the store), over its pool."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @_pg
    async def assets(self) -> list[AssetInfo]:
        """Every asset, by id (without the bytes)."""
        return [_info(r) for r in await self.store.pool.fetch(f"SELECT {_INFO} FROM assets ORDER BY id")]

    @_pg
    async def asset(self, asset_id: str) -> Asset | None:
        """An asset with its bytes, or None."""
        row = await self.store.pool.fetchrow(f"SELECT {_INFO}, data FROM assets WHERE id = $1", asset_id)
        return None if row is None else Asset(_info(row), bytes(row[8]))

    @_pg
    async def put_asset(self, info: AssetInfo, data: bytes) -> AssetInfo:
        """Store an asset; an id already stored keeps its first upload, which is returned."""
        await self.store.pool.execute(
            f"INSERT INTO assets ({_INFO}, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            *_row(info, data),
        )
        row = await self.store.pool.fetchrow(f"SELECT {_INFO} FROM assets WHERE id = $1", info.id)
        return _info(row)

    @_pg
    async def delete_asset(self, asset_id: str) -> bool:
        """Delete an asset; False when there is none."""
        status: str = await self.store.pool.execute("DELETE FROM assets WHERE id = $1", asset_id)
        return not status.endswith(" 0")


def asset_store_for(store: Store) -> AssetStore:
    """The asset store sharing ``store``'s database and connections; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteAssetStore(store)
    if isinstance(store, PostgresStore):
        return PostgresAssetStore(store)
    raise TypeError(f"no asset store for the {store.backend!r} backend")
