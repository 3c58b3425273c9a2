"""The asset table, one migration step: uploaded glTF/GLB files with what is known of them."""

from __future__ import annotations


def _step(integer: str, blob: str) -> list[str]:
    return [
        f"""CREATE TABLE assets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size {integer} NOT NULL,
    sha256 TEXT NOT NULL,
    bounds TEXT,
    data {blob} NOT NULL,
    saved_at {integer} NOT NULL,
    saved_by TEXT NOT NULL)"""
    ]


SQLITE_ASSETS_STEP = _step("INTEGER", "BLOB")
"""The SQLite migration step that creates the asset table."""
POSTGRES_ASSETS_STEP = _step("BIGINT", "BYTEA")
"""The PostgreSQL migration step that creates the asset table."""
