"""Fixtures of the connector unit tests: a real IngestService over a fresh SQLite store, the default factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from factorytwin.config import Settings
from factorytwin.ingest import IngestService
from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store

MACHINES = load_layout().machines


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    """The test's SQLite store, opened, with the default factory's machines."""
    st = open_store(settings.database_url)
    await st.open()
    await st.register_machines(MACHINES)
    yield st
    await st.close()


@pytest.fixture
async def ingest(settings: Settings, store: Store) -> AsyncIterator[IngestService]:
    """A started IngestService writing to ``store``."""
    service = IngestService(settings, store, MACHINES)
    await service.start()
    yield service
    await service.stop()
