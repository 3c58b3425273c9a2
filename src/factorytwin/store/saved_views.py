"""``saved_view_store_for(store)``: named History views kept in a ``Store``'s own database.

A saved view is a name, the dashboard hash that reproduces it (``#/history/<machine>?range=…``, read and written
whole: the dashboard parses it, the server only bounds it), its owner and whether everyone may open it. SQLite
writes on the store's writer thread; PostgreSQL uses its pool.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, Field

from factorytwin.domain import Text
from factorytwin.store._rows import from_ms, to_ms
from factorytwin.store.base import Store
from factorytwin.store.translate import translate_postgres, translate_sqlite, translated

MAX_VIEW_NAME_CHARS = 80
MAX_VIEW_HASH_CHARS = 2000
VIEW_HASH_PATTERN = r"^#/[!-~]*$"
"""A dashboard hash: ``#/`` then printable ASCII without spaces (what the dashboard's URL encoding makes), so a
saved view can only ever be a route of the dashboard, never another URL scheme."""

_COLUMNS = "id, name, hash, owner, shared, created_at"
_sqlite = translated(translate_sqlite)
_pg = translated(translate_postgres)


class SavedView(BaseModel):
    """A saved History view: what to call it, the hash that opens it, whose it is and whether it is shared."""

    id: int
    name: Text = Field(min_length=1, max_length=MAX_VIEW_NAME_CHARS)
    hash: str = Field(max_length=MAX_VIEW_HASH_CHARS, pattern=VIEW_HASH_PATTERN, description="the dashboard hash")
    owner: str = Field(description="who saved it (user or token name)")
    shared: bool = Field(description="everyone may open it (else only its owner)")
    created_at: AwareDatetime


class SavedViewStore(Protocol):
    """Saved views; every method is safe to call from the event loop."""

    async def views_for(self, owner: str, limit: int = 500) -> list[SavedView]:
        """The views ``owner`` may open (their own and everyone's shared ones), newest first."""

    async def get_view(self, view_id: int) -> SavedView | None:
        """One view by id, or None."""

    async def add_view(self, view: SavedView) -> SavedView:
        """Store a new view (its ``id`` is ignored) and return it with the id it got."""

    async def delete_view(self, view_id: int) -> bool:
        """Delete a view; False when there is none."""


def _args(v: SavedView) -> tuple[object, ...]:
    return (v.name, v.hash, v.owner, 1 if v.shared else 0, to_ms(v.created_at))


def _from(row: Any) -> SavedView:
    vid, name, hash_, owner, shared, created_at = tuple(row)[:6]
    return SavedView(
        id=int(vid), name=name, hash=hash_, owner=owner, shared=bool(shared), created_at=from_ms(created_at)
    )


_INSERT = "INSERT INTO saved_views (name, hash, owner, shared, created_at) VALUES ({}) RETURNING id"
_LIST = (
    f"SELECT {_COLUMNS} FROM saved_views WHERE owner = {{}} OR shared = 1 ORDER BY created_at DESC, id DESC LIMIT {{}}"
)
_GET = f"SELECT {_COLUMNS} FROM saved_views WHERE id = {{}}"


class SQLiteSavedViewStore:
    """Saved views in a ``SQLiteStore``'s database (the table made by its migrations)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @_sqlite
    async def views_for(self, owner: str, limit: int = 500) -> list[SavedView]:
        """The views ``owner`` may open, newest first."""
        sql = _LIST.format("?", "?")
        rows = await self.store._on_reader(lambda: self.store._r().execute(sql, (owner, limit)).fetchall())
        return [_from(r) for r in rows]

    @_sqlite
    async def get_view(self, view_id: int) -> SavedView | None:
        """One view by id, or None."""
        sql = _GET.format("?")
        rows = await self.store._on_reader(lambda: self.store._r().execute(sql, (view_id,)).fetchall())
        return _from(rows[0]) if rows else None

    @_sqlite
    async def add_view(self, view: SavedView) -> SavedView:
        """Store a new view and return it with its id."""
        sql = _INSERT.format(", ".join("?" * 5))

        def run() -> int:
            return int(self.store._w().execute(sql, _args(view)).fetchone()[0])

        return view.model_copy(update={"id": await self.store._on_writer(run)})

    @_sqlite
    async def delete_view(self, view_id: int) -> bool:
        """Delete a view; False when there is none."""

        def run() -> bool:
            return bool(self.store._w().execute("DELETE FROM saved_views WHERE id = ?", (view_id,)).rowcount > 0)

        done: bool = await self.store._on_writer(run)
        return done


class PostgresSavedViewStore:
    """Saved views in a ``PostgresStore``'s database (the table made by its migrations), over its pool."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @_pg
    async def views_for(self, owner: str, limit: int = 500) -> list[SavedView]:
        """The views ``owner`` may open, newest first."""
        return [_from(r) for r in await self.store.pool.fetch(_LIST.format("$1", "$2"), owner, limit)]

    @_pg
    async def get_view(self, view_id: int) -> SavedView | None:
        """One view by id, or None."""
        rows = await self.store.pool.fetch(_GET.format("$1"), view_id)
        return _from(rows[0]) if rows else None

    @_pg
    async def add_view(self, view: SavedView) -> SavedView:
        """Store a new view and return it with its id."""
        view_id = await self.store.pool.fetchval(_INSERT.format("$1, $2, $3, $4, $5"), *_args(view))
        return view.model_copy(update={"id": int(view_id)})

    @_pg
    async def delete_view(self, view_id: int) -> bool:
        """Delete a view; False when there is none."""
        status: str = await self.store.pool.execute("DELETE FROM saved_views WHERE id = $1", view_id)
        return status != "DELETE 0"


def saved_view_store_for(store: Store) -> SavedViewStore:
    """The saved-view store sharing ``store``'s database; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteSavedViewStore(store)
    if isinstance(store, PostgresStore):
        return PostgresSavedViewStore(store)
    raise TypeError(f"no saved-view store for {type(store).__name__}")
