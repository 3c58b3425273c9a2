"""The Modbus register map: unit ids, float32 word order, the status register and the setpoint scaling."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factorytwin.domain import CATALOGUE, FactoryLayout, Machine, MachineKind, ProductionLine
from factorytwin.sim.modbus_map import (
    INPUT_REGISTERS,
    STATUS_REGISTER,
    float32_words,
    input_registers,
    register_map,
    setpoint_register,
    speed_from_register,
    words_float32,
)


def _layout(n: int, kind: MachineKind = MachineKind.PUMP) -> FactoryLayout:
    return FactoryLayout(
        name="t",
        lines=[ProductionLine(id="l1", name="Line 1")],
        machines=[Machine(id=f"m{i}", name=f"M{i}", profile=kind, line="l1", x=0, y=0) for i in range(n)],
    )


def test_unit_id_is_one_plus_the_machine_index_and_sensors_sit_at_twice_their_index() -> None:
    units = register_map(_layout(3))
    assert [(u.unit_id, u.machine_id) for u in units] == [(1, "m0"), (2, "m1"), (3, "m2")]
    keys = [s.key for s in CATALOGUE[MachineKind.PUMP]]
    assert [(s.address, s.key) for s in units[0].sensors] == [(2 * i, k) for i, k in enumerate(keys)]
    assert units[0].sensors[1].unit == "bar"


def test_more_machines_than_unit_ids_are_refused() -> None:
    assert len(register_map(_layout(247))) == 247
    with pytest.raises(ValueError, match="247"):
        register_map(_layout(248))


def test_float32_is_big_endian_high_word_first() -> None:
    assert float32_words(1.0) == (0x3F80, 0x0000)
    assert float32_words(-2.5) == (0xC020, 0x0000)
    assert words_float32(0x4049, 0x0FDB) == pytest.approx(math.pi, rel=1e-7)


@given(st.floats(width=32, allow_nan=False))
def test_float32_words_round_trip(value: float) -> None:
    hi, lo = float32_words(value)
    assert 0 <= hi <= 0xFFFF
    assert 0 <= lo <= 0xFFFF
    assert words_float32(hi, lo) == value
    assert struct.pack(">HH", hi, lo) == struct.pack(">f", value)


def test_input_registers_hold_every_sensor_and_the_status() -> None:
    unit = register_map(_layout(1))[0]
    values = {s.key: float(i) + 0.5 for i, s in enumerate(CATALOGUE[MachineKind.PUMP])}
    regs = input_registers(unit, values, status=3)
    assert len(regs) == INPUT_REGISTERS
    assert regs[STATUS_REGISTER] == 3
    for s in unit.sensors:
        assert words_float32(regs[s.address], regs[s.address + 1]) == values[s.key]


def test_a_sensor_without_a_value_reads_nan() -> None:
    unit = register_map(_layout(1))[0]
    regs = input_registers(unit, {}, status=0)
    assert math.isnan(words_float32(regs[0], regs[1]))


def test_setpoint_register_is_tenths_of_a_percent() -> None:
    assert setpoint_register(100.0) == 1000
    assert setpoint_register(80.25) == 802
    assert setpoint_register(500.0) == 1200  # what the engine holds is at most 120 %, but the map never overflows
    assert speed_from_register(800) == 80.0
    assert speed_from_register(0) == 0.0
    assert speed_from_register(1200) == 120.0


def test_a_setpoint_past_120_percent_is_refused() -> None:
    with pytest.raises(ValueError, match="0-1200"):
        speed_from_register(1201)
