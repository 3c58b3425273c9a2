"""Builders of the events the KPI tests feed in: a day of 2026-03-02 (UTC), times as "HH:MM"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from factorytwin.domain import Event, EventKind, MachineStatus

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hhmm: str, day: int = 0) -> datetime:
    """``DAY`` + ``day`` days at ``hhmm``."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return DAY.replace(day=DAY.day + day, hour=hours, minute=minutes)


def ev(
    hhmm: str,
    kind: EventKind,
    status: MachineStatus | None,
    machine: str = "m1",
    day: int = 0,
    **data: Any,
) -> Event:
    """An event of ``machine`` at ``hhmm``."""
    return Event(machine_id=machine, ts=at(hhmm, day), kind=kind, status=status, data=data)


def running(hhmm: str, machine: str = "m1", day: int = 0) -> Event:
    """The machine runs from ``hhmm``."""
    return ev(hhmm, EventKind.STATUS, MachineStatus.RUNNING, machine, day)


def fault(hhmm: str, mode: str, machine: str = "m1", day: int = 0) -> Event:
    """The machine fails at ``hhmm`` with ``mode``."""
    return ev(hhmm, EventKind.FAULT, MachineStatus.FAILED, machine, day, mode=mode)


def parts(hhmm: str, total: int, bad: int, ideal_s: float | None = 60.0, machine: str = "m1") -> Event:
    """A production report at ``hhmm``."""
    data: dict[str, Any] = {"parts_total": total, "parts_bad": bad}
    if ideal_s is not None:
        data["ideal_cycle_s"] = ideal_s
    return Event(machine_id=machine, ts=at(hhmm), kind=EventKind.PRODUCTION, data=data)
