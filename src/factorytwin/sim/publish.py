"""Publishers: how simulated telemetry leaves the simulator, exactly as a real machine's would.

- ``HttpPublisher``: batched ``POST <target>/api/v1/telemetry`` (body: ``domain.TelemetryBatch`` JSON). When the
  server is away or answers 503/429/5xx it retries the same batch with exponential back-off; readings wait in a
  bounded buffer meanwhile and are never dropped silently: if the buffer ever overflows, the oldest are dropped
  with a loud warning and counted. A batch the server refuses as invalid (4xx) is logged with its reason.
- ``MqttPublisher``: MQTT v5, QoS 1, topic ``ft/<machine_id>/telemetry``, payload one ``TelemetryBatch`` per
  machine per publish, through ``factorytwin.mqtt`` (reconnect with back-off); unsent batches wait in the same kind
  of bounded buffer. A slice leaves the buffer only once every message of it is acknowledged by the broker *and*
  the broker said a subscription matched it: when nobody is subscribed (Mosquitto's PUBACK reason "no matching
  subscribers", e.g. just after a broker restart, before a shared subscription is back) the slice is sent again
  after a back-off instead of being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from factorytwin.mqtt import Backoff, ClientOptions, MqttConnection, MqttEndpoint, MqttReconnector

log = logging.getLogger("factorytwin.sim.publish")

Item = tuple[str, dict[str, Any]]  # ("reading" | "event", the JSON object)
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}
CREDENTIAL_REFUSED = frozenset({401, 403})
"""Answers that say the credential is missing or wrong: retried (the data kept) while someone fixes it."""


class Publisher(Protocol):
    """Anything the real-time driver can hand telemetry to."""

    def submit(self, readings: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """Queue reading sets and events (JSON-ready dicts) for sending; never blocks."""

    async def run(self) -> None:
        """Send queued telemetry until cancelled."""

    async def drain(self, timeout_s: float) -> bool:
        """Wait until everything queued is sent, at most ``timeout_s``; True when the buffer is empty."""

    def pending(self) -> int:
        """Readings and events queued but not sent yet."""


@dataclass
class PublisherStats:
    """Counters of a publisher, for logs and tests."""

    sent_readings: int = 0
    sent_events: int = 0
    requests: int = 0
    retries: int = 0
    refused: int = 0  # items in batches the server refused as invalid
    unmatched: int = 0  # MQTT slices sent again because no subscription matched them
    overflowed: int = 0  # items dropped because the buffer was full
    last_error: str = ""
    errors: list[str] = field(default_factory=list)


class _Buffer:
    """A bounded FIFO of readings and events; overflow drops the oldest, loudly."""

    def __init__(self, max_items: int, stats: PublisherStats, name: str) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.items: deque[Item] = deque()
        self.max_items = max_items
        self.stats = stats
        self.name = name
        self.ready = asyncio.Event()  # set while there is something to send
        self.empty = asyncio.Event()  # set while there is nothing left to send
        self.empty.set()

    def add(self, readings: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        self.items.extend(("event", e) for e in events)
        self.items.extend(("reading", r) for r in readings)
        over = len(self.items) - self.max_items
        if over > 0:
            for _ in range(over):
                self.items.popleft()
            self.stats.overflowed += over
            log.warning(
                "%s buffer full (%d items): dropped the %d oldest readings/events (%d dropped so far); "
                "the receiver has been unreachable too long",
                self.name,
                self.max_items,
                over,
                self.stats.overflowed,
            )
        if self.items:
            self.ready.set()
            self.empty.clear()

    def take(self, max_items: int) -> list[Item]:
        return [self.items[i] for i in range(min(max_items, len(self.items)))]

    def commit(self, count: int) -> None:
        for _ in range(min(count, len(self.items))):
            self.items.popleft()
        if not self.items:
            self.ready.clear()
            self.empty.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until everything is sent; True when the buffer is empty."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.empty.wait(), timeout_s)
        return not self.items


def _batch_body(items: list[Item]) -> dict[str, list[dict[str, Any]]]:
    return {
        "readings": [obj for kind, obj in items if kind == "reading"],
        "events": [obj for kind, obj in items if kind == "event"],
    }


class HttpPublisher:
    """Batched POSTs of telemetry to ``<target>/api/v1/telemetry`` with retry and a bounded buffer."""

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        max_buffer: int = 500_000,
        batch_items: int = 2_000,
        timeout_s: float = 10.0,
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 15.0,
    ) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"target must be an http(s) URL such as http://localhost:8000, not {target!r}")
        self.url = target.rstrip("/") + "/api/v1/telemetry"
        self.headers = {"content-type": "application/json"}
        if token:  # an API token (operator or above) or a machine's device key (docs/SECURITY.md)
            self.headers["authorization"] = f"Bearer {token}"
        self.stats = PublisherStats()
        self.buffer = _Buffer(max_buffer, self.stats, "HTTP publisher")
        self.batch_items = batch_items
        self.timeout_s = timeout_s
        self.backoff = Backoff(backoff_initial_s, backoff_max_s)

    def submit(self, readings: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """Queue reading sets and events for the next POST."""
        self.buffer.add(readings, events)

    async def run(self) -> None:
        """POST queued telemetry in batches until cancelled; retry with back-off while the server is away."""
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            while True:
                await self.buffer.ready.wait()
                items = self.buffer.take(self.batch_items)
                if not items:
                    self.buffer.ready.clear()
                    continue
                if await self._post(client, items):
                    self.backoff.reset()
                else:
                    await asyncio.sleep(self.backoff.next())

    async def _post(self, client: httpx.AsyncClient, items: list[Item]) -> bool:
        """True when the batch is done with (accepted, or refused for good); False to retry it later."""
        body = json.dumps(_batch_body(items), separators=(",", ":"))
        self.stats.requests += 1
        try:
            resp = await client.post(self.url, content=body, headers=self.headers)
        except httpx.HTTPError as exc:
            self._retry_later(f"{type(exc).__name__}: {exc}")
            return False
        if resp.status_code in RETRYABLE:
            self._retry_later(f"HTTP {resp.status_code}")
            return False
        if resp.status_code in CREDENTIAL_REFUSED:  # a missing, wrong or revoked key: keep the data until it is fixed
            self._retry_later(f"HTTP {resp.status_code}: the server refused the credential (--token / FT_TOKEN)")
            return False
        if resp.is_success:
            self.stats.sent_readings += sum(1 for kind, _ in items if kind == "reading")
            self.stats.sent_events += sum(1 for kind, _ in items if kind == "event")
        else:
            self.stats.refused += len(items)
            log.error("telemetry batch of %d items refused: HTTP %d %s", len(items), resp.status_code, resp.text[:500])
        self.buffer.commit(len(items))
        return True

    def _retry_later(self, why: str) -> None:
        self.stats.retries += 1
        if why != self.stats.last_error:
            log.warning("telemetry POST to %s failed (%s); retrying with back-off", self.url, why)
        self.stats.last_error = why

    async def drain(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until the buffer is empty; the ``run`` task must be running."""
        return await self.buffer.drain(timeout_s)

    def pending(self) -> int:
        """Readings and events queued but not sent yet."""
        return len(self.buffer.items)


