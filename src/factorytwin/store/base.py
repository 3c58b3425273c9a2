"""The ``Store`` protocol that every storage backend implements, and the types that cross it.

SQL stays inside the backends. Both backends pass the one shared test suite (``tests/integration/store``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, Machine, Text

MAX_HISTORY_POINTS = 5000
MAX_LIST_LIMIT = 1000
"""Most events or alarms one list read returns; read on with the ``before``/``before_id`` cursor of the last one.
With events capped at 2,000 characters of message and 8 KiB of data, a full page of the largest events is 10.3 MB
(measured; up to about twice that if every character of the messages needs a JSON escape)."""
MAX_ID = 2**63 - 1


@dataclass(slots=True)
class ReadingColumns:
    """A validated batch of readings in columnar form: parallel lists, one entry per sensor value.

    Columns, not one object per reading, so the hot path hands plain lists to ``executemany`` / ``COPY``.
    ``ts_ms`` is milliseconds since the Unix epoch, UTC.
    """

    machine_ids: list[str] = field(default_factory=list)
    sensors: list[str] = field(default_factory=list)
    ts_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)


StatusRow = tuple[int, str, str | None, object, str | None, bool]
"""A status-carrying event as the KPIs read it: ``(ts_ms, kind, status, data.mode, data.reason, data.planned)``.

``mode`` is the JSON value of ``data.mode`` as ``json.loads`` makes it (None when absent); ``reason`` is
``data.reason`` when it is a string, else None; ``planned`` is whether ``data.planned`` is JSON ``true``."""

CountRow = tuple[int, float, float | None, float | None]
"""A production report as the KPIs read it: ``(ts_ms, data.parts_total, data.parts_bad, data.ideal_cycle_s)``.

``parts_total`` is a non-negative JSON number (reports without one are not returned); ``parts_bad`` and
``ideal_cycle_s`` are their JSON numbers, or None when absent or not a number. Numbers come as the backend's
numeric value (an int or a float: exact up to 2**53)."""


@dataclass(frozen=True, slots=True)
class EventCursor:
    """Where a reader of ``Store.events_after`` is. SQLite (one writer, ids commit in order): ``mark`` is the newest
    event id seen. PostgreSQL (concurrent writers: a lower id may commit after a higher one): ``mark`` is the
    oldest transaction still running when it looked (its snapshot's ``xmin``) and ``seen`` the ids of the events
    it read from transactions at or above it, which the next look reads again and skips."""

    mark: int
    seen: frozenset[int] = frozenset()


@dataclass(slots=True)
class KpiRows:
    """What the KPIs read of one machine's events and alarms over ``[start, end)``: plain tuples, no models."""

    status: list[StatusRow] = field(default_factory=list)
    """Events of the status kinds with a status and ``start <= ts < end``, oldest first (by ts, then id)."""
    before: list[StatusRow] = field(default_factory=list)
    """The newest ``lookback`` events of the status kinds (with or without a status) before ``start``, newest
    first: the machine's status at the start."""
    counts: list[CountRow] = field(default_factory=list)
    """Production reports with ``start < ts <= end`` (a report at the end closes the range's last interval),
    oldest first."""
    alarms: list[int] = field(default_factory=list)
    """Raise times (ms) of the machine's alarms raised in ``[start, end)``, oldest first."""


KPI_STATUS_KINDS = ("command", "fault", "maintenance", "status")
"""The event kinds that carry a machine's status (``kpi.timeline.STATUS_KINDS``)."""

Batch = tuple[ReadingColumns, Sequence[Event]]
"""A batch for ``Store.write_batches``: its reading columns and its events."""


class LatestValue(BaseModel):
    """The newest stored value of one sensor."""

    value: float
    ts: datetime


class Bucketing(StrEnum):
    """How a history range is cut into buckets."""

    ALIGNED = "aligned"
    """At most ``points`` buckets of a nice width (1, 2, 5, 10, 15, 30 s or min, 1, 2, 3, 6, 12 h, 1, 2, 3 d, a week
    from Monday, ...) aligned on the epoch: the same boundaries whatever the range's start (``rollup.Buckets``)."""
    EXACT = "exact"
    """``points`` equal buckets from ``start`` to ``end``."""


class HistoryQuery(BaseModel):
    """Bucketed history of one sensor between ``start`` and ``end``: ``points`` equal buckets (exact) or at most
    ``points`` aligned buckets of a nice width (aligned)."""

    machine_id: str
    sensor: str
    start: AwareDatetime
    end: AwareDatetime
    points: int = Field(default=500, ge=1, le=MAX_HISTORY_POINTS)
    bucketing: Bucketing = Bucketing.EXACT

    @model_validator(mode="after")
    def _ordered(self) -> HistoryQuery:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self


class HistoryBucket(BaseModel):
    """Aggregate of the readings in one time bucket ``[ts, ts + bucket width)`` that lie in the query's range (the
    first and last aligned buckets may start before it or end after it); empty buckets are omitted."""

    ts: datetime
    min: float
    max: float
    avg: float
    count: int


class _Page(BaseModel):
    """A page of a newest-first list: at most ``limit`` items, older than the cursor ``(before, before_id)``.

    The next page of a full one starts before its last item: ``before`` = that item's time (an event's ``ts``, an
    alarm's ``raised_at``) and ``before_id`` = its id. ``before`` alone means strictly older than that time.
    """

    before: AwareDatetime | None = None
    before_id: int | None = Field(default=None, ge=0, le=MAX_ID)

    @model_validator(mode="after")
    def _cursor_needs_a_time(self) -> _Page:
        if self.before_id is not None and self.before is None:
            raise ValueError("before_id needs before (the time of the item with that id)")
        return self


class EventQuery(_Page):
    """Filter for the event log, newest first (by ``ts``, then id)."""

    machine_id: Text | None = None
    kinds: list[EventKind] | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LIST_LIMIT)


