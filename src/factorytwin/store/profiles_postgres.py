"""The PostgreSQL ``ProfileStore``: the profile tables in the store's database, over its connection pool."""

from __future__ import annotations

from datetime import datetime

from factorytwin.profiles import ProfileBody, StoredProfile
from factorytwin.store._rows import models_from_rows, to_ms
from factorytwin.store.postgres import PostgresStore
from factorytwin.store.profiles_rows import (
    SELECT,
    SELECT_LATEST,
    body_json,
    findable,
    stored,
    stored_from_row,
    taken_id,
)
from factorytwin.store.translate import translate_postgres, translated

_pg = translated(translate_postgres)
_INSERT_VERSION = (
    "INSERT INTO profile_versions (profile_id, version, body, saved_at, saved_by) VALUES ($1, $2, $3, $4, $5)"
)


class PostgresProfileStore:
    """Versioned profiles in a ``PostgresStore``'s database (migrated and seeded by the store)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    @_pg
    async def profiles(self) -> list[StoredProfile]:
        """The latest version of every profile, by id."""
        rows = await self.store.pool.fetch(SELECT_LATEST + " ORDER BY p.id")
        return models_from_rows(rows, stored_from_row, "profile")

    @_pg
    async def profile(self, profile_id: str, version: int | None = None) -> StoredProfile | None:
        """A version of a profile (the latest when None), or None."""
        if not findable(profile_id, version):
            return None
        if version is None:
            rows = await self.store.pool.fetch(SELECT_LATEST + " WHERE p.id = $1", profile_id)
        else:
            rows = await self.store.pool.fetch(SELECT + " WHERE p.id = $1 AND v.version = $2", profile_id, version)
        found = models_from_rows(rows, stored_from_row, "profile")
        return found[0] if found else None

    @_pg
    async def create_profile(self, body: ProfileBody, by: str, at: datetime) -> StoredProfile:
        """Store a new profile as version 1; ``Conflict`` when the id is taken."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "INSERT INTO profiles (id, latest, bundled, created_at) VALUES ($1, 1, 0, $2) ON CONFLICT DO NOTHING",
                body.id,
                to_ms(at),
            )
            if status.endswith(" 0"):
                raise taken_id(body.id)
            await conn.execute(_INSERT_VERSION, body.id, 1, body_json(body, 1), to_ms(at), by)
        return stored(body, 1, by, at, bundled=False)

    @_pg
    async def update_profile(self, body: ProfileBody, by: str, at: datetime) -> StoredProfile | None:
        """Store ``body`` as the next version of its profile; None when there is no such profile."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            # The UPDATE locks the head row: a concurrent update of the same profile waits and takes the next number.
            row = await conn.fetchrow(
                "UPDATE profiles SET latest = latest + 1 WHERE id = $1 RETURNING latest, bundled", body.id
            )
            if row is None:
                return None
            version = int(row[0])
            await conn.execute(_INSERT_VERSION, body.id, version, body_json(body, version), to_ms(at), by)
        return stored(body, version, by, at, bundled=bool(row[1]))

    @_pg
    async def delete_profile(self, profile_id: str) -> bool:
        """Delete a profile with every version; False when there is no such profile."""
        if not findable(profile_id):
            return False
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM profile_versions WHERE profile_id = $1", profile_id)
            status = await conn.execute("DELETE FROM profiles WHERE id = $1", profile_id)
        return not status.endswith(" 0")
