"""The profile tables, one migration step: a head row per profile and every version of its body.

``profiles`` holds what is true of a profile across versions (its latest version number, whether it is bundled);
``profile_versions`` every version's body as the profile's JSON, never updated. An update bumps ``latest`` in the
head row (which serialises concurrent updates of one profile on both backends) and inserts the new version.
"""

from __future__ import annotations

_TABLES = """
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    latest INTEGER NOT NULL,
    bundled INTEGER NOT NULL DEFAULT 0,
    created_at {int} NOT NULL)
;CREATE TABLE profile_versions (
    profile_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    saved_at {int} NOT NULL,
    saved_by TEXT NOT NULL,
    PRIMARY KEY (profile_id, version))
"""


def _step(integer: str) -> list[str]:
    return [s.strip() for s in _TABLES.format(int=integer).split(";") if s.strip()]


SQLITE_PROFILES_STEP = _step("INTEGER")
"""The SQLite migration step that creates the profile tables."""
POSTGRES_PROFILES_STEP = _step("BIGINT")
"""The PostgreSQL migration step that creates the profile tables."""
