"""From a machine's stored events to what the KPIs are computed from: status stretches and production counts.

Every event that carries a ``status`` (kinds status, fault, maintenance, command) sets the machine's status from
its ``ts`` on; the first of a stretch says why (its cause). Production events (kind ``production``) report parts
made since the previous report: ``data.parts_total``, ``data.parts_bad`` and optionally ``data.ideal_cycle_s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from factorytwin.domain import Event, EventKind, MachineStatus

STATUS_KINDS = frozenset({EventKind.STATUS, EventKind.FAULT, EventKind.MAINTENANCE, EventKind.COMMAND})
DEFAULT_CAUSE: dict[MachineStatus, str | None] = {
    MachineStatus.RUNNING: None,
    MachineStatus.IDLE: "idle",
    MachineStatus.STOPPED: "stop:unspecified",
    MachineStatus.FAILED: "failure:unknown",
    MachineStatus.MAINTENANCE: "maintenance:unspecified",
    MachineStatus.OFFLINE: "offline",
}


@dataclass(frozen=True, slots=True)
class Mark:
    """From ``ts_ms`` on, the machine is in ``status`` for ``cause``; ``planned`` stops are not production time.
    ``failure``: this mark starts a failure (the machine was not failed before)."""

    ts_ms: int
    status: MachineStatus
    cause: str | None
    planned: bool = False
    failure: bool = False


@dataclass(frozen=True, slots=True)
class Count:
    """Parts reported at ``ts_ms`` (made in the interval the report closes)."""

    ts_ms: int
    total: int
    bad: int
    ideal_cycle_s: float | None


def _reason(data: dict[str, object]) -> str | None:
    value = data.get("reason")
    return str(value) if isinstance(value, str) and value else None


def cause_of(event: Event) -> str | None:
    """What an event says about why its machine is in its status, or None when it says nothing new."""
    data = event.data
    if event.kind is EventKind.FAULT or (event.status is MachineStatus.FAILED and data.get("mode")):
        return f"failure:{data.get('mode') or 'unknown'}"
    if event.kind is EventKind.MAINTENANCE:
        return f"maintenance:{_reason(data) or 'unspecified'}"
    if event.status is MachineStatus.STOPPED:
        if _reason(data):
            return f"stop:{_reason(data)}"
        if event.kind is EventKind.COMMAND:
            return "stop:command"
    return None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (exact integer arithmetic, as the store keeps them)."""
    return (ts - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The UTC datetime of ``ms`` milliseconds since the epoch."""
    return EPOCH + timedelta(milliseconds=ms)


def _ts_ms(event: Event) -> int:
    return to_ms(event.ts)


def status_marks(events: Iterable[Event], before: MachineStatus | None = None) -> list[Mark]:
    """The status changes of one machine's ``events`` (oldest first; others are ignored). ``before`` is the
    status the machine was in before the first of them (None: unknown), which tells whether a fault starts a
    failure. An event repeating the status keeps the stretch (and its cause) unless it names a new cause."""
    marks: list[Mark] = []
    status, cause = before, None
    for event in events:
        if event.kind not in STATUS_KINDS or event.status is None:
            continue
        new_cause = cause_of(event)
        if event.status == status and (new_cause is None or new_cause == cause):
            continue
        if new_cause is None:
            new_cause = DEFAULT_CAUSE[event.status]
        planned = event.status is not MachineStatus.RUNNING and event.data.get("planned") is True
        failure = event.status is MachineStatus.FAILED and status is not MachineStatus.FAILED
        marks.append(Mark(_ts_ms(event), event.status, new_cause, planned, failure))
        status, cause = event.status, new_cause
    return marks


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def counts(events: Iterable[Event]) -> list[Count]:
    """The production reports among ``events`` (oldest first); reports without a valid ``parts_total`` are
    ignored, ``parts_bad`` defaults to 0 and is capped at ``parts_total``."""
    out: list[Count] = []
    for event in events:
        if event.kind is not EventKind.PRODUCTION:
            continue
        total = _int(event.data.get("parts_total"))
        if total is None:
            continue
        bad = min(_int(event.data.get("parts_bad")) or 0, total)
        ideal = event.data.get("ideal_cycle_s")
        ideal_s = float(ideal) if isinstance(ideal, int | float) and not isinstance(ideal, bool) and ideal > 0 else None
        out.append(Count(_ts_ms(event), total, bad, ideal_s))
    return out


def initial_mark(history: Sequence[Event]) -> Mark | None:
    """The status a machine was in at the start of a range, from its events before the range (newest first), as a
    mark at the time of the newest status-carrying one; None when none of them carries a status."""
    for i, event in enumerate(history):
        if event.kind in STATUS_KINDS and event.status is not None:
            # The stretch's cause (and whether it is planned) is told by the newest event naming one for this
            # status: a repeat of the status keeps the stretch.
            named = event
            for older in history[i:]:
                if older.kind not in STATUS_KINDS or older.status is None:
                    continue
                if older.status != event.status:
                    break
                if cause_of(older) is not None:
                    named = older
                    break
            cause = cause_of(named) or DEFAULT_CAUSE[event.status]
            planned = event.status is not MachineStatus.RUNNING and named.data.get("planned") is True
            return Mark(_ts_ms(event), event.status, cause, planned)
    return None
