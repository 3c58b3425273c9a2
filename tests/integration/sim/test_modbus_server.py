"""The simulator's Modbus TCP server read and written by a real pymodbus client."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio
from pymodbus.client import AsyncModbusTcpClient

from factorytwin.domain import CATALOGUE, MachineKind
from factorytwin.sim.modbus_map import STATUS_REGISTER, words_float32
from factorytwin.sim.modbus_server import ModbusSimServer
from factorytwin.sim.state import RUNNING, STOPPED
from tests.waiting import until

from .plant import serving, small_engine

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
MILL, PUMP, CONVEYOR = 1, 2, 3  # unit ids: 1 + the machine's index in the layout


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served() -> AsyncIterator[ModbusSimServer]:
    server = ModbusSimServer(small_engine(), port=0, host="127.0.0.1")
    async with serving(server.engine, server, ticks=2):
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def client(served: ModbusSimServer) -> AsyncIterator[AsyncModbusTcpClient]:
    c = AsyncModbusTcpClient("127.0.0.1", port=served.port, timeout=10)
    assert await c.connect()
    yield c
    c.close()


def _floats(registers: Sequence[int]) -> list[float]:
    return [words_float32(registers[i], registers[i + 1]) for i in range(0, len(registers), 2)]


async def test_input_registers_hold_every_sensor_as_float32(client: AsyncModbusTcpClient) -> None:
    specs = CATALOGUE[MachineKind.CNC_MILL]
    answer = await client.read_input_registers(0, count=2 * len(specs), device_id=MILL)
    assert not answer.isError()
    values = _floats(answer.registers)
    for spec, value in zip(specs, values, strict=True):
        assert spec.low <= value <= spec.high, spec.key
    assert 250.0 < values[0] < 330.0  # air_temp in kelvin
    status = await client.read_input_registers(STATUS_REGISTER, count=1, device_id=MILL)
    assert status.registers == [RUNNING]


async def test_values_change_from_tick_to_tick(client: AsyncModbusTcpClient, served: ModbusSimServer) -> None:
    first = (await client.read_input_registers(0, count=2, device_id=PUMP)).registers
    ticks = served.ticks
    await until(lambda: served.ticks >= ticks + 2, "two more ticks")
    later = (await client.read_input_registers(0, count=2, device_id=PUMP)).registers
    assert later != first


async def test_writing_the_speed_holding_register_changes_the_setpoint(
    client: AsyncModbusTcpClient, served: ModbusSimServer
) -> None:
    assert (await client.read_holding_registers(0, count=1, device_id=CONVEYOR)).registers == [1000]
    assert not (await client.write_register(0, 750, device_id=CONVEYOR)).isError()
    assert served.engine.speed_pct[2] == 75.0
    assert (await client.read_holding_registers(0, count=1, device_id=CONVEYOR)).registers == [750]
    refused = await client.write_register(0, 2000, device_id=CONVEYOR)
    assert refused.isError()
    assert refused.exception_code == 3  # illegal data value
    assert served.engine.speed_pct[2] == 75.0


async def test_the_run_coil_stops_the_machine(client: AsyncModbusTcpClient, served: ModbusSimServer) -> None:
    assert (await client.read_coils(0, count=1, device_id=PUMP)).bits[0] is True
    assert not (await client.write_coil(0, False, device_id=PUMP)).isError()
    assert served.engine.status[1] == STOPPED
    assert (await client.read_input_registers(STATUS_REGISTER, count=1, device_id=PUMP)).registers == [STOPPED]
    assert (await client.read_discrete_inputs(0, count=1, device_id=PUMP)).bits[0] is False
    assert not (await client.write_coil(0, True, device_id=PUMP)).isError()
    assert served.engine.status[1] == RUNNING


async def test_a_unit_id_no_machine_has_is_a_gateway_error(client: AsyncModbusTcpClient) -> None:
    answer = await client.read_input_registers(0, count=2, device_id=9)
    assert answer.isError()
    assert answer.exception_code == 11


async def test_a_taken_port_is_one_line(served: ModbusSimServer) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = ModbusSimServer(small_engine(), port=port, host="127.0.0.1")
        with pytest.raises(OSError, match=f"127.0.0.1:{port}") as taken:
            await server.start()
    assert "\n" not in str(taken.value)
