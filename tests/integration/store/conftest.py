"""The ``store`` fixture: each test of this package runs on SQLite (a temp file) and on the real PostgreSQL; and
``sqlite_store`` for the tests of SQLite's own partitions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest

from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store
from factorytwin.store.sqlite import SQLiteStore

S = TypeVar("S", bound=Store)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """An open store with the default factory's machines registered."""
    async with _opened(open_store(store_url)) as st:
        yield st


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[SQLiteStore]:
    """An open SQLite store (its own type: the tests read its partitions) with the default factory's machines."""
    async with _opened(SQLiteStore(sqlite_url.removeprefix("sqlite:///"))) as st:
        yield st


@asynccontextmanager
async def _opened(st: S) -> AsyncIterator[S]:
    await st.open()
    await st.register_machines(load_layout().machines)
    try:
        yield st
    finally:
        await st.close()
