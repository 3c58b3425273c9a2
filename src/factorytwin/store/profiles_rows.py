"""What both profile stores share: the columns they read, a row as a ``StoredProfile``, the bundled seed rows."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

import asyncpg

from factorytwin.domain import unstorable_text
from factorytwin.errors import Conflict
from factorytwin.profiles import Profile, ProfileBody, StoredProfile, bundled_profiles
from factorytwin.store._rows import from_ms, to_ms

SEED_AUTHOR = "factorytwin"
"""``saved_by`` of the bundled versions."""
SELECT = (
    "SELECT v.version, v.body, v.saved_at, v.saved_by, p.bundled "
    "FROM profile_versions v JOIN profiles p ON p.id = v.profile_id"
)
"""Every column a ``StoredProfile`` is made of; add ``WHERE``/``ORDER BY``."""
SELECT_LATEST = SELECT + " AND v.version = p.latest"


def body_json(body: ProfileBody, version: int) -> str:
    """The stored text of a version: the profile as compact JSON."""
    return Profile(**body.model_dump(exclude={"version"}), version=version).model_dump_json()


def stored_from_row(row: Any) -> StoredProfile:
    """A ``(version, body, saved_at, saved_by, bundled)`` row as a ``StoredProfile``."""
    version, body, saved_at, saved_by, bundled = row
    doc = json.loads(body) | {
        "version": version,
        "saved_at": from_ms(saved_at),
        "saved_by": saved_by,
        "bundled": bool(bundled),
    }
    return StoredProfile.model_validate(doc)


def stored(body: ProfileBody, version: int, by: str, at: datetime, bundled: bool) -> StoredProfile:
    """The ``StoredProfile`` a write of ``body`` as ``version`` stored (``at`` to the stored millisecond)."""
    saved_at = from_ms(to_ms(at))
    return StoredProfile(
        **body.model_dump(exclude={"version"}), version=version, saved_at=saved_at, saved_by=by, bundled=bundled
    )


def seed_rows(at: datetime) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Head rows ``(id, latest, bundled, created_at)`` and version rows ``(profile_id, version, body, saved_at,
    saved_by)`` of the bundled profiles, to insert where missing."""
    ms = to_ms(at)
    heads: list[tuple[object, ...]] = [(p.id, 1, 1, ms) for p in bundled_profiles()]
    versions: list[tuple[object, ...]] = [(p.id, 1, body_json(p, 1), ms, SEED_AUTHOR) for p in bundled_profiles()]
    return heads, versions


MAX_VERSION = 2**31 - 1


def findable(profile_id: str, version: int | None = None) -> bool:
    """False when no row can match: text no backend can hold in the id, or a version outside the column's range
    (the answer is "none" without asking SQL, which would refuse the parameter)."""
    return unstorable_text(profile_id) is None and (version is None or 0 < version <= MAX_VERSION)


_SEED_HEAD = "INSERT INTO profiles (id, latest, bundled, created_at) VALUES ({}) ON CONFLICT DO NOTHING"
_SEED_VERSION = (
    "INSERT INTO profile_versions (profile_id, version, body, saved_at, saved_by) VALUES ({}) ON CONFLICT DO NOTHING"
)


def seed_bundled_sqlite(conn: sqlite3.Connection, at: datetime) -> None:
    """Insert the bundled profiles a SQLite database lacks (in the caller's transaction)."""
    heads, versions = seed_rows(at)
    conn.executemany(_SEED_HEAD.format("?, ?, ?, ?"), heads)
    conn.executemany(_SEED_VERSION.format("?, ?, ?, ?, ?"), versions)


async def seed_bundled_postgres(conn: asyncpg.Connection, at: datetime) -> None:
    """Insert the bundled profiles a PostgreSQL database lacks (in the caller's transaction)."""
    heads, versions = seed_rows(at)
    await conn.executemany(_SEED_HEAD.format("$1, $2, $3, $4"), heads)
    await conn.executemany(_SEED_VERSION.format("$1, $2, $3, $4, $5"), versions)


def taken_id(profile_id: str) -> Conflict:
    """The error of creating a profile whose id is taken."""
    return Conflict(f"a profile {profile_id!r} exists; PUT /profiles/{profile_id} writes a new version", ("body", "id"))
