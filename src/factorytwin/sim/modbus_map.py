"""The simulator's Modbus register map as plain data and pure conversions (``modbus_server`` serves it).

One unit id per machine: ``unit id = 1 + machine index`` (layout order), so at most 247 machines. Per unit:

=================  =========  =====================================================================================
table              address    content
=================  =========  =====================================================================================
input registers    2*i, 2*i+1  sensor ``i`` of the machine's kind (catalogue order), float32, big-endian: the high
                              word first, each word big-endian (byte order ABCD), in the catalogue's unit
input registers    100        status code: 0 running, 1 idle, 2 stopped, 3 failed, 4 maintenance
holding register   0          speed setpoint in 0.1 % of nominal (1000 = 100 %, 0-1200); a write sets the speed
coil               0          run: 1 = run (write: Start), 0 = stopped by command (write: Stop)
discrete input     0          running now (status running)
=================  =========  =====================================================================================
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from factorytwin.domain import CATALOGUE, FactoryLayout, MachineKind, kind_of

MAX_UNITS = 247  # Modbus unit ids 1-247 address devices; 0 is broadcast, 248-255 are reserved
STATUS_REGISTER = 100
INPUT_REGISTERS = STATUS_REGISTER + 1  # input registers 0..100 are defined
SETPOINT_REGISTER = 0
SETPOINT_SCALE = 10  # register counts per percent: 0.1 % resolution
SETPOINT_MAX = 1200  # 120 %, the most sim.commands accepts
RUN_COIL = 0
RUNNING_INPUT = 0


@dataclass(frozen=True, slots=True)
class SensorRegister:
    """Where one sensor's float32 sits: input registers ``address`` (high word) and ``address + 1``."""

    address: int
    key: str
    unit: str


@dataclass(frozen=True, slots=True)
class UnitMap:
    """The registers of one machine."""

    unit_id: int
    index: int  # the engine's machine index
    machine_id: str
    kind: MachineKind
    sensors: tuple[SensorRegister, ...]


def unit_id(index: int) -> int:
    """The Modbus unit id of the machine at ``index`` of the layout."""
    return 1 + index


def register_map(layout: FactoryLayout) -> tuple[UnitMap, ...]:
    """The register map of every machine of ``layout``; ``ValueError`` past 247 machines."""
    layout = layout.simulated()
    if len(layout.machines) > MAX_UNITS:
        raise ValueError(f"Modbus addresses at most {MAX_UNITS} machines (unit ids 1-247), the layout has more")
    return tuple(
        UnitMap(
            unit_id=unit_id(i),
            index=i,
            machine_id=m.id,
            kind=kind_of(m),
            sensors=tuple(SensorRegister(2 * j, s.key, s.unit) for j, s in enumerate(CATALOGUE[kind_of(m)])),
        )
        for i, m in enumerate(layout.machines)
    )


def float32_words(value: float) -> tuple[int, int]:
    """``value`` as two 16-bit registers, big-endian float32 with the high word first (NaN stays NaN)."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return int(hi), int(lo)


def words_float32(hi: int, lo: int) -> float:
    """The float32 two registers hold (high word first): the inverse of ``float32_words``."""
    return float(struct.unpack(">f", struct.pack(">HH", hi, lo))[0])


def input_registers(unit: UnitMap, values: dict[str, float], status: int) -> list[int]:
    """Input registers 0..100 of ``unit``: its sensor values (NaN for one missing) and the status code."""
    regs = [0] * INPUT_REGISTERS
    for sensor in unit.sensors:
        regs[sensor.address], regs[sensor.address + 1] = float32_words(values.get(sensor.key, math.nan))
    regs[STATUS_REGISTER] = status
    return regs


def setpoint_register(speed_pct: float) -> int:
    """The holding register value of a speed setpoint in percent (0.1 % steps, clamped to 0-1200)."""
    return max(0, min(SETPOINT_MAX, round(speed_pct * SETPOINT_SCALE)))


def speed_from_register(raw: int) -> float:
    """The speed in percent that a written holding register value asks for; ``ValueError`` past 1200 (120 %)."""
    if not 0 <= raw <= SETPOINT_MAX:
        raise ValueError(f"speed setpoint {raw} is outside 0-{SETPOINT_MAX} (0.1 % of nominal)")
    return raw / SETPOINT_SCALE
