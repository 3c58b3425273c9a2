"""The ``store`` fixture: each test of this package runs on SQLite (a temp file) and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """An open store with the default factory's machines registered."""
    st = open_store(store_url)
    await st.open()
    await st.register_machines(load_layout().machines)
    try:
        yield st
    finally:
        await st.close()
