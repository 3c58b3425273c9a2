"""Test doubles of the connector runtime: a scripted connector, a clock and a sleep that only move when told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from factorytwin.connectors.base import ConnectionLost, Connector, MappedValue
from factorytwin.connectors.models import ModbusConnector, parse_connector
from factorytwin.ingest import IngestService

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def config(initial_s: float = 0.5, max_s: float = 8.0, connector_id: str = "fake") -> ModbusConnector:
    parsed = parse_connector(
        {
            "kind": "modbus",
            "id": connector_id,
            "host": "127.0.0.1",
            "registers": [{"address": 0, "machine_id": "pump-01", "sensor": "flow_rate"}],
            "backoff": {"initial_s": initial_s, "max_s": max_s},
        }
    )
    assert isinstance(parsed, ModbusConnector)
    return parsed


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FakeSleep:
    """Records every delay and returns at once (after letting other tasks run)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


class Scripted(Connector[ModbusConnector]):
    """A connector whose sessions fail ``failures`` times, then connect and hold until ``lose`` is set."""

    def __init__(
        self, ingest: IngestService, failures: int, connector_config: ModbusConnector | None = None, **kw: Any
    ) -> None:
        super().__init__(connector_config or config(), ingest, **kw)
        self.failures = failures
        self.sessions = 0
        self.lose = asyncio.Event()

    async def session(self) -> None:
        self.sessions += 1
        if self.sessions <= self.failures:
            raise ConnectionRefusedError(f"attempt {self.sessions} refused")
        self.connected()
        await self.lose.wait()
        self.lose.clear()
        raise ConnectionLost("the device went away")


def value(sensor: str = "flow_rate", v: float = 80.0, machine: str = "pump-01", ts: datetime = T0) -> MappedValue:
    return MappedValue(machine, sensor, v, ts, source=f"test/{sensor}")
