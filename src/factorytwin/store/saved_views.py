"""``saved_view_store_for(store)``: named History views kept in a ``Store``'s own database.

A saved view is a name, the dashboard hash that reproduces it (``#/history/<machine>?range=…``, read and written
whole: the dashboard parses it, the server only bounds it), its owner and whether everyone may open it. A view can
be renamed and shared or unshared; its names are unique per owner from a rename on (a rename to a name the owner
has is a ``Conflict``; a save does not check, as saves never did). SQLite writes on the store's writer thread;
PostgreSQL uses its pool.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, Field

from factorytwin.domain import Text
from factorytwin.errors import Conflict
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
        """Store a new view (its ``id`` is ignored) and return it with the id it got. Raises ``Conflict`` (at
        ``body.name``) when its owner already has a view of that name."""

    async def delete_view(self, view_id: int) -> bool:
        """Delete a view; False when there is none."""

    async def update_view(self, view_id: int, name: str | None = None, shared: bool | None = None) -> SavedView | None:
        """Rename a view and/or change whether it is shared (None: unchanged); the view as it now is, or None when
        there is none. Raises ``Conflict`` (at ``body.name``) when its owner has another view of that name."""


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
_CLASH = "SELECT id FROM saved_views WHERE owner = {} AND name = {} AND id <> {} LIMIT 1"
_UPDATE = f"UPDATE saved_views SET name = {{}}, shared = {{}} WHERE id = {{}} RETURNING {_COLUMNS}"
_LOCK_NAMES = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
"""A save or a rename checks for a clash and writes in one step that no other save or rename interleaves with: on
SQLite's one writer thread, on PostgreSQL in a transaction holding a lock on the owner's names."""


def _clash(owner: str, name: str) -> Conflict:
    return Conflict(f"{owner} already has a view named {name!r}", ("body", "name"))


def _changed(found: SavedView, name: str | None, shared: bool | None) -> tuple[str, int]:
    return (found.name if name is None else name, int(found.shared if shared is None else shared))


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
        """Store a new view and return it with its id; ``Conflict`` when its owner has a view of that name."""
        sql = _INSERT.format(", ".join("?" * 5))

        def run() -> int:
            db = self.store._w()
            if db.execute(_CLASH.format("?", "?", "?"), (view.owner, view.name, 0)).fetchall():
                raise _clash(view.owner, view.name)
            return int(db.execute(sql, _args(view)).fetchone()[0])

        return view.model_copy(update={"id": await self.store._on_writer(run)})

    @_sqlite
    async def delete_view(self, view_id: int) -> bool:
        """Delete a view; False when there is none."""

        def run() -> bool:
            return bool(self.store._w().execute("DELETE FROM saved_views WHERE id = ?", (view_id,)).rowcount > 0)

        done: bool = await self.store._on_writer(run)
        return done

    @_sqlite
    async def update_view(self, view_id: int, name: str | None = None, shared: bool | None = None) -> SavedView | None:
        """Rename and/or share or unshare a view; None when there is none; ``Conflict`` for a name taken."""

        def run() -> SavedView | None:
            db = self.store._w()
            rows = db.execute(_GET.format("?"), (view_id,)).fetchall()
            if not rows:
                return None
            found = _from(rows[0])
            if name is not None and db.execute(_CLASH.format("?", "?", "?"), (found.owner, name, view_id)).fetchall():
                raise _clash(found.owner, name)
            new_name, new_shared = _changed(found, name, shared)
            return _from(db.execute(_UPDATE.format("?", "?", "?"), (new_name, new_shared, view_id)).fetchone())

        updated: SavedView | None = await self.store._on_writer(run)
        return updated


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
        """Store a new view and return it with its id; ``Conflict`` when its owner has a view of that name."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute(_LOCK_NAMES, f"saved_views:{view.owner}")  # as a rename: no two saves of one name
            if await conn.fetch(_CLASH.format("$1", "$2", "$3"), view.owner, view.name, 0):
                raise _clash(view.owner, view.name)
            view_id = await conn.fetchval(_INSERT.format("$1, $2, $3, $4, $5"), *_args(view))
        return view.model_copy(update={"id": int(view_id)})

    @_pg
    async def delete_view(self, view_id: int) -> bool:
        """Delete a view; False when there is none."""
        status: str = await self.store.pool.execute("DELETE FROM saved_views WHERE id = $1", view_id)
        return status != "DELETE 0"

    @_pg
    async def update_view(self, view_id: int, name: str | None = None, shared: bool | None = None) -> SavedView | None:
        """Rename and/or share or unshare a view; None when there is none; ``Conflict`` for a name taken."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_GET.format("$1") + " FOR UPDATE", view_id)
            if not rows:
                return None
            found = _from(rows[0])
            if name is not None:
                # two renames of two views of one owner to one name: the second waits here for the first to commit
                await conn.execute(_LOCK_NAMES, f"saved_views:{found.owner}")
                if await conn.fetch(_CLASH.format("$1", "$2", "$3"), found.owner, name, view_id):
                    raise _clash(found.owner, name)
            new_name, new_shared = _changed(found, name, shared)
            return _from(await conn.fetchrow(_UPDATE.format("$1", "$2", "$3"), new_name, new_shared, view_id))


def saved_view_store_for(store: Store) -> SavedViewStore:
    """The saved-view store sharing ``store``'s database; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteSavedViewStore(store)
    if isinstance(store, PostgresStore):
        return PostgresSavedViewStore(store)
    raise TypeError(f"no saved-view store for {type(store).__name__}")
