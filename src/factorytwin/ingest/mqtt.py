"""MQTT ingest: a subscriber on ``ft/+/telemetry`` feeding the same ``IngestService`` path as REST.

* QoS 1, MQTT v5, a persistent session (fixed client id, clean start off): readings published while the subscriber
  is away are queued by the broker and delivered when it is back.
* A message is acknowledged only once it is settled: its readings committed, or the message rejected for its
  content. A crash before that makes the broker deliver it again; ingest is idempotent, so nothing is stored twice.
* **Poison never halts ingest.** A message that cannot be parsed or validated, or that the store refuses for its
  content (``StoreRejected``), is rejected: counted per reason (``GET /api/v1/health``, section ``mqtt``), logged
  with its topic (at most once per reason every ``LOG_EVERY_S``, never the payload), dead-lettered best-effort to
  ``<prefix>/_deadletter/<machine_id>/telemetry`` (the raw payload, cut at the size cap, with MQTT v5 user
  properties ``reason``, ``detail`` and ``topic``), and acknowledged. Only an outage (``StoreUnavailable``, or an
  error nobody expected from the store) is retried, with back-off, on the same broker connection; the messages
  behind it flow as soon as the store is back. See ``mqttparse`` for the reasons.
* **Loses nothing by default**: one instance subscribes to ``ft/+/telemetry`` itself, and its session never
  expires. ``FT_MQTT_SHARED_SUBSCRIPTION=true`` makes several instances split the load
  (``$share/factorytwin/ft/+/telemetry``); then each session expires ``FT_MQTT_SESSION_EXPIRY_S`` (120 s) after its
  instance is gone, so a crashed member stops receiving its share of the group, and a stopping instance unsubscribes
  and finishes what it holds before it disconnects. docs/RELIABILITY.md says what Mosquitto does in each case.
* Messages waiting on the connection are taken at once (``MqttConnection.take``, up to ``MAX_MESSAGES_PER_GROUP``)
  and ingested together: each parsed on its own, the ones that parse validated and stored as one batch (per size
  cap). A batch that fails validation is validated message by message (a bad one rejected, and counted, once; the
  others stored together); if the store refuses a batch for its content, each message goes in on its own so that
  only the culprit is rejected. Groups are pipelined: up to ``MAX_GROUPS_IN_FLIGHT`` in hand, the next one parsed
  while the ones before it wait for their commit; each group's PUBACKs go out in one write, after its commit and
  after those of the group before it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import aiomqtt

from factorytwin.config import Settings
from factorytwin.domain import Event, ReadingSet, TelemetryBatch
from factorytwin.ingest.mqttparse import (
    REJECT_REASONS,
    MalformedMessage,
    RejectReason,
    classify,
    parse_message,
    parse_telemetry,
    topic_machine,
)
from factorytwin.ingest.service import IngestService
from factorytwin.mqtt import (
    SESSION_NEVER_EXPIRES,
    Backoff,
    ClientOptions,
    MqttConnection,
    MqttEndpoint,
    MqttReconnector,
    Sleep,
    user_properties,
)
from factorytwin.mqttinbox import Inbound
from factorytwin.store.base import ReadingColumns

log = logging.getLogger(__name__)

SHARE_GROUP = "factorytwin"
TELEMETRY_QOS = 1
MAX_MESSAGES_PER_GROUP = 1000  # taken, settled (and stored) together (200 cost more CPU per message)
MAX_GROUPS_IN_FLIGHT = 4  # groups in hand at once: one or two committing, the next ones being parsed
OVERLOAD_RETRY_S = 0.05
STORE_RETRY_START_S = 0.5
STORE_RETRY_MAX_S = 10.0
LOG_EVERY_S = 10.0
DEAD_LETTER_TIMEOUT_S = 5.0
STOP_DRAIN_S = 5.0
DEFAULT_SHARED_SESSION_EXPIRY_S = 120


@dataclass
class MqttIngestCounters:
    """Running totals of the subscriber, for /health."""

    connected: bool = False
    connects: int = 0
    reconnects: int = 0
    messages: int = 0
    ingested_messages: int = 0
    batches: int = 0
    readings: int = 0
    rejected_messages: int = 0
    rejected_readings: int = 0  # sensor values in rejected messages that parsed, each counted once
    rejected: dict[str, int] = field(default_factory=dict)
    dead_lettered: int = 0
    dead_letter_failures: int = 0
    store_retries: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The counters as a plain dict."""
        return asdict(self)


