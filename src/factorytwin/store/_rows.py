"""Conversions shared by the backends: times as integer milliseconds, events and alarms to and from rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, Machine, MachineKind, MachineStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(ts: datetime) -> int:
    """Milliseconds since the Unix epoch (exact integer arithmetic, no float rounding); naive means UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The UTC datetime of ``ms`` milliseconds since the epoch."""
    return EPOCH + timedelta(milliseconds=ms)


def opt_ms(ts: datetime | None) -> int | None:
    """``to_ms`` that passes None through."""
    return None if ts is None else to_ms(ts)


def opt_dt(ms: int | None) -> datetime | None:
    """``from_ms`` that passes None through."""
    return None if ms is None else from_ms(ms)


def machine_from_row(r: Any) -> Machine:
    """A machine from a row of ``SELECT id, name, kind, line, x, y, rotation, metadata-as-JSON-text``."""
    return Machine(
        id=r[0], name=r[1], kind=MachineKind(r[2]), line=r[3], x=r[4], y=r[5], rotation=r[6], metadata=json.loads(r[7])
    )


EventRow = tuple[str, int, str, str | None, str, str]
"""(machine_id, ts_ms, kind, status, message, data_json) in insert order."""


def event_row(event: Event) -> EventRow:
    """The insert row of an event."""
    status = event.status.value if event.status is not None else None
    return (event.machine_id, to_ms(event.ts), event.kind.value, status, event.message, json.dumps(event.data))


def event_from_row(row: Any) -> Event:
    """An event from a ``(id, machine_id, ts, kind, status, message, data)`` row."""
    ev_id, machine_id, ts, kind, status, message, data = row
    return Event(
        id=ev_id,
        machine_id=machine_id,
        ts=from_ms(ts),
        kind=EventKind(kind),
        status=MachineStatus(status) if status is not None else None,
        message=message,
        data=json.loads(data) if data else {},
    )


ALARM_COLUMNS = (
    "machine_id",
    "type",
    "severity",
    "state",
    "message",
    "sensor",
    "value",
    "raised_at",
    "updated_at",
    "acked_at",
    "acked_by",
    "cleared_at",
    "cleared_by",
)


def alarm_row(alarm: Alarm) -> tuple[Any, ...]:
    """The values of an alarm in ``ALARM_COLUMNS`` order."""
    return (
        alarm.machine_id,
        alarm.type,
        alarm.severity.value,
        alarm.state.value,
        alarm.message,
        alarm.sensor,
        alarm.value,
        to_ms(alarm.raised_at),
        to_ms(alarm.updated_at),
        opt_ms(alarm.acked_at),
        alarm.acked_by,
        opt_ms(alarm.cleared_at),
        alarm.cleared_by,
    )


def alarm_from_row(row: Any) -> Alarm:
    """An alarm from an ``(id, *ALARM_COLUMNS)`` row."""
    (a_id, machine_id, a_type, severity, state, message, sensor, value, raised, updated, acked, acked_by, cleared,
     cleared_by) = row  # fmt: skip
    return Alarm(
        id=a_id,
        machine_id=machine_id,
        type=a_type,
        severity=AlarmSeverity(severity),
        state=AlarmState(state),
        message=message,
        sensor=sensor,
        value=value,
        raised_at=from_ms(raised),
        updated_at=from_ms(updated),
        acked_at=opt_dt(acked),
        acked_by=acked_by,
        cleared_at=opt_dt(cleared),
        cleared_by=cleared_by,
    )


def bucket_start_ms(start_ms: int, span_ms: int, points: int, index: int) -> int:
    """Start of bucket ``index`` in ms (integer arithmetic, the same on every backend)."""
    return start_ms + (index * span_ms) // points
