"""MQTT ingest: a subscriber on ``ft/+/telemetry`` feeding the same ``IngestService`` path as REST.

* QoS 1 with a persistent session (clean_session False, a fixed client id): readings published while the
  subscriber is away are queued by the broker and delivered when it is back.
* A message is acknowledged only after its readings are committed (paho's manual ack), so a crash between
  receipt and commit makes the broker deliver it again; ingest is idempotent, so nothing is stored twice.
* A shared subscription (``$share/factorytwin/ft/+/telemetry``, supported by Mosquitto since 1.6) lets several
  instances split the load; give each instance its own client id.
* Messages waiting in the client's queue are ingested together as one batch (fewer commits); if that batch is
  refused, each message is ingested on its own so one bad message never holds back the good ones.
* A malformed payload (not JSON, not a reading set or batch, machine id not the topic's) is logged with its topic,
  counted (``GET /api/v1/health``, section ``mqtt``) and acknowledged: it cannot become good by being resent.
* The connection is re-established with exponential back-off (0.2 s doubling to 5 s) after a broker restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import aiomqtt
from pydantic import ValidationError

from factorytwin.domain import ReadingSet, TelemetryBatch
from factorytwin.errors import InvalidInput, Overloaded
from factorytwin.ingest.service import IngestService
from factorytwin.twin.mqttlink import BACKOFF_MAX_S, BACKOFF_START_S, MqttEndpoint

log = logging.getLogger(__name__)

SHARE_GROUP = "factorytwin"
TELEMETRY_QOS = 1
MAX_MESSAGES_PER_BATCH = 200
OVERLOAD_RETRY_S = 0.05
STORE_RETRY_S = 1.0


class MalformedMessage(ValueError):
    """A payload that is not a telemetry message for its topic."""


@dataclass
class MqttIngestCounters:
    """Running totals of the subscriber, for /health."""

    connected: bool = False
    connects: int = 0
    messages: int = 0
    batches: int = 0
    ingested_messages: int = 0
    readings: int = 0
    malformed: int = 0
    rejected: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The counters as a plain dict."""
        return asdict(self)


def telemetry_topic_filter(prefix: str = "ft", shared: bool = True) -> str:
    """The subscription: ``$share/factorytwin/ft/+/telemetry`` (or without ``$share`` when not shared)."""
    topic = f"{prefix}/+/telemetry"
    return f"$share/{SHARE_GROUP}/{topic}" if shared else topic


