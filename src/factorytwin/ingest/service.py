"""The ingest service: the single entry point of every producer (REST, MQTT, ...) into the store and the twin.

``IngestService.ingest(batch)`` validates a whole batch against the registered machines and the sensor catalogue,
collecting every problem with its path, turns it into columns, and queues it for the ONE writer task. The
caller's await returns once the batch is committed (durable) and the listeners have seen it. Past the queue's
cap the service refuses with ``Overloaded`` (HTTP 503) instead of buffering without bound.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from factorytwin.config import Settings
from factorytwin.domain import Event, Machine, SpecsOf, TelemetryBatch
from factorytwin.errors import FieldProblem, InvalidInput, Overloaded
from factorytwin.ingest.fastpath import BatchDecoder
from factorytwin.profiles.registry import ProfileRegistry
from factorytwin.store.base import ReadingColumns, Store

log = logging.getLogger(__name__)

Listener = Callable[[TelemetryBatch, int], Awaitable[None]]
"""Called after each committed batch with the batch and how many of its readings were new."""

MAX_GROUP_BATCHES = 16  # queued batches committed together (group commit)
MAX_GROUP_VALUES = 200_000  # ... up to about this many sensor values
MAX_PROBLEMS = 100  # a batch of 100,000 bad values is told about the first 100, and how many more


class IngestResult(BaseModel):
    """What happened to one accepted batch."""

    readings: int
    new_readings: int
    events: int


@dataclass
class IngestCounters:
    """Running totals since start, for /health."""

    accepted_batches: int = 0
    rejected_batches: int = 0
    overloaded_batches: int = 0
    accepted_readings: int = 0
    new_readings: int = 0
    rejected_readings: int = 0
    accepted_events: int = 0
    listener_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)


_Job = tuple[ReadingColumns, list[Event], TelemetryBatch, "asyncio.Future[int]"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class IngestService:
    """Validates batches and feeds them, in order, through one bounded queue to the store."""

    def __init__(
        self, settings: Settings, store: Store, machines: Iterable[Machine] = (), specs_of: SpecsOf | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.counters = IngestCounters()
        self._decoder = BatchDecoder({})
        """The fast path, and the one table of accepted machines and their sensor ranges (``_decoder.ranges``)."""
        self._listeners: list[Listener] = []
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=settings.ingest_queue_batches)
        self._writer: asyncio.Task[None] | None = None
        self.specs_of: SpecsOf = specs_of if specs_of is not None else ProfileRegistry.bundled().sensors
        self.set_machines(machines)

    def set_machines(self, machines: Iterable[Machine]) -> None:
        """Accept readings of these machines only (their profile's sensors and physical ranges) from now on."""
        self._decoder = BatchDecoder({m.id: self._limits(m) for m in machines})

    def put_machine(self, machine: Machine) -> None:
        """Accept readings of this machine (new, or with another profile) from now on."""
        self._decoder.put(machine.id, self._limits(machine))

    def remove_machine(self, machine_id: str) -> None:
        """Refuse readings of this machine from now on (it was deleted)."""
        self._decoder.remove(machine_id)

    def _limits(self, machine: Machine) -> dict[str, tuple[float, float]]:
        return {key: (spec.low, spec.high) for key, spec in self.specs_of(machine).items()}

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(batch, new_readings)`` after every committed batch; its failures are logged only."""
        self._listeners.append(listener)

    @property
    def queue_depth(self) -> int:
        """Batches waiting for the writer."""
        return self._queue.qsize()

    async def start(self) -> None:
        """Start the writer task."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="ft-ingest-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop the writer task."""
        if self._writer is not None:
            await self._queue.put(None)
            await self._writer
            self._writer = None

    async def ingest(
        self, batch: TelemetryBatch, validated: tuple[ReadingColumns, list[Event]] | None = None
    ) -> IngestResult:
        """Validate and store ``batch`` all-or-nothing; return once it is committed.

        ``validated`` is what ``validate`` returned for exactly this batch (MQTT validates every message on its own
        first, to isolate poison, and hands the merged columns here instead of having them validated twice).
        Raises ``InvalidInput`` naming every bad item, or ``Overloaded`` when the writer's queue is full.
        """
        if validated is not None:
            columns, events = validated
        else:
            try:
                columns, events = self.validate(batch)
            except InvalidInput:
                self.counters.rejected_batches += 1
                self.counters.rejected_readings += sum(len(r.values) for r in batch.readings)
                raise
        if self._writer is None:
            raise RuntimeError("ingest service is not started")
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((columns, events, batch, done))
        except asyncio.QueueFull:
            self.counters.overloaded_batches += 1
            raise Overloaded(f"the store writer has {self._queue.maxsize} batches waiting; retry shortly") from None
        new = await done
        return IngestResult(readings=len(columns), new_readings=new, events=len(events))

    def decode_batch(self, body: bytes) -> tuple[TelemetryBatch, tuple[ReadingColumns, list[Event]]] | None:
        """A good batch body (JSON bytes) as its batch and validated columns, for ``ingest(batch, validated)``.

        The fast path of HTTP ingest (``ingest.fastpath``): None for any body that is not plainly good, which the
        caller then parses and validates the full way (the same bodies are accepted; the others get their 422).
        """
        horizon_ms = _now_ms() + int(self.settings.max_future_skew_s * 1000)
        oldest_ms = (self.settings.min_timestamp - _EPOCH) // _MS
        decoded = self._decoder.decode(body, self.settings.max_batch_readings, oldest_ms, horizon_ms)
        if decoded is None:
            return None
        batch, columns = decoded
        return batch, (columns, batch.events)

    def validate(self, batch: TelemetryBatch) -> tuple[ReadingColumns, list[Event]]:
        """Check ``batch`` against machines and catalogue; return it as columns, or raise naming every problem."""
        total = sum(len(r.values) for r in batch.readings)
        if total > self.settings.max_batch_readings:
            raise InvalidInput(
                [
                    FieldProblem(
                        ("readings",),
                        f"the batch carries {total} sensor values, more than the limit of "
                        f"{self.settings.max_batch_readings}; split it",
                        total,
                    )
                ]
            )
        horizon_ms = _now_ms() + int(self.settings.max_future_skew_s * 1000)
        oldest_ms = (self.settings.min_timestamp - _EPOCH) // _MS
        problems: list[FieldProblem] = []
        cols = ReadingColumns()
        machine_ids, sensors, ts_col, values = cols.machine_ids, cols.sensors, cols.ts_ms, cols.values
        ranges = self._decoder.ranges
        for i, rs in enumerate(batch.readings):
            specs = ranges.get(rs.machine_id)
            if specs is None:
                problems.append(_unknown_machine(("readings", i, "machine_id"), rs.machine_id))
                continue
            ts = (rs.ts - _EPOCH) // _MS
            if not oldest_ms <= ts <= horizon_ms:
                problems.append(self._out_of_time(("readings", i, "ts"), rs.ts, ts > horizon_ms))
            vals = rs.values
            for key, value in vals.items():
                bounds = specs.get(key)
                # One chained comparison per value; NaN fails it too, and is then told apart below.
                if bounds is None or not (bounds[0] <= value <= bounds[1]):
                    problems.append(_bad_value(("readings", i, "values", key), rs.machine_id, key, value, bounds))
            n = len(vals)
            machine_ids += [rs.machine_id] * n
            sensors += vals.keys()
            ts_col += [ts] * n
            values += vals.values()
        for i, ev in enumerate(batch.events):
            if ev.machine_id not in ranges:
                problems.append(_unknown_machine(("events", i, "machine_id"), ev.machine_id))
            elif not oldest_ms <= (ts := (ev.ts - _EPOCH) // _MS) <= horizon_ms:
                problems.append(self._out_of_time(("events", i, "ts"), ev.ts, ts > horizon_ms))
        if problems:
            raise InvalidInput(_capped(problems))
        return cols, batch.events

    def _out_of_time(self, loc: tuple[str | int, ...], ts: datetime, future: bool) -> FieldProblem:
        # Both bounds matter to the read paths too: a time before year 1 in UTC (0001-01-01T00:00:00+14:00) is
        # a valid input datetime but cannot be turned back into one once stored.
        if future:
            skew = self.settings.max_future_skew_s
            msg = f"timestamp is more than {skew:g} s in the future (check the sender's clock)"
        else:
            oldest = self.settings.min_timestamp.isoformat()
            msg = f"timestamp is before {oldest}, the oldest accepted (FT_MIN_TIMESTAMP)"
        return FieldProblem(loc, msg, ts.isoformat())

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            job = await self._queue.get()
            if job is None:
                break
            # Group commit: whatever else is already waiting goes into the same transaction (one fsync), each
            # batch still all-or-nothing on its own. Under light load a group is one batch: no added latency.
            jobs = [job]
            values = len(job[0])
            while not self._queue.empty() and len(jobs) < MAX_GROUP_BATCHES and values < MAX_GROUP_VALUES:
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                jobs.append(more)
                values += len(more[0])
            try:
                results = await self.store.write_batches([(cols, events) for cols, events, _, _ in jobs])
            except Exception as exc:  # the whole group failed (e.g. the database went away)
                results = [exc] * len(jobs)
            for i, ((columns, events, batch, done), result) in enumerate(zip(jobs, results, strict=True)):
                if i:
                    # The listeners (the twin) work on the loop without awaiting: a group of 16 gateway batches of
                    # 500 reading sets was ~0.5 s of the loop in one go, during which no WebSocket frame went out
                    # and no request was read. Let the rest run between batches (the order stays the writer's).
                    await asyncio.sleep(0)
                await self._settle(columns, events, batch, done, result)

    async def _settle(
        self,
        columns: ReadingColumns,
        events: list[Event],
        batch: TelemetryBatch,
        done: asyncio.Future[int],
        result: int | Exception,
    ) -> None:
        if isinstance(result, Exception):  # the caller gets the error; the writer carries on
            self.counters.rejected_batches += 1
            if not done.done():
                done.set_exception(result)
            return
        c = self.counters
        c.accepted_batches += 1
        c.accepted_readings += len(columns)
        c.new_readings += result
        c.accepted_events += len(events)
        await self._notify(batch, result)
        if not done.done():  # the caller may have gone away (cancelled); the batch is stored all the same
            done.set_result(result)

    async def _notify(self, batch: TelemetryBatch, new: int) -> None:
        # In the writer, in commit order, before the caller resumes: a listener sees every batch exactly once,
        # and a 2xx means the twin has seen the batch too. Listeners must be quick (hand heavy work off).
        for listener in self._listeners:
            try:
                await listener(batch, new)
            except Exception:
                self.counters.listener_errors += 1
                log.exception("ingest listener %r failed; the batch is stored all the same", listener)


def _now_ms() -> int:
    return (datetime.now(UTC) - _EPOCH) // _MS


def _unknown_machine(loc: tuple[str | int, ...], machine_id: str) -> FieldProblem:
    return FieldProblem(loc, f"unknown machine {machine_id!r}: it is not in the factory layout", machine_id)


def _bad_value(
    loc: tuple[str | int, ...], machine_id: str, key: str, value: float, bounds: tuple[float, float] | None
) -> FieldProblem:
    if bounds is None:
        return FieldProblem(loc, f"machine {machine_id!r} has no sensor {key!r} (see GET /api/v1/catalogue)", key)
    if not math.isfinite(value):
        return FieldProblem(loc, "value must be a finite number", str(value))
    return FieldProblem(
        loc, f"value {value:g} is outside the physical range [{bounds[0]:g}, {bounds[1]:g}] of {key!r}", value
    )


def _capped(problems: Sequence[FieldProblem]) -> list[FieldProblem]:
    if len(problems) <= MAX_PROBLEMS:
        return list(problems)
    more = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], FieldProblem((), f"... and {more} more problems of the same batch")]