class MqttPublisher:
    """QoS 1 publishes of one TelemetryBatch per machine per submit to ``<prefix>/<machine_id>/telemetry``."""

    def __init__(
        self,
        url: str | MqttEndpoint,
        *,
        client_id: str | None = None,
        topic_prefix: str = "ft",
        max_buffer: int = 500_000,
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 15.0,
    ) -> None:
        endpoint = MqttEndpoint.parse(url) if isinstance(url, str) else url
        self.client_id = client_id or f"ft-sim-pub-{uuid.uuid4().hex[:8]}"
        self.prefix = topic_prefix
        self.stats = PublisherStats()
        self.buffer = _Buffer(max_buffer, self.stats, "MQTT publisher")
        self.backoff = Backoff(backoff_initial_s, backoff_max_s)
        self.reconnector = MqttReconnector(
            endpoint, ClientOptions(self.client_id), backoff=Backoff(backoff_initial_s, backoff_max_s), name="sim"
        )
        self.connected = self.reconnector.connected

    def submit(self, readings: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """Queue reading sets and events for publishing."""
        self.buffer.add(readings, events)

    async def run(self) -> None:
        """Publish queued telemetry until cancelled; reconnect with back-off when the broker is away."""
        await self.reconnector.run(self._session)

    async def _session(self, connection: MqttConnection) -> None:
        self.stats.retries = self.reconnector.failures  # connections lost (or refused) so far
        self.stats.last_error = self.reconnector.last_error or ""
        while True:
            await self.buffer.ready.wait()
            items = self.buffer.take(2_000)
            if await self._publish(connection, items):
                # Only once all of them are acknowledged and matched: otherwise the slice is sent again, which
                # ingest's idempotency makes harmless.
                self.buffer.commit(len(items))
                self.backoff.reset()
            else:
                self.stats.unmatched += 1
                self.stats.last_error = "no subscription matched (nobody is listening yet)"
                await asyncio.sleep(self.backoff.next())

    async def _publish(self, connection: MqttConnection, items: list[Item]) -> bool:
        for topic, body in self._messages(items):
            matched = await connection.publish_matched(topic, json.dumps(body, separators=(",", ":")), qos=1)
            self.stats.requests += 1
            if not matched:
                return False
            self.stats.sent_readings += len(body["readings"])
            self.stats.sent_events += len(body["events"])
        return True

    def _messages(self, items: list[Item]) -> list[tuple[str, dict[str, list[dict[str, Any]]]]]:
        """One TelemetryBatch per machine: (topic, body), machines in order of first appearance."""
        per_machine: dict[str, list[Item]] = {}
        for item in items:
            per_machine.setdefault(str(item[1]["machine_id"]), []).append(item)
        return [(f"{self.prefix}/{machine}/telemetry", _batch_body(group)) for machine, group in per_machine.items()]

    async def drain(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until the buffer is empty; the ``run`` task must be running."""
        return await self.buffer.drain(timeout_s)

    def pending(self) -> int:
        """Readings and events queued but not sent yet."""
        return len(self.buffer.items)