class _Parsed(NamedTuple):
    """A message that parsed: its topic, raw payload (for a dead letter), content, and its columns once validated."""

    topic: str
    raw: bytes
    readings: list[ReadingSet]
    events: list[Event]
    columns: ReadingColumns | None = None  # when validated on its own


def _values(readings: list[ReadingSet]) -> int:
    return sum(len(r.values) for r in readings)


def _merged(parts: list[ReadingColumns]) -> ReadingColumns:
    """The columns of several validated messages, in order, as one batch's."""
    out = ReadingColumns()
    for part in parts:
        out.machine_ids += part.machine_ids
        out.sensors += part.sensors
        out.ts_ms += part.ts_ms
        out.values += part.values
    return out


def _merged_batch(items: list[_Parsed]) -> TelemetryBatch:
    """The batches of several parsed messages, in order, as one (each of them is already a valid batch)."""
    if len(items) == 1:
        return TelemetryBatch.model_construct(readings=items[0].readings, events=items[0].events)
    return TelemetryBatch.model_construct(
        readings=[r for item in items for r in item.readings],
        events=[e for item in items for e in item.events],
    )


def _chunks(items: list[_Parsed], max_values: int) -> list[list[_Parsed]]:
    """Consecutive runs of ``items`` of at most ``max_values`` sensor values each (a lone big one on its own)."""
    chunks: list[list[_Parsed]] = []
    size = 0
    for item in items:
        n = _values(item.readings)
        if chunks and size + n <= max_values:
            chunks[-1].append(item)
            size += n
        else:
            chunks.append([item])
            size = n
    return chunks


