"""The connector runtime every protocol shares: connection supervision with back-off, status, and the way in.

A ``Connector`` runs two tasks of its own, so that no connector ever holds up another (or the event loop):

* the **supervisor** runs the protocol's ``session()`` (connect, subscribe or poll, until the link fails); when it
  ends, the state becomes ``reconnecting``, ``last_error`` says why, and the next attempt waits the back-off
  (``initial_s`` doubling up to ``max_s``, reset once connected). Clock and sleep are injectable for tests.
* the **forwarder** takes the values the session ``emit``\\ s (a bounded queue: past it values are dropped and
  counted, never buffered without bound) and hands them, grouped into ``TelemetryBatch``\\ es, to
  ``IngestService.ingest`` -- the one way into the store and the twin. Nothing is written around it.

What goes wrong with values is counted, never stored half-way:

* a source value that cannot be mapped (no mapping for the node/topic, undecodable registers, a JSON pointer that
  finds nothing) is ``unmapped``: counted and logged with its node id, register or topic;
* a mapped value that ingest refuses (unknown machine, a sensor the machine does not have, out of range) is
  ``rejected``: the batch is split so that only the refused values are left out, and each is logged;
* while the store is unavailable, the batch is retried with back-off (values behind it wait in the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from factorytwin.connectors.models import ConnectorConfig
from factorytwin.domain import ReadingSet, TelemetryBatch
from factorytwin.errors import FactoryTwinError, InvalidInput, Overloaded, StoreRejected
from factorytwin.ingest import IngestService
from factorytwin.ingest.mqtt import RateLimitedLog
from factorytwin.mqtt import Backoff

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

QUEUE_VALUES = 10_000  # values waiting for ingest per connector; past it new values are dropped (and counted)
OVERLOAD_RETRY_S = 0.05
STORE_RETRY_START_S = 0.2
STORE_RETRY_MAX_S = 5.0
STOP_DRAIN_S = 5.0
MAX_ERROR_CHARS = 300


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class ConnectorError(FactoryTwinError):
    """A connector cannot do what was asked: it is not connected, has no such command, or the device refused."""


class ConnectionLost(ConnectorError):
    """The link to the device ended; the supervisor reconnects."""


class ConnectorState(StrEnum):
    """Where a connector is: ``connecting`` (first attempt), ``connected``, ``reconnecting`` (after a loss or a
    failed attempt, waiting its back-off or trying again), ``stopped``."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


class ConnectorStatus(BaseModel):
    """A connector's health, for /health and the API."""

    id: str
    kind: str
    state: ConnectorState
    last_error: str | None = Field(description="why the last connection attempt, session or delivery failed")
    last_error_at: datetime | None
    connected_since: datetime | None
    last_value_at: datetime | None = Field(description="when a value of this connector was last stored")
    values_total: int = Field(description="values stored through ingest")
    unmapped_total: int = Field(description="source values that could not be mapped (counted, not stored)")
    rejected_total: int = Field(description="mapped values that ingest refused (unknown machine/sensor, range)")
    dropped_total: int = Field(description="values dropped: the queue to ingest was full, or the connector stopped")
    reconnects: int = Field(description="connection losses and failed connection attempts")
    queued: int = Field(description="values waiting for ingest")


@dataclass(frozen=True, slots=True)
class MappedValue:
    """A source value mapped to a machine's sensor, in the catalogue's unit; ``source`` names where it came from
    (node id, register, topic) for the log."""

    machine_id: str
    sensor: str
    value: float
    ts: datetime
    source: str


def describe(exc: BaseException) -> str:
    """``exc`` in one line, short enough for a status field."""
    text = str(exc).strip().replace("\n", " ")
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name)[:MAX_ERROR_CHARS]


def to_batch(values: Sequence[MappedValue]) -> TelemetryBatch:
    """``values`` as one batch: a reading set per (machine, instant). Ingest validates it (machines, sensors,
    ranges, time): the models are only constructed here, so a bad value is refused there with its path."""
    groups: dict[tuple[str, datetime], dict[str, float]] = {}
    for v in values:
        groups.setdefault((v.machine_id, v.ts), {})[v.sensor] = float(v.value)
    readings = [ReadingSet.model_construct(machine_id=m, ts=ts, values=vals) for (m, ts), vals in groups.items()]
    return TelemetryBatch.model_construct(readings=readings, events=[])


