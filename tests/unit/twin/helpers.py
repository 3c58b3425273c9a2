"""Builders shared by the twin's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from factorytwin.domain import Event, EventKind, Machine, MachineKind, MachineStatus, ReadingSet, TelemetryBatch

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

IMMEDIATE: dict[str, Any] = {"alarm_on_delay_s": 0.0, "alarm_off_delay_s": 0.0, "alarm_deadband": 0.02}
"""Settings of alarm rules without delays (tests of what the twin does with an alarm, not of when it raises it)."""

MILL_NORMAL: dict[str, float] = {
    "air_temp": 300.0,
    "process_temp": 310.0,
    "spindle_speed": 1500.0,
    "torque": 40.0,
    "power": 6.0,
    "tool_wear": 50.0,
    "vibration": 2.0,
    "motor_current": 20.0,
}


def machine(machine_id: str = "mill-01", kind: MachineKind = MachineKind.CNC_MILL) -> Machine:
    """A machine of the layout."""
    return Machine(id=machine_id, name=machine_id, profile=kind, line="line-a", x=0.0, y=0.0)


def reading(second: float, machine_id: str = "mill-01", **values: float) -> ReadingSet:
    """A mill's reading set ``second`` seconds after T0: normal values, overridden by ``values``."""
    return ReadingSet(machine_id=machine_id, ts=T0 + timedelta(seconds=second), values={**MILL_NORMAL, **values})


def batch(*readings: ReadingSet, events: list[Event] | None = None) -> TelemetryBatch:
    """A batch of reading sets and events."""
    return TelemetryBatch(readings=list(readings), events=events or [])


def status_event(second: float, status: MachineStatus, machine_id: str = "mill-01", **data: Any) -> Event:
    """A status event ``second`` seconds after T0."""
    return Event(
        machine_id=machine_id, ts=T0 + timedelta(seconds=second), kind=EventKind.STATUS, status=status, data=data
    )
