"""Modbus TCP against a real pymodbus server: decoded values reach the store; a server outage and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from factorytwin.connectors.base import ConnectorState
from factorytwin.connectors.decode import encode
from factorytwin.connectors.modbus import ModbusConnectorRuntime
from factorytwin.connectors.models import ModbusConnector, parse_connector
from factorytwin.ingest import IngestService
from factorytwin.store import Store
from tests.integration.connectors.conftest import FAST_BACKOFF, free_port, reach, stored

pytestmark = pytest.mark.integration

UNIT = 3
HOLDING, INPUT = 3, 4  # the function codes that read (and, on the server, address) each table


class Device:
    """A pymodbus TCP server holding 100 holding and 100 input registers of one unit; stop and start it again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: ModbusTcpServer | None = None
        self.registers: dict[tuple[int, int], list[int]] = {}

    async def start(self) -> None:
        bits = [SimData(0, values=False, datatype=DataType.BITS)]
        regs = [SimData(0, count=100, values=0, datatype=DataType.REGISTERS)]
        device = SimDevice(id=UNIT, simdata=(bits, list(bits), regs, list(regs)))
        self.server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
        await self.server.serve_forever(background=True)
        for (fc, address), values in self.registers.items():
            await self.server.async_setValues(UNIT, fc, address, values)

    async def set(self, fc: int, address: int, values: list[int]) -> None:
        self.registers[(fc, address)] = values
        if self.server is not None:
            await self.server.async_setValues(UNIT, fc, address, values)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus leaves it unannotated
            self.server = None


@pytest.fixture
async def device() -> AsyncIterator[Device]:
    dev = Device(free_port())
    await dev.start()
    yield dev
    await dev.stop()


def config(port: int, **over: Any) -> ModbusConnector:
    parsed = parse_connector(
        {
            "kind": "modbus",
            "id": "press-plc",
            "host": "127.0.0.1",
            "port": port,
            "unit_id": UNIT,
            "poll_interval_s": 0.05,
            "timeout_s": 1.0,
            "registers": [
                {"address": 0, "data_type": "float32", "machine_id": "pump-01", "sensor": "outlet_pressure"},
                {
                    "address": 2,
                    "data_type": "int32",
                    "word_order": "little",
                    "machine_id": "pump-01",
                    "sensor": "motor_speed",
                },
                {"address": 4, "data_type": "uint16", "scale": 0.1, "machine_id": "pump-01", "sensor": "flow_rate"},
                {
                    "address": 10,
                    "table": "input",
                    "data_type": "int16",
                    "scale": 0.01,
                    "machine_id": "pump-01",
                    "sensor": "inlet_pressure",
                },
                {"address": 20, "data_type": "float32", "machine_id": "pump-01", "sensor": "bearing_temp"},
            ],
            "backoff": FAST_BACKOFF,
        }
        | over
    )
    assert isinstance(parsed, ModbusConnector)
    return parsed


async def test_polled_registers_are_decoded_into_the_store(device: Device, ingest: IngestService, store: Store) -> None:
    await device.set(HOLDING, 0, encode(6.5, "float32"))
    await device.set(HOLDING, 2, encode(2950, "int32", "little"))
    await device.set(HOLDING, 4, [805])
    await device.set(INPUT, 10, encode(-50, "int16"))
    await device.set(HOLDING, 20, [0x7FC0, 0x0000])  # float32 NaN: the device has no bearing temperature
    conn = ModbusConnectorRuntime(config(device.port), ingest)
    await conn.start()
    try:
        await reach(conn, ConnectorState.CONNECTED)
        await stored(store, "pump-01", "outlet_pressure", 6.5)
        await stored(store, "pump-01", "motor_speed", 2950.0)
        await stored(store, "pump-01", "flow_rate", 80.5)
        await stored(store, "pump-01", "inlet_pressure", -0.5)
        assert "bearing_temp" not in await store.latest("pump-01")
        status = conn.status()
        assert status.values_total >= 4
        assert status.unmapped_total >= 1  # the NaN, once per poll
        assert status.rejected_total == 0
        assert [(b.table, b.start, b.count) for b in conn.plan] == [
            ("holding", 0, 5),
            ("holding", 20, 2),
            ("input", 10, 1),
        ]
    finally:
        await conn.stop()


async def test_an_address_the_device_lacks_is_unmapped_and_the_link_stays_up(
    device: Device, ingest: IngestService, store: Store
) -> None:
    await device.set(HOLDING, 0, [805])
    registers = [
        {"address": 0, "machine_id": "pump-02", "sensor": "flow_rate", "scale": 0.1},
        {"address": 150, "machine_id": "pump-02", "sensor": "motor_speed"},  # beyond the device's 100 registers
    ]
    conn = ModbusConnectorRuntime(config(device.port, registers=registers), ingest)
    await conn.start()
    try:
        await stored(store, "pump-02", "flow_rate", 80.5)
        status = conn.status()
        assert status.state is ConnectorState.CONNECTED
        assert status.unmapped_total >= 1
        assert status.last_error is not None
        assert "holding registers 150..150: the device answered exception 2 (illegal data address)" in status.last_error
    finally:
        await conn.stop()


async def test_a_server_that_goes_away_is_reconnecting_and_recovers(
    device: Device, ingest: IngestService, store: Store
) -> None:
    await device.set(HOLDING, 4, [700])
    conn = ModbusConnectorRuntime(config(device.port), ingest)
    await conn.start()
    try:
        await stored(store, "pump-01", "flow_rate", 70.0)
        await device.stop()
        await reach(conn, ConnectorState.RECONNECTING)
        status = conn.status()
        assert status.last_error
        assert status.reconnects >= 1
        await device.set(HOLDING, 4, [915])
        await device.start()
        await reach(conn, ConnectorState.CONNECTED)
        await stored(store, "pump-01", "flow_rate", 91.5)
    finally:
        await conn.stop()
