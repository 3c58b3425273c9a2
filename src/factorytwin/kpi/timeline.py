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
from factorytwin.store.base import CountRow, StatusRow

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


Fact = tuple[int, EventKind, MachineStatus | None, object, str | None, bool]
"""What the KPIs use of a status-carrying event: ``(ts_ms, kind, status, data.mode, data.reason, planned)``,
``reason`` a non-empty string or None, ``planned`` whether ``data.planned is True``. Made from an ``Event``
(``fact_of``) or from a store's compact row (``fact_of_row``); the marks are computed from facts only."""


def fact_of(event: Event) -> Fact:
    """The fact of an event."""
    data = event.data
    return (_ts_ms(event), event.kind, event.status, data.get("mode"), _reason(data), data.get("planned") is True)


def fact_of_row(row: StatusRow) -> Fact | None:
    """The fact of a store's ``StatusRow``; None for a row that makes no valid event (an unknown kind or status),
    which the store's event reads skip too."""
    ts, kind, status, mode, reason, planned = row
    event_kind = _KINDS.get(kind)
    machine_status = _STATUSES.get(status) if status is not None else None
    if event_kind is None or (status is not None and machine_status is None):
        return None
    return (ts, event_kind, machine_status, mode, reason or None, planned)


_KINDS: dict[str, EventKind] = {k.value: k for k in EventKind}
_STATUSES: dict[str, MachineStatus] = {s.value: s for s in MachineStatus}


def facts_of_rows(rows: Iterable[StatusRow]) -> list[Fact]:
    """The facts of the valid rows, in their order."""
    return [f for f in map(fact_of_row, rows) if f is not None]


def _cause(kind: EventKind, status: MachineStatus | None, mode: object, reason: str | None) -> str | None:
    if kind is EventKind.FAULT or (status is MachineStatus.FAILED and mode):
        return f"failure:{mode or 'unknown'}"
    if kind is EventKind.MAINTENANCE:
        return f"maintenance:{reason or 'unspecified'}"
    if status is MachineStatus.STOPPED:
        if reason:
            return f"stop:{reason}"
        if kind is EventKind.COMMAND:
            return "stop:command"
    return None


def cause_of(event: Event) -> str | None:
    """What an event says about why its machine is in its status, or None when it says nothing new."""
    _, kind, status, mode, reason, _ = fact_of(event)
    return _cause(kind, status, mode, reason)


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
    return marks_of_facts((fact_of(e) for e in events if e.kind in STATUS_KINDS and e.status is not None), before)


def marks_of_facts(
    facts: Iterable[Fact], before: MachineStatus | None = None, cause_before: str | None = None
) -> list[Mark]:
    """``status_marks`` of facts (oldest first; those of other kinds or without a status are ignored).
    ``cause_before``: the cause of the stretch in progress, when resuming a scan (a range starts with none)."""
    marks: list[Mark] = []
    status, cause = before, cause_before
    for ts, kind, new_status, mode, reason, planned_flag in facts:
        if kind not in STATUS_KINDS or new_status is None:
            continue
        new_cause = _cause(kind, new_status, mode, reason)
        if new_status == status and (new_cause is None or new_cause == cause):
            continue
        if new_cause is None:
            new_cause = DEFAULT_CAUSE[new_status]
        planned = new_status is not MachineStatus.RUNNING and planned_flag
        failure = new_status is MachineStatus.FAILED and status is not MachineStatus.FAILED
        marks.append(Mark(ts, new_status, new_cause, planned, failure))
        status, cause = new_status, new_cause
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


def count_of_row(row: CountRow) -> Count:
    """The report of a store's count row, as ``counts`` makes it of the same event."""
    ts, total_value, bad_value, ideal = row
    total = _int(total_value) or 0  # the store returns only rows with a non-negative number
    bad = min(_int(bad_value) or 0, total)
    return Count(ts, total, bad, float(ideal) if ideal is not None and ideal > 0 else None)


def initial_mark(history: Sequence[Event]) -> Mark | None:
    """The status a machine was in at the start of a range, from its events before the range (newest first), as a
    mark at the time of the newest status-carrying one; None when none of them carries a status."""
    return initial_of_facts([fact_of(e) for e in history])


def initial_of_facts(history: Sequence[Fact]) -> Mark | None:
    """``initial_mark`` of facts (newest first)."""
    for i, (ts, kind, status, mode, reason, planned_flag) in enumerate(history):
        if kind in STATUS_KINDS and status is not None:
            # The stretch's cause (and whether it is planned) is told by the newest event naming one for this
            # status: a repeat of the status keeps the stretch.
            named_cause, named_planned = _cause(kind, status, mode, reason), planned_flag
            for _, o_kind, o_status, o_mode, o_reason, o_planned in history[i:]:
                if o_kind not in STATUS_KINDS or o_status is None:
                    continue
                if o_status != status:
                    break
                if (found := _cause(o_kind, o_status, o_mode, o_reason)) is not None:
                    named_cause, named_planned = found, o_planned
                    break
            cause = named_cause or DEFAULT_CAUSE[status]
            planned = status is not MachineStatus.RUNNING and named_planned
            return Mark(ts, status, cause, planned)
    return None