C = TypeVar("C", bound=ConnectorConfig)


class Connector(ABC, Generic[C]):
    """One protocol client feeding ``IngestService``; subclasses implement ``session()``.

    ``session()`` connects, calls ``self.connected()`` once the link is up, then runs until the link fails (it
    raises, or returns, and cleans up after itself). While it runs it calls ``self.emit(values)`` with mapped
    values and ``self.unmapped(source, why)`` for values it cannot map.
    """

    def __init__(
        self,
        config: C,
        ingest: IngestService,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        queue_values: int = QUEUE_VALUES,
    ) -> None:
        self.config = config
        self.ingest = ingest
        self.clock = clock
        self.sleep = sleep
        self.backoff = Backoff(config.backoff.initial_s, config.backoff.max_s)
        self.log = RateLimitedLog(log, clock=lambda: self.clock().timestamp())
        self._state = ConnectorState.STOPPED
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._connected_since: datetime | None = None
        self._last_value_at: datetime | None = None
        self.values_total = 0
        self.unmapped_total = 0
        self.rejected_total = 0
        self.dropped_total = 0
        self.reconnects = 0
        self._queue: asyncio.Queue[MappedValue | None] = asyncio.Queue(maxsize=queue_values)
        self._supervisor: asyncio.Task[None] | None = None
        self._forwarder: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_hand = 0  # values the forwarder has taken from the queue and not yet settled
        self._state_changed = asyncio.Event()

    @property
    def id(self) -> str:
        """The connector's id (from its configuration)."""
        return self.config.id

    @property
    def state(self) -> ConnectorState:
        """The current state."""
        return self._state

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._supervisor is not None

    def status(self) -> ConnectorStatus:
        """A snapshot of the connector's state and counters."""
        return ConnectorStatus(
            id=self.id,
            kind=self.config.kind,
            state=self._state,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            connected_since=self._connected_since,
            last_value_at=self._last_value_at,
            values_total=self.values_total,
            unmapped_total=self.unmapped_total,
            rejected_total=self.rejected_total,
            dropped_total=self.dropped_total,
            reconnects=self.reconnects,
            queued=self._queue.qsize(),
        )

    async def wait_for(self, state: ConnectorState) -> None:
        """Return once the connector is in ``state`` (for tests and start-up; wrap it in a timeout)."""
        while self._state is not state:
            self._state_changed.clear()
            await self._state_changed.wait()

    async def start(self) -> None:
        """Start connecting (in the background: this returns at once; see ``status()``)."""
        if self._supervisor is not None:
            return
        self._stopping = False
        self.backoff.reset()
        self._set_state(ConnectorState.CONNECTING)
        self._forwarder = asyncio.create_task(self._forward(), name=f"ft-connector-{self.id}-forward")
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ft-connector-{self.id}")

    async def stop(self, drain_s: float = STOP_DRAIN_S) -> None:
        """Disconnect, hand what is queued to ingest (waiting up to ``drain_s``), and stop."""
        if self._supervisor is None:
            return
        self._stopping = True
        self._supervisor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._supervisor
        self._supervisor = None
        forwarder, self._forwarder = self._forwarder, None
        if forwarder is not None:
            await self._queue.put(None)
            try:
                await asyncio.wait_for(asyncio.shield(forwarder), timeout=drain_s)
            except TimeoutError:
                forwarder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await forwarder
                self.dropped_total += self._in_hand
                self._in_hand = 0
        while not self._queue.empty():  # what the forwarder could not hand on in time
            if self._queue.get_nowait() is not None:
                self.dropped_total += 1
        self._connected_since = None
        self._set_state(ConnectorState.STOPPED)

    @abstractmethod
    async def session(self) -> None:
        """Connect, call ``connected()``, and run until the link fails (raise, or return); clean up on the way out."""

    def connected(self) -> None:
        """Called by ``session()`` once the link is up (and subscribed): the back-off starts again from its start."""
        self._connected_since = self.clock()
        self.backoff.reset()
        self._set_state(ConnectorState.CONNECTED)
        log.info("connector %s (%s) connected", self.id, self.config.kind)

    def emit(self, values: Iterable[MappedValue]) -> None:
        """Queue mapped values for ingest; never blocks. Past the queue's cap a value is dropped and counted."""
        for value in values:
            try:
                self._queue.put_nowait(value)
            except asyncio.QueueFull:
                self.dropped_total += 1
                self.log.warning(
                    f"{self.id}:queue-full",
                    "connector %s: %d values are waiting for ingest; dropped %s/%s from %s",
                    self.id,
                    self._queue.maxsize,
                    value.machine_id,
                    value.sensor,
                    value.source,
                )

    def unmapped(self, source: str, why: str, count: int = 1) -> None:
        """Count ``count`` source values from ``source`` (node id, register, topic) that could not be mapped."""
        self.unmapped_total += count
        self.log.warning(
            f"{self.id}:unmapped:{source}", "connector %s: unmapped value from %s: %s", self.id, source, why
        )

    def _set_state(self, state: ConnectorState) -> None:
        self._state = state
        self._state_changed.set()

    def note_error(self, why: str) -> None:
        """Record ``why`` as the last error (with the time), as status() shows it."""
        self._last_error = why[:MAX_ERROR_CHARS]
        self._last_error_at = self.clock()

    async def _supervise(self) -> None:
        while True:
            try:
                await self.session()
                why = "the connection was closed"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever ends a session (a lost link, a refused login, a bug) is told once
                why = describe(exc)
            self.reconnects += 1
            self._connected_since = None
            self.note_error(why)
            self._set_state(ConnectorState.RECONNECTING)
            delay = self.backoff.next()
            self.log.warning(
                f"{self.id}:session", "connector %s: %s; reconnecting in %.1f s", self.id, self._last_error, delay
            )
            await self.sleep(delay)

    async def _forward(self) -> None:
        limit = self.ingest.settings.max_batch_readings
        while True:
            first = await self._queue.get()
            if first is None:
                return
            values = [first]
            end = False
            while not self._queue.empty() and len(values) < limit:
                more = self._queue.get_nowait()
                if more is None:
                    end = True
                    break
                values.append(more)
            self._in_hand = len(values)
            await self._deliver(values)
            if end:
                return

    async def _deliver(self, values: list[MappedValue]) -> None:
        """Store ``values`` through ingest: refused values left out (halving to find them), outages retried."""
        retry = Backoff(STORE_RETRY_START_S, STORE_RETRY_MAX_S)
        while True:
            try:
                await self.ingest.ingest(to_batch(values))
            except (InvalidInput, StoreRejected) as exc:
                if len(values) > 1:
                    half = len(values) // 2
                    await self._deliver(values[:half])
                    await self._deliver(values[half:])
                    return
                self._rejected(values[0], exc)
                return
            except Overloaded:
                await self.sleep(OVERLOAD_RETRY_S)
                continue
            except Exception as exc:  # the store is unavailable (or ingest is not running): retry, later
                if self._stopping:
                    self.dropped_total += len(values)
                    self._in_hand -= len(values)
                    return
                self.note_error(f"store: {describe(exc)}")
                delay = retry.next()
                self.log.warning(
                    f"{self.id}:store", "connector %s: could not store (%s); retrying in %.1f s", self.id, exc, delay
                )
                await self.sleep(delay)
                continue
            self.values_total += len(values)
            self._in_hand -= len(values)
            self._last_value_at = self.clock()
            return

    def _rejected(self, value: MappedValue, exc: Exception) -> None:
        self.rejected_total += 1
        self._in_hand -= 1
        why = f"ingest refused {value.machine_id}/{value.sensor}={value.value:g} from {value.source}: {exc}"
        self.note_error(why)
        self.log.warning(f"{self.id}:rejected:{value.source}", "connector %s: %s", self.id, why)


__all__ = [
    "ConnectionLost",
    "Connector",
    "ConnectorError",
    "ConnectorState",
    "ConnectorStatus",
    "MappedValue",
    "describe",
    "to_batch",
    "utc_now",
]