class RateLimitedLog:
    """A warning per key at most once every ``every_s`` (the rest counted and told with the next one)."""

    def __init__(
        self, logger: logging.Logger, every_s: float = LOG_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger, self.every_s, self.clock = logger, every_s, clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` unless ``key`` was logged less than ``every_s`` ago; True when logged."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        more = self._suppressed.pop(key, 0)
        suffix = f" ({more} more like it since the last report)" if more else ""
        self.logger.warning(message + suffix, *args)
        return True


def telemetry_topic_filter(prefix: str = "ft", shared: bool = False) -> str:
    """The subscription: ``ft/+/telemetry``, or ``$share/factorytwin/ft/+/telemetry`` when shared."""
    topic = f"{prefix}/+/telemetry"
    return f"$share/{SHARE_GROUP}/{topic}" if shared else topic


def dead_letter_topic(prefix: str, machine_id: str) -> str:
    """Where a rejected message goes: four levels, so that it never matches ``<prefix>/+/telemetry`` itself."""
    return f"{prefix}/_deadletter/{machine_id}/telemetry"


class MqttIngest:
    """The MQTT telemetry subscriber; ``start()`` it with the app, ``stop()`` it on shutdown."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        ingest: IngestService,
        client_id: str = "factorytwin-ingest",
        topic_prefix: str = "ft",
        shared: bool = False,
        *,
        session_expiry_s: int | None = None,
        max_payload_bytes: int = 1024 * 1024,
        dead_letter: bool = True,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.ingest = ingest
        self.client_id = client_id
        self.prefix = topic_prefix
        self.shared = shared
        self.topic_filter = telemetry_topic_filter(topic_prefix, shared)
        if session_expiry_s is None:
            session_expiry_s = DEFAULT_SHARED_SESSION_EXPIRY_S if shared else SESSION_NEVER_EXPIRES
        options = ClientOptions(
            client_id, persistent=True, session_expiry_s=session_expiry_s, manual_ack=True, bulk=True
        )
        self.reconnector = MqttReconnector(endpoint, options, sleep=sleep, name="MQTT ingest")
        self.max_payload_bytes = max_payload_bytes
        self.dead_letter = dead_letter
        self.sleep = sleep
        self.counters = MqttIngestCounters()
        self.log = RateLimitedLog(log, clock=clock)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._taking = False  # waiting in ``take`` for the next message
        self._inflight: collections.deque[asyncio.Task[None]] = collections.deque()  # groups being settled

    @classmethod
    def from_settings(cls, settings: Settings, ingest: IngestService) -> MqttIngest:
        """The subscriber ``settings`` describe (``mqtt_url`` must be set)."""
        if not settings.mqtt_url:
            raise ValueError("mqtt_url is not set")
        return cls(
            MqttEndpoint.from_settings(settings),
            ingest,
            settings.mqtt_client_id,
            shared=settings.mqtt_shared_subscription,
            session_expiry_s=settings.mqtt_session_expiry_s,
            max_payload_bytes=settings.mqtt_max_payload_bytes,
            dead_letter=settings.mqtt_dead_letter,
        )

    def health_section(self) -> dict[str, int | str | bool | None]:
        """The counters for /health, with the connection's own figures; ``rejected.<reason>`` for every reason."""
        c = self.counters
        c.connects, c.reconnects = self.reconnector.connects, self.reconnector.failures
        c.last_error = c.last_error or self.reconnector.last_error
        section: dict[str, int | str | bool | None] = {k: v for k, v in c.as_dict().items() if k != "rejected"}
        for reason in REJECT_REASONS:
            section[f"rejected.{reason}"] = c.rejected.get(reason, 0)
        return section

    async def start(self, wait_s: float = 5.0) -> None:
        """Start the subscriber; wait up to ``wait_s`` for the first subscription (it keeps trying after)."""
        self._task = asyncio.create_task(self.reconnector.run(self._session), name=f"ft-mqtt-ingest-{self.client_id}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=wait_s)

    async def stop(self, drain_s: float = STOP_DRAIN_S) -> None:
        """Disconnect. Shared: leave the group first and settle what is in hand, so no message waits for us.

        Not shared, the session keeps its subscription and the broker queues for our return. What is not
        acknowledged when the task ends stays with the broker for the next start.
        """
        if self._task is None:
            return
        connection = self.reconnector.connection
        if self.shared and connection is not None:
            try:
                await asyncio.wait_for(self._leave_group(connection), timeout=drain_s)
            except (TimeoutError, aiomqtt.MqttError) as exc:
                log.warning("MQTT ingest %s: could not leave the share group cleanly: %s", self.client_id, exc)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self.counters.connected = False

    async def _leave_group(self, connection: MqttConnection) -> None:
        await connection.unsubscribe(self.topic_filter)
        # Messages the broker sent before its UNSUBACK are ahead of it on the wire: settle them.
        quiet = 0
        while quiet < 3:
            await asyncio.sleep(0.05)
            idle = self._taking and not self._inflight and connection.queued() == 0
            quiet = quiet + 1 if idle else 0

    async def _session(self, connection: MqttConnection) -> None:
        try:
            await connection.subscribe(self.topic_filter, qos=TELEMETRY_QOS)
            self.counters.connected = True
            self._subscribed.set()
            log.info("MQTT ingest %s subscribed to %s", self.client_id, self.topic_filter)
            inflight: collections.deque[asyncio.Task[None]] = self._inflight
            while True:
                self._taking = True
                group = await connection.take(MAX_MESSAGES_PER_GROUP)  # all that is waiting: one group
                self._taking = False
                previous = inflight[-1] if inflight else None
                inflight.append(asyncio.create_task(self._settle(connection, group, previous)))
                # Pipelined: the next group is parsed and validated while this one waits for its commit (the
                # writer commits whatever is queued together); at most MAX_GROUPS_IN_FLIGHT groups in hand.
                while inflight and (inflight[0].done() or len(inflight) >= MAX_GROUPS_IN_FLIGHT):
                    await asyncio.wait([inflight[0]])
                    inflight.popleft().result()  # a bug in settling ends the session (nothing acknowledged)
        finally:
            self._taking = False
            self.counters.connected = False
            for task in self._inflight:  # the messages not acknowledged yet come again on the next session
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self._inflight, return_exceptions=True)
            self._inflight.clear()

    async def _settle(
        self, connection: MqttConnection, group: list[Inbound], previous: asyncio.Task[None] | None
    ) -> None:
        """Store or reject every message of ``group``, then acknowledge them all in one write.

        PUBACKs go out in the order the messages came (MQTT 4.6): after those of the group before this one.
        """
        await self.handle(connection, group)
        if previous is not None:
            await asyncio.wait([previous])  # its outcome is the session's to report, not ours
            if previous.cancelled() or previous.exception() is not None:
                return  # the session is ending: this group comes again too
        connection.ack_all(group)  # settled: one write of PUBACKs, after the commit

    async def handle(self, connection: MqttConnection, group: list[Inbound]) -> None:
        """Settle every message of ``group``: each stored, or rejected (counted and dead-lettered).

        Each message is parsed on its own; the ones that parse are validated together, as few batches as the size
        cap allows, and stored as those batches (one commit instead of one per message). Only when a batch fails
        validation is each of its messages validated on its own (``IngestService.validate`` is pure), so a bad one
        is rejected once and counted once and the others still go in together.
        """
        parsed: list[_Parsed] = []
        self.counters.messages += len(group)
        for topic, raw, _qos, _mid in group:
            try:
                readings, events = parse_message(topic, raw, self.max_payload_bytes)
            except MalformedMessage as exc:
                await self._reject(connection, topic, raw, exc.reason, exc.detail)
                continue
            parsed.append(_Parsed(topic, raw, readings, events))
        for chunk in _chunks(parsed, self.ingest.settings.max_batch_readings):
            await self._validate_and_store(connection, chunk)

    async def _validate_and_store(self, connection: MqttConnection, items: list[_Parsed]) -> None:
        """Validate ``items`` in one pass and store them; if that fails, each on its own (the bad ones rejected)."""
        batch = _merged_batch(items)
        try:
            validated = self.ingest.validate(batch)
        except Exception:  # some message of the batch is bad: find it (them), store the others together
            good: list[_Parsed] = []
            for item in items:
                try:
                    columns, _ = self.ingest.validate(_merged_batch([item]))
                except Exception as exc:  # validation is pure: whatever it raises is about this message
                    self.counters.rejected_readings += _values(item.readings)
                    await self._reject(connection, item.topic, item.raw, "invalid", str(exc) or type(exc).__name__)
                    continue
                good.append(item._replace(columns=columns))
            if good:
                await self._store(connection, good)
            return
        await self._store(connection, items, (batch, validated))

    async def _store(
        self,
        connection: MqttConnection,
        items: list[_Parsed],
        merged: tuple[TelemetryBatch, tuple[ReadingColumns, list[Event]]] | None = None,
    ) -> None:
        """Ingest validated messages as one batch (``merged``: theirs, validated together; else each item's own
        columns); reject for content, wait out overload, retry an outage (same connection)."""
        if merged is not None:
            batch, validated = merged
        else:
            batch = _merged_batch(items)
            validated = (_merged([item.columns for item in items if item.columns is not None]), list(batch.events))
        backoff = Backoff(STORE_RETRY_START_S, STORE_RETRY_MAX_S)
        while True:
            try:
                result = await self.ingest.ingest(batch, validated)
            except Exception as exc:
                verdict, reason = classify(exc)
                if verdict == "reject" and len(items) > 1:
                    for item in items:  # find the culprit: each message on its own, the others stored
                        await self._validate_and_store(connection, [item])
                    return
                if verdict == "reject" and reason is not None:
                    self.counters.rejected_readings += _values(batch.readings)
                    await self._reject(connection, items[0].topic, items[0].raw, reason, str(exc) or type(exc).__name__)
                    return
                if verdict == "wait":
                    await self.sleep(OVERLOAD_RETRY_S)
                    continue
                self.counters.store_retries += 1
                self.counters.last_error = f"store: {type(exc).__name__}: {exc}"[:300]
                delay = backoff.next()
                why = self.counters.last_error
                self.log.warning("store-outage", "MQTT ingest: could not store (%s); retrying in %.1f s", why, delay)
                await self.sleep(delay)
                continue
            self.counters.ingested_messages += len(items)
            self.counters.batches += 1
            self.counters.readings += result.readings
            return

    async def _reject(
        self, connection: MqttConnection, topic: str, raw: bytes, reason: RejectReason, detail: str
    ) -> None:
        c = self.counters
        c.rejected_messages += 1
        c.rejected[reason] = c.rejected.get(reason, 0) + 1
        self.log.warning(reason, "MQTT ingest: rejected a message on %s (%s): %s", topic, reason, detail[:300])
        if self.dead_letter:
            await self._dead_letter(connection, topic, raw, reason, detail)

    async def _dead_letter(
        self, connection: MqttConnection, topic: str, raw: bytes, reason: RejectReason, detail: str
    ) -> None:
        """Best effort: a dead letter that cannot be sent is counted, and the message acknowledged all the same."""
        try:
            machine = topic_machine(topic)
        except MalformedMessage:
            machine = "_unknown"
        props = user_properties(
            {"reason": reason, "detail": detail[:300], "topic": topic, "at": datetime.now(UTC).isoformat()}
        )
        try:
            await asyncio.wait_for(
                connection.publish(
                    dead_letter_topic(self.prefix, machine), raw[: self.max_payload_bytes], 1, properties=props
                ),
                timeout=DEAD_LETTER_TIMEOUT_S,
            )
        except (TimeoutError, aiomqtt.MqttError, ValueError) as exc:
            self.counters.dead_letter_failures += 1
            self.log.warning("dead-letter", "MQTT ingest: could not dead-letter a message from %s: %s", topic, exc)
            return
        self.counters.dead_lettered += 1


__all__ = [
    "MalformedMessage",
    "MqttIngest",
    "MqttIngestCounters",
    "RateLimitedLog",
    "dead_letter_topic",
    "parse_telemetry",
    "telemetry_topic_filter",
]
