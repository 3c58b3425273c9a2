"""Conversions shared by the backends: times as integer milliseconds, events and alarms to and from rows.

Writing, every text is checked for what a store cannot hold (NUL, lone surrogates) and refused with
``StoreRejected`` on both backends alike, whatever the caller validated before. Reading, a row that no longer
makes a model (a time outside the datetime range, an unknown kind, broken JSON, written by an older version or
by hand) is skipped and logged: one stored value never breaks a read path (``models_from_rows``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from factorytwin.domain import (
    MAX_EVENT_DATA_BYTES,
    Alarm,
    AlarmComment,
    AlarmSeverity,
    AlarmState,
    Event,
    EventKind,
    Machine,
    MachineStatus,
    unstorable_json,
    unstorable_text,
)
from factorytwin.errors import StoreRejected
from factorytwin.store import rollup
from factorytwin.store.base import Bucketing, HistoryQuery, LatestValue

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
M = TypeVar("M")
BAD_ROW_ERRORS = (ValueError, TypeError, OverflowError, KeyError, IndexError)
"""What turning a stored row into a model raises when the row is bad (pydantic's ValidationError is a ValueError)."""


def models_from_rows(rows: Iterable[Any], convert: Callable[[Any], M], what: str) -> list[M]:
    """``convert`` each row; rows that fail are left out and logged once per call (with the first row's error)."""
    out: list[M] = []
    bad = 0
    first: Exception | None = None
    for row in rows:
        try:
            out.append(convert(row))
        except BAD_ROW_ERRORS as exc:
            bad += 1
            first = first or exc
    if bad:
        log.warning("store: skipped %d stored %s row(s) that make no valid %s: %s", bad, what, what, first)
    return out


def latest_values(rows: Iterable[Any]) -> dict[str, LatestValue]:
    """``(key, ts_ms, value)`` rows as latest values. A row no answer can carry (a time outside the datetime
    range, a non-finite value: written around ingest) is left out and logged: one stored value never breaks
    the read."""
    out: dict[str, LatestValue] = {}
    bad = 0
    for key, ts, value in rows:
        try:
            if not math.isfinite(value):
                raise ValueError("not finite")
            out[key] = LatestValue(value=value, ts=from_ms(ts))
        except BAD_ROW_ERRORS:
            bad += 1
    if bad:
        log.warning("store: skipped %d latest value(s) that make no valid reading", bad)
    return out


def check_text(field: str, value: str | None) -> None:
    """Raise ``StoreRejected`` naming ``field`` when ``value`` holds text no store can keep."""
    if value is not None and (problem := unstorable_text(value)) is not None:
        raise StoreRejected(f"{field}: {problem}")


def data_json(field: str, value: object, max_bytes: int) -> str:
    """``value`` as compact JSON text with sorted keys (canonical: equal data, equal text); ``StoreRejected``
    naming ``field`` when it is no storable JSON."""
    problem = unstorable_json(value, max_bytes)
    if problem is not None:
        raise StoreRejected(f"{field}: {problem}")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


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


MACHINE_COLUMNS = "id, name, kind, line, x, y, rotation, metadata, bands"
"""The columns of a machine row, in ``machine_row`` order (``kind`` holds the profile id)."""


def machine_row(m: Machine) -> tuple[object, ...]:
    """The insert row of a machine: id, name, profile, line, x, y, rotation, metadata and bands as JSON text."""
    check_text("machine name", m.name)
    check_text("machine line", m.line)
    metadata = data_json("machine metadata", m.metadata, 64 * 1024)
    bands = json.dumps({k: b.model_dump() for k, b in m.bands.items()})
    return (m.id, m.name, m.profile, m.line, m.x, m.y, m.rotation, metadata, bands)


def machine_from_row(r: Any) -> Machine:
    """A machine from a row of ``SELECT`` ``MACHINE_COLUMNS`` (metadata and bands as JSON text)."""
    return Machine(
        id=r[0],
        name=r[1],
        profile=r[2],
        line=r[3],
        x=r[4],
        y=r[5],
        rotation=r[6],
        metadata=json.loads(r[7]),
        bands=json.loads(r[8]),
    )


EventRow = tuple[str, int, str, str | None, str, str, str]
"""(machine_id, ts_ms, kind, status, message, data_json, natural_key) in insert order."""


def event_row(event: Event) -> EventRow:
    """The insert row of an event, with its natural key; ``StoreRejected`` for content no store can hold."""
    check_text("event machine_id", event.machine_id)
    check_text("event message", event.message)
    status = event.status.value if event.status is not None else None
    data = data_json("event data", event.data, MAX_EVENT_DATA_BYTES)
    ts = to_ms(event.ts)
    return (event.machine_id, ts, event.kind.value, status, event.message, data, event_key(event, ts, data))


def event_key(event: Event, ts_ms: int, data: str) -> str:
    """The natural key of an event: a hash of everything it says (machine, time, kind, status, message, data).

    The same event sent again (a REST retry, an MQTT redelivery) has the same key and is stored once. ``data``
    is the canonical JSON of ``data_json`` (sorted keys), so the order of a producer's keys makes no new event.
    """
    status = event.status.value if event.status is not None else ""
    parts = (event.machine_id, str(ts_ms), event.kind.value, status, event.message, data)
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


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
    "shelved_until",
    "shelved_by",
    "shelve_reason",
    "comments",
)


def alarm_row(alarm: Alarm) -> tuple[Any, ...]:
    """The values of an alarm in ``ALARM_COLUMNS`` order; ``StoreRejected`` for text no store can hold."""
    for name in ("machine_id", "type", "message", "sensor", "acked_by", "cleared_by", "shelved_by", "shelve_reason"):
        check_text(f"alarm {name}", getattr(alarm, name))
    for comment in alarm.comments:
        check_text("alarm comment", comment.text)
        check_text("alarm comment by", comment.by)
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
        opt_ms(alarm.shelved_until),
        alarm.shelved_by,
        alarm.shelve_reason,
        json.dumps([[to_ms(c.at), c.by, c.text] for c in alarm.comments], ensure_ascii=False),
    )


def alarm_from_row(row: Any) -> Alarm:
    """An alarm from an ``(id, *ALARM_COLUMNS)`` row."""
    (a_id, machine_id, a_type, severity, state, message, sensor, value, raised, updated, acked, acked_by, cleared,
     cleared_by, shelved_until, shelved_by, shelve_reason, comments) = row  # fmt: skip
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
        shelved_until=opt_dt(shelved_until),
        shelved_by=shelved_by,
        shelve_reason=shelve_reason,
        comments=[AlarmComment(at=from_ms(at), by=by, text=text) for at, by, text in json.loads(comments or "[]")],
    )


def query_buckets(query: HistoryQuery) -> rollup.Buckets:
    """The buckets of a history query (``query.bucketing``) in ms."""
    start, end = to_ms(query.start), to_ms(query.end)
    if query.bucketing is Bucketing.ALIGNED:
        return rollup.aligned_buckets(start, end, query.points)
    return rollup.exact_buckets(start, end, query.points)


def bucket_start_ms(start_ms: int, span_ms: int, points: int, index: int) -> int:
    """Start of bucket ``index`` in ms (integer arithmetic, the same on every backend)."""
    return start_ms + (index * span_ms) // points
