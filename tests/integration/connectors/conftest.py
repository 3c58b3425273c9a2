"""Real services for the connector integration tests: ingest over a real SQLite store, brokers and servers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from factorytwin.config import Settings
from factorytwin.connectors.base import Connector, ConnectorState
from factorytwin.ingest import IngestService
from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store
from tests.integration.twin.conftest import Mosquitto, free_port
from tests.waiting import DEADLINE_S

MACHINES = load_layout().machines
FAST_BACKOFF = {"initial_s": 0.05, "max_s": 0.5}
"""Reconnect quickly in tests: a server that comes back is found within half a second."""

__all__ = ["FAST_BACKOFF", "MACHINES", "Mosquitto", "free_port", "reach", "stored"]


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
    """A started IngestService writing to ``store``: the one way in."""
    service = IngestService(settings, store, MACHINES)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test alone (the shared broker serves every test)."""
    return f"ft-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of this test alone, so that it may be stopped and started again."""
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def reach(connector: Connector[Any], state: ConnectorState, timeout_s: float = DEADLINE_S) -> None:
    """Wait until ``connector`` is in ``state``; fail naming its status otherwise."""
    try:
        await asyncio.wait_for(connector.wait_for(state), timeout_s)
    except TimeoutError:
        raise AssertionError(f"{connector.id} not {state} within {timeout_s} s: {connector.status()}") from None


async def stored(store: Store, machine_id: str, sensor: str, value: float, timeout_s: float = DEADLINE_S) -> None:
    """Wait until ``store`` holds ``value`` as the latest of ``machine_id``/``sensor``."""
    deadline = time.monotonic() + timeout_s
    while True:
        latest = {k: v.value for k, v in (await store.latest(machine_id)).items()}
        if latest.get(sensor) == pytest.approx(value):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {machine_id}/{sensor} = {value} (latest: {latest})")
        await asyncio.sleep(0.02)
