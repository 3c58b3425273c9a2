"""Store outages and backend errors, each translated into ``StoreUnavailable`` or ``StoreRejected``.

A PostgreSQL outage is made real by terminating the store's server connections (``pg_terminate_backend``) on a
fresh database; a full SQLite disk by capping the file's page count (``PRAGMA max_page_count``), which makes
SQLite fail exactly as on a full disk (SQLITE_FULL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from factorytwin.errors import StoreRejected, StoreUnavailable
from factorytwin.layout import load_layout
from factorytwin.store import EventQuery, ReadingColumns, open_store
from factorytwin.store.postgres import PostgresStore
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.store.translate import translate_postgres, translated

pytestmark = pytest.mark.integration

T0_MS = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp()) * 1000


def readings(n: int, start: int = 0) -> ReadingColumns:
    """``n`` torque readings of mill-01, one per millisecond from T0 + ``start``."""
    return ReadingColumns(
        machine_ids=["mill-01"] * n,
        sensors=["torque"] * n,
        ts_ms=[T0_MS + start + i for i in range(n)],
        values=[1.0] * n,
    )


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    """An open PostgreSQL store of a fresh database with the default factory registered."""
    store = open_store(postgres_url)
    assert isinstance(store, PostgresStore)
    await store.open()
    await store.register_machines(load_layout().machines)
    try:
        yield store
    finally:
        await store.close()


async def _outage(url: str, down: bool) -> int:
    """Start (``down``) or end an outage of the database of ``url``: refuse new connections and terminate every
    server connection to it, as an administrator shutting it down would; return how many were terminated."""
    database = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/test")
    try:
        await admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {"false" if down else "true"}')
        if not down:
            return 0
        killed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1", database
        )
    finally:
        await admin.close()
    return killed


async def test_a_postgres_outage_is_store_unavailable_and_the_store_recovers(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    assert await pg_store.write_batch(readings(10)) == 10
    assert await _outage(postgres_url, down=True) >= 1
    for _ in range(3):  # each call fails fast, whether its connection was known dead yet or not
        with pytest.raises(StoreUnavailable):
            await pg_store.write_batch(readings(10, start=10))
        with pytest.raises(StoreUnavailable):
            await pg_store.events(EventQuery())
    await _outage(postgres_url, down=False)
    # The pool connects afresh: once the server takes connections again, the store works, nothing lost.
    assert await pg_store.write_batch(readings(10, start=10)) == 10
    assert (await pg_store.stats()).readings == 20


async def test_a_postgres_server_that_refuses_connections_is_store_unavailable() -> None:
    store = open_store("postgresql://postgres@127.0.0.1:1/none")  # nothing listens on port 1
    with pytest.raises(StoreUnavailable):
        await store.open()


async def test_postgres_content_errors_from_the_server_are_store_rejected(pg_store: PostgresStore) -> None:
    # The server's own refusals, exactly as asyncpg raises them (the store's checks keep them from its SQL).
    @translated(translate_postgres)
    async def run(sql: str, *args: object) -> object:
        return await pg_store.pool.fetchval(sql, *args)

    with pytest.raises(StoreRejected, match="0x00"):  # CharacterNotInRepertoireError
        await run("SELECT $1::text", "a\x00b")
    with pytest.raises(StoreRejected):  # UntranslatableCharacterError
        await run('SELECT \'{"a": "\\u0000"}\'::jsonb')
    with pytest.raises(StoreRejected):  # NumericValueOutOfRangeError
        await run("SELECT 2147483647::integer + 1")
    with pytest.raises(StoreRejected):  # NotNullViolationError (integrity)
        await run("INSERT INTO sensors (key) VALUES (NULL)")
    with pytest.raises(asyncpg.PostgresSyntaxError):  # a bug stays a bug
        await run("SELEKT 1")


async def test_a_full_sqlite_disk_is_store_unavailable_and_the_store_recovers(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'full.db'}")
    assert isinstance(store, SQLiteStore)
    await store.open()
    await store.register_machines(load_layout().machines)
    try:

        def cap(pages: int | None) -> None:
            conn = store._w()
            if pages is None:
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")

        await store._on_writer(cap, None)  # no page more than it has now: the next growth fails, as on a full disk
        with pytest.raises(StoreUnavailable, match="full"):
            await store.write_batch(readings(20_000))
        await store._on_writer(cap, 1_000_000_000)
        assert await store.write_batch(readings(20_000)) == 20_000
        assert (await store.stats()).readings == 20_000
    finally:
        await store.close()


async def test_a_sqlite_file_that_is_not_a_database_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(StoreUnavailable):
        await open_store(f"sqlite:///{path}").open()