def parse_telemetry(topic: str, payload: bytes) -> TelemetryBatch:
    """A message's payload as a batch; raise ``MalformedMessage`` saying what is wrong.

    The payload is a reading set ``{machine_id, ts, values}`` or a batch ``{readings, events}``, as for
    ``POST /telemetry``; every machine id in it must be the one in the topic ``<prefix>/<machine_id>/telemetry``.
    """
    parts = topic.split("/")
    if len(parts) < 3 or parts[-1] != "telemetry":
        raise MalformedMessage(f"topic {topic!r} is not <prefix>/<machine_id>/telemetry")
    topic_machine = parts[-2]
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage(f"payload is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedMessage("payload must be a JSON object (a reading set or a batch)")
    try:
        if "readings" in doc or "events" in doc:
            batch = TelemetryBatch.model_validate(doc)
        else:
            batch = TelemetryBatch(readings=[ReadingSet.model_validate(doc)])
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise MalformedMessage(f"{where}: {first['msg']} ({exc.error_count()} problem(s))") from None
    owners = [("readings", i, r.machine_id) for i, r in enumerate(batch.readings)]
    owners += [("events", i, e.machine_id) for i, e in enumerate(batch.events)]
    for kind, i, machine_id in owners:
        if machine_id != topic_machine:
            raise MalformedMessage(
                f"{kind}.{i}.machine_id: {machine_id!r} does not match the topic's machine {topic_machine!r}"
            )
    return batch


class MqttIngest:
    """The MQTT telemetry subscriber; ``start()`` it with the app, ``stop()`` it on shutdown."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        ingest: IngestService,
        client_id: str = "factorytwin-ingest",
        topic_prefix: str = "ft",
        shared: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.ingest = ingest
        self.client_id = client_id
        self.topic_filter = telemetry_topic_filter(topic_prefix, shared)
        self.counters = MqttIngestCounters()
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, wait_s: float = 5.0) -> None:
        """Start the subscriber; wait up to ``wait_s`` for the first subscription (it keeps trying after)."""
        self._task = asyncio.create_task(self._run(), name=f"ft-mqtt-ingest-{self.client_id}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=wait_s)

    async def stop(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = BACKOFF_START_S
        while True:
            try:
                async with aiomqtt.Client(
                    self.endpoint.host,
                    self.endpoint.port,
                    username=self.endpoint.username,
                    password=self.endpoint.password,
                    identifier=self.client_id,
                    clean_session=False,
                    keepalive=15,
                ) as client:
                    # aiomqtt has no manual-ack switch of its own; paho's (the client underneath) does the job.
                    client._client.manual_ack_set(True)
                    await client.subscribe(self.topic_filter, qos=TELEMETRY_QOS)
                    self.counters.connected = True
                    self.counters.connects += 1
                    self._subscribed.set()
                    backoff = BACKOFF_START_S
                    log.info("MQTT ingest %s subscribed to %s", self.client_id, self.topic_filter)
                    await self._consume(client)
            except aiomqtt.MqttError as exc:
                self.counters.last_error = str(exc)
                log.warning("MQTT ingest: %s; reconnecting in %.1f s", exc, backoff)
            except Exception as exc:  # a bug must not end ingest for good: unacked messages come again
                self.counters.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("MQTT ingest failed; reconnecting in %.1f s", backoff)
            finally:
                self.counters.connected = False
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX_S, backoff * 2)

    async def _consume(self, client: aiomqtt.Client) -> None:
        messages = client.messages
        iterator = aiter(messages)
        while True:
            group = [await anext(iterator)]
            while len(messages) and len(group) < MAX_MESSAGES_PER_BATCH:
                group.append(await anext(iterator))
            await self._handle(group)
            for message in group:
                if message.qos > 0:
                    client._client.ack(message.mid, message.qos)

    async def _handle(self, group: list[aiomqtt.Message]) -> None:
        """Ingest a group of messages; return once every good one is committed (bad ones are counted)."""
        good: list[tuple[str, TelemetryBatch]] = []
        for message in group:
            self.counters.messages += 1
            topic = str(message.topic)
            raw = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            try:
                good.append((topic, parse_telemetry(topic, raw)))
            except MalformedMessage as exc:
                self.counters.malformed += 1
                log.warning("MQTT ingest: malformed message on %s: %s", topic, exc)
        if not good:
            return
        if len(good) == 1:
            await self._ingest_one(*good[0])
            return
        merged = TelemetryBatch.model_construct(
            readings=[r for _, b in good for r in b.readings], events=[e for _, b in good for e in b.events]
        )
        try:
            await self._ingest(merged)
        except InvalidInput:
            for topic, batch in good:  # find the bad one(s); the rest go in on their own
                await self._ingest_one(topic, batch)
            return
        self.counters.ingested_messages += len(good)

    async def _ingest_one(self, topic: str, batch: TelemetryBatch) -> None:
        try:
            await self._ingest(batch)
        except InvalidInput as exc:
            self.counters.rejected += 1
            log.warning("MQTT ingest: message on %s refused: %s", topic, exc)
            return
        self.counters.ingested_messages += 1

    async def _ingest(self, batch: TelemetryBatch) -> None:
        """Ingest, waiting out overload and store failures (the message stays unacknowledged meanwhile)."""
        while True:
            try:
                result = await self.ingest.ingest(batch)
            except Overloaded:
                await asyncio.sleep(OVERLOAD_RETRY_S)
                continue
            except InvalidInput:
                raise
            except Exception as exc:
                self.counters.last_error = f"store: {exc}"
                log.warning("MQTT ingest: could not store a batch (%s); retrying in %.0f s", exc, STORE_RETRY_S)
                await asyncio.sleep(STORE_RETRY_S)
                continue
            self.counters.batches += 1
            self.counters.readings += result.readings
            return


__all__ = ["MqttIngest", "MqttIngestCounters", "parse_telemetry", "telemetry_topic_filter"]
