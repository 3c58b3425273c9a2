"""Small shared pieces of the simulator: status codes, the event record, a stepped frame, the hall's air."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from factorytwin.domain import Event, EventKind, MachineStatus

# Statuses the simulator uses, as small integers in its arrays.
STATUSES: tuple[MachineStatus, ...] = (
    MachineStatus.RUNNING,
    MachineStatus.IDLE,
    MachineStatus.STOPPED,
    MachineStatus.FAILED,
    MachineStatus.MAINTENANCE,
)
RUNNING, IDLE, STOPPED, FAILED, MAINTENANCE = range(5)
STATUS_CODE = {status: code for code, status in enumerate(STATUSES)}

EVENT_KINDS = ("failure", "repair", "maintenance", "status", "command", "production")
_DOMAIN_KIND = {
    "failure": EventKind.FAULT,
    "repair": EventKind.STATUS,
    "maintenance": EventKind.MAINTENANCE,
    "status": EventKind.STATUS,
    "command": EventKind.COMMAND,
    "production": EventKind.PRODUCTION,
}


@dataclass(frozen=True, slots=True)
class SimEvent:
    """Something that happened to a machine at simulation time ``t`` (seconds after the start)."""

    t: float
    machine_id: str
    kind: str  # machine kind
    event: str  # one of EVENT_KINDS
    status: MachineStatus  # the machine's status after the event (at the report, for production)
    mode: str | None = None  # failure mode of a failure or of the repair that ends it
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_domain(self, ts: datetime) -> Event:
        """The event as the wire's ``domain.Event`` stamped ``ts``; faults carry ``{"mode": ...}``."""
        data = dict(self.data)
        if self.mode is not None:
            data.setdefault("mode", self.mode)
        data.setdefault("event", self.event)
        return Event(
            machine_id=self.machine_id,
            ts=ts,
            kind=_DOMAIN_KIND[self.event],
            status=self.status,
            message=self.message,
            data=data,
        )


@dataclass(frozen=True, slots=True)
class Columns:
    """Which machine and which sensor key each column of a frame's ``values`` holds (only real sensors)."""

    machine: NDArray[np.intp]  # (C,) machine index
    key: NDArray[np.intp]  # (C,) index into all_sensor_keys()
    keys: list[str]  # all_sensor_keys()
    machines: int

    def of_machine(self, i: int) -> NDArray[np.intp]:
        """The columns of machine ``i``, in catalogue order."""
        return np.flatnonzero(self.machine == i)


@dataclass(frozen=True, slots=True)
class Frame:
    """What ``Engine.step`` produced: ``n`` samples of every sensor of every machine, and the events."""

    t: NDArray[np.float64]  # (n,) simulation seconds after the start
    values: NDArray[np.float64]  # (n, C) one column per (machine, sensor) of ``columns``, in the catalogue's units
    status: NDArray[np.int8]  # (n, machines) status code (index into STATUSES) under which each sample was taken
    events: list[SimEvent]
    columns: Columns

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.t.shape[0])

    def dense(self) -> NDArray[np.float64]:
        """The values as (n, machines, all sensor keys), NaN where a machine's kind lacks the sensor."""
        out = np.full((self.n, self.columns.machines, len(self.columns.keys)), np.nan)
        out[:, self.columns.machine, self.columns.key] = self.values
        return out

    def machine_values(self, row: int, i: int) -> dict[str, float]:
        """Sensor key -> value of machine ``i`` at sample ``row``."""
        cols = self.columns.of_machine(i)
        return {self.columns.keys[int(self.columns.key[c])]: float(self.values[row, c]) for c in cols}


def utc_start(start: datetime | None) -> datetime:
    """The simulation's start: the given aware time in UTC, or 2025-01-01T00:00Z so that runs are reproducible."""
    if start is None:
        return datetime(2025, 1, 1, tzinfo=UTC)
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return start.astimezone(UTC)


class Hall:
    """The hall's air temperature: a daily and a yearly cycle, weather, and a small offset per machine's spot."""

    MEAN_K = 299.5
    DAILY_K = 2.0  # peak at 15:00
    YEARLY_K = 2.5  # peak in late July
    WEATHER = ((0.7, 3.1), (0.5, 5.3), (0.3, 9.7))  # (amplitude K, period days) of slow weather swings

    def __init__(self, rng: np.random.Generator, machines: int, start: datetime) -> None:
        self.offset = rng.normal(0.0, 0.4, machines)
        self.phases = rng.uniform(0.0, 2.0 * math.pi, len(self.WEATHER))
        self.epoch_s = start.timestamp()

    def air(self, t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(air (n, machines) in K, hour of day (n,)) at simulation seconds ``t``."""
        unix = self.epoch_s + t
        day = unix / 86400.0
        tod = np.mod(day, 1.0)
        year = np.mod(day, 365.2425) / 365.2425
        base = self.MEAN_K + self.DAILY_K * np.sin(2 * math.pi * (tod - 0.375))
        base = base + self.YEARLY_K * np.sin(2 * math.pi * (year - 0.29))
        for (amp, period), phase in zip(self.WEATHER, self.phases, strict=True):
            base = base + amp * np.sin(2 * math.pi * day / period + phase)
        return base[:, None] + self.offset[None, :], tod * 24.0
