"""The SQLite ``ProfileStore``: the profile tables in the store's own file, writes on its single writer thread."""

from __future__ import annotations

from datetime import datetime

from factorytwin.profiles import ProfileBody, StoredProfile
from factorytwin.store._rows import models_from_rows, to_ms
from factorytwin.store.profiles_rows import (
    SELECT,
    SELECT_LATEST,
    body_json,
    findable,
    stored,
    stored_from_row,
    taken_id,
)
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.store.sqlite_conn import rollback
from factorytwin.store.translate import translate_sqlite, translated

_sqlite = translated(translate_sqlite)
_INSERT_VERSION = "INSERT INTO profile_versions (profile_id, version, body, saved_at, saved_by) VALUES (?, ?, ?, ?, ?)"


class SQLiteProfileStore:
    """Versioned profiles in a ``SQLiteStore``'s database (migrated and seeded by the store)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    async def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        def run() -> list[tuple[object, ...]]:
            return self.store._r().execute(sql, args).fetchall()

        return await self.store._on_reader(run)

    @_sqlite
    async def profiles(self) -> list[StoredProfile]:
        """The latest version of every profile, by id."""
        rows = await self._rows(SELECT_LATEST + " ORDER BY p.id")
        return models_from_rows(rows, stored_from_row, "profile")

    @_sqlite
    async def profile(self, profile_id: str, version: int | None = None) -> StoredProfile | None:
        """A version of a profile (the latest when None), or None."""
        if not findable(profile_id, version):
            return None
        if version is None:
            rows = await self._rows(SELECT_LATEST + " WHERE p.id = ?", (profile_id,))
        else:
            rows = await self._rows(SELECT + " WHERE p.id = ? AND v.version = ?", (profile_id, version))
        found = models_from_rows(rows, stored_from_row, "profile")
        return found[0] if found else None

    @_sqlite
    async def create_profile(self, body: ProfileBody, by: str, at: datetime) -> StoredProfile:
        """Store a new profile as version 1; ``Conflict`` when the id is taken."""

        def run() -> None:
            conn = self.store._w()
            conn.execute("BEGIN IMMEDIATE")
            try:
                taken = conn.execute(
                    "INSERT INTO profiles (id, latest, bundled, created_at) VALUES (?, 1, 0, ?) ON CONFLICT DO NOTHING",
                    (body.id, to_ms(at)),
                ).rowcount
                if not taken:
                    raise taken_id(body.id)
                conn.execute(_INSERT_VERSION, (body.id, 1, body_json(body, 1), to_ms(at), by))
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")

        await self.store._on_writer(run)
        return stored(body, 1, by, at, bundled=False)

    @_sqlite
    async def update_profile(self, body: ProfileBody, by: str, at: datetime) -> StoredProfile | None:
        """Store ``body`` as the next version of its profile; None when there is no such profile."""

        def run() -> tuple[int, bool] | None:
            conn = self.store._w()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "UPDATE profiles SET latest = latest + 1 WHERE id = ? RETURNING latest, bundled", (body.id,)
                ).fetchone()
                if row is not None:
                    conn.execute(_INSERT_VERSION, (body.id, row[0], body_json(body, row[0]), to_ms(at), by))
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")
            return None if row is None else (int(row[0]), bool(row[1]))

        done = await self.store._on_writer(run)
        return None if done is None else stored(body, done[0], by, at, bundled=done[1])

    @_sqlite
    async def delete_profile(self, profile_id: str) -> bool:
        """Delete a profile with every version; False when there is no such profile."""

        def run() -> bool:
            conn = self.store._w()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM profile_versions WHERE profile_id = ?", (profile_id,))
                gone = conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,)).rowcount > 0
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")
            return gone

        return await self.store._on_writer(run)