class AlarmQuery(_Page):
    """Filter for alarms, newest first (by ``raised_at``, then id)."""

    machine_id: Text | None = None
    states: list[AlarmState] | None = None
    severities: list[AlarmSeverity] | None = None
    limit: int = Field(default=200, ge=1, le=MAX_LIST_LIMIT)


class Store(Protocol):
    """Persistence of machines, readings, events and alarms. Every method is safe to call from the event loop.

    Errors: ``InvalidInput`` (unknown machine or sensor), ``NotFound``, and the backend's own errors translated
    into ``StoreRejected`` (the content cannot be stored: retrying is useless) or ``StoreUnavailable`` (connection
    lost, disk full, locked, timed out: retry later). Text a backend cannot hold never reaches SQL: writes refuse
    it with ``StoreRejected``, reads filtering on it find nothing. A stored row that no longer makes a valid model
    is skipped (and logged) rather than failing the read.
    """

    backend: str
    """Short name of the backend ("sqlite", "postgresql"), for /health."""

    async def open(self) -> None:
        """Connect and bring the schema up to date (migrations are versioned and idempotent)."""

    async def close(self) -> None:
        """Release connections; pending writes are committed first."""

    async def register_machines(self, machines: Sequence[Machine]) -> None:
        """Insert or update machines (metadata) by id."""

    async def retire_machine(self, machine_id: str) -> bool:
        """Take a machine off the plant (``machines`` leaves it out) keeping its history; False when there is no
        such machine on the plant. ``register_machines`` brings it back."""

    async def register_sensors(self, keys: Sequence[str]) -> None:
        """Add sensor keys to the store's dictionary (readings of unknown keys are refused)."""

    async def reload_codes(self) -> None:
        """Read the machine and sensor dictionaries again: another process sharing the database registered some."""

    async def machines(self) -> list[Machine]:
        """Every machine on the plant (registered, not retired), in id order."""

    async def write_batch(self, readings: ReadingColumns, events: Sequence[Event] = ()) -> int:
        """Store readings and events in one transaction; return how many readings were new.

        Idempotent on (machine, sensor, ts) and on each event's natural key: a resent batch stores nothing twice.
        All-or-nothing: on error nothing of the batch is stored. Durable when it returns.
        """

    async def write_batches(self, batches: Sequence[Batch]) -> list[int | Exception]:
        """Store several batches in one transaction (one durable commit), each all-or-nothing on its own.

        Returns, per batch, how many of its readings were new, or the exception that kept it out (the other
        batches are stored all the same). The ingest writer groups queued batches this way (group commit).
        """

    async def latest(self, machine_id: str) -> dict[str, LatestValue]:
        """The newest value of each sensor of a machine."""

    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        """Min/max/avg/count per time bucket, oldest first."""

    async def read_range(
        self, machine_id: str, start: datetime, end: datetime, sensors: Sequence[str] | None = None
    ) -> ReadingColumns:
        """Raw readings of a machine in ``[start, end)``, ordered by time (for model training and export)."""

    async def reading_span(self, machine_id: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """The first and the last reading time of a machine in ``[start, end)`` (None: it has none there); a few
        index seeks per sensor, whatever the range, so a bulk reader can skip where there is nothing."""

    async def write_events(self, events: Sequence[Event]) -> list[Event]:
        """Append events; return them with their ids. An event stored before (same machine, ts, kind, status,
        message and data: its natural key) is not stored again and comes back with the id it has."""

    async def events(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, newest first."""

    async def kpi_rows(
        self, machine_ids: Sequence[str], start: datetime, end: datetime, lookback: int
    ) -> dict[str, KpiRows]:
        """What the KPIs of ``machine_ids`` over ``[start, end)`` read (see ``KpiRows``), per machine (every id is a
        key), in one consistent snapshot. The JSON fields are picked by SQL: no ``Event`` or ``Alarm`` is built."""

    async def events_after(self, cursor: EventCursor | None) -> tuple[EventCursor, dict[str, int]]:
        """What was written since a reader last looked: a new cursor and, per machine, the earliest ``ts`` (ms) of
        the events committed since ``cursor`` was handed out (none asked with None). No committed event is ever
        stepped over, whatever order concurrent writers commit in; one may be reported twice. Cheap while little
        was written (an index range read)."""

    async def alarm_times(self, machine_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, list[int]]:
        """Per machine (every id is a key): the raise times (ms) of its alarms raised in ``[start, end)``, oldest
        first (``KpiRows.alarms`` without the events)."""

    async def save_alarm(self, alarm: Alarm) -> Alarm:
        """Insert (id None) or update an alarm; return it with its id."""

    async def alarms(self, query: AlarmQuery) -> list[Alarm]:
        """Alarms matching ``query``, newest first."""

    async def alarm(self, alarm_id: int) -> Alarm | None:
        """The alarm with this id, or None (also for ids no backend could hold)."""

    async def stats(self) -> StoreStats:
        """Counts of machines, readings and events, cheap enough for every /health call."""

    async def refresh_rollups(self, before_minute: int | None = None) -> int:
        """Bring the one-minute rollups up to date for minutes before ``before_minute`` (minutes since the epoch;
        default: every closed minute); return how many (machine, sensor, minute) were recomputed. The store also
        does this in the background; history is exact either way."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Sizes of the store, for /health."""

    machines: int
    readings: int
    events: int


async def all_events(store: Store, query: EventQuery) -> list[Event]:
    """Every event matching ``query`` (newest first), read page by page of ``query.limit`` with the cursor; for
    bulk readers such as model training, which bound the amount by the time range of the query."""
    out: list[Event] = []
    while True:
        page = await store.events(query)
        out += page
        if len(page) < query.limit or page[-1].id is None:
            return out
        query = query.model_copy(update={"before": page[-1].ts, "before_id": page[-1].id})
