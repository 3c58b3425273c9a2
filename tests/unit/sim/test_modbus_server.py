"""The Modbus server's request handling, without a socket: what reads see, what writes command."""

from __future__ import annotations

import math

import pytest
from pymodbus.constants import ExcCodes

from factorytwin.domain import MachineKind
from factorytwin.sim.modbus_map import INPUT_REGISTERS, STATUS_REGISTER, words_float32
from factorytwin.sim.modbus_server import ModbusSimServer
from factorytwin.sim.state import FAILED, RUNNING, STOPPED

from .helpers import engine_for

READ_COILS, READ_DISCRETE, READ_HOLDING, READ_INPUT = 1, 2, 3, 4
WRITE_COIL, WRITE_REGISTER = 5, 6


def _server() -> ModbusSimServer:
    return ModbusSimServer(engine_for(MachineKind.PUMP), port=0)


def _regs(n: int = INPUT_REGISTERS + 1) -> list[int]:
    return [0] * n


async def test_input_registers_read_the_last_tick() -> None:
    server = _server()
    unit = server.units[0]
    regs = _regs()
    assert server.handle(unit, READ_INPUT, regs, None) is None
    assert math.isnan(words_float32(regs[0], regs[1]))  # before the first tick
    frame = server.engine.step(1.0, 3)
    await server.update(frame)
    server.handle(unit, READ_INPUT, regs, None)
    values = frame.machine_values(2, 0)
    for s in unit.sensors:
        assert words_float32(regs[s.address], regs[s.address + 1]) == pytest.approx(values[s.key], rel=1e-6)
    assert regs[STATUS_REGISTER] == RUNNING


def test_writing_the_holding_register_sets_the_speed() -> None:
    server = _server()
    unit = server.units[0]
    assert server.handle(unit, WRITE_REGISTER, _regs(2), [655]) is None
    assert server.engine.speed_pct[0] == 65.5
    regs = _regs(2)
    server.handle(unit, READ_HOLDING, regs, None)
    assert regs[0] == 655
    assert [e.data["command"] for e in server.engine.pending] == ["set_speed"]
    assert server.engine.pending[0].data["issued_by"] == "modbus"


def test_a_setpoint_out_of_range_is_an_illegal_value_and_changes_nothing() -> None:
    server = _server()
    assert server.handle(server.units[0], WRITE_REGISTER, _regs(2), [1500]) is ExcCodes.ILLEGAL_VALUE
    assert server.engine.speed_pct[0] == 100.0
    assert (server.commands, server.refused) == (1, 1)


def test_the_run_coil_stops_and_starts_and_reads_back() -> None:
    server = _server()
    unit = server.units[0]
    assert server.handle(unit, WRITE_COIL, _regs(2), [False]) is None
    assert server.engine.status[0] == STOPPED
    regs = _regs(2)
    server.handle(unit, READ_COILS, regs, None)
    assert regs[0] == 0
    server.handle(unit, READ_DISCRETE, regs, None)
    assert regs[0] == 0
    assert server.handle(unit, WRITE_COIL, _regs(2), [True]) is None
    assert server.engine.status[0] == RUNNING
    server.handle(unit, READ_COILS, regs, None)
    assert regs[0] == 1


def test_starting_a_failed_machine_is_a_device_failure() -> None:
    server = _server()
    server.engine.status[0] = FAILED
    assert server.handle(server.units[0], WRITE_COIL, _regs(2), [True]) is ExcCodes.DEVICE_FAILURE
    assert server.refused == 1


def test_a_port_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="65535"):
        ModbusSimServer(engine_for(MachineKind.PUMP), port=70000)
