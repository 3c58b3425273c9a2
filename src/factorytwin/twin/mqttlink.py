"""A long-lived MQTT connection that reconnects with back-off: the twin's publisher and bus subscriber.

``MqttEndpoint.parse`` reads ``mqtt://host:port`` (the ``FT_MQTT_URL`` setting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0
PUBLISH_CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Where the broker is."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttEndpoint:
        """Read ``mqtt://[user[:password]@]host[:port]``; raise ValueError naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"mqtt_url: scheme must be mqtt://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"mqtt_url: no host in {url!r}")
        return cls(parts.hostname, parts.port or 1883, parts.username, parts.password)


MessageHandler = Callable[[aiomqtt.Message], Awaitable[None]]


class MqttLink:
    """Keeps one client connected (re-subscribing after each reconnect) and publishes through it."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        client_id: str,
        subscriptions: list[tuple[str, int]] | None = None,
        on_message: MessageHandler | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.client_id = client_id
        self.subscriptions = subscriptions or []
        self.on_message = on_message
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """True while the connection is up."""
        return self._connected.is_set()

    async def start(self) -> None:
        """Start the connection loop; wait briefly for the first connection (it keeps trying if it fails)."""
        self._task = asyncio.create_task(self._run(), name=f"mqtt-link-{self.client_id}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=PUBLISH_CONNECT_TIMEOUT_S)

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        """Publish (waiting up to a few seconds for a connection); raise ``aiomqtt.MqttError`` if there is none."""
        if not self._connected.is_set():
            try:
                await asyncio.wait_for(self._connected.wait(), timeout=PUBLISH_CONNECT_TIMEOUT_S)
            except TimeoutError as exc:
                raise aiomqtt.MqttError(f"not connected to the MQTT broker {self.endpoint.host}") from exc
        client = self._client
        if client is None:
            raise aiomqtt.MqttError("not connected to the MQTT broker")
        await client.publish(topic, payload, qos=qos)

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
                    keepalive=15,
                ) as client:
                    for topic, qos in self.subscriptions:
                        await client.subscribe(topic, qos=qos)
                    self._client = client
                    self._connected.set()
                    backoff = BACKOFF_START_S
                    log.info("MQTT link %s connected to %s:%d", self.client_id, self.endpoint.host, self.endpoint.port)
                    async for message in client.messages:
                        if self.on_message is not None:
                            try:
                                await self.on_message(message)
                            except Exception:
                                log.exception("MQTT link %s: handler failed on %s", self.client_id, message.topic)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT link %s: %s; reconnecting in %.1f s", self.client_id, exc, backoff)
            except Exception:
                log.exception("MQTT link %s failed; reconnecting in %.1f s", self.client_id, backoff)
            finally:
                self._connected.clear()
                self._client = None
            self.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX_S, backoff * 2)
