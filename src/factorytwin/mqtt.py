"""The one MQTT module: where the broker is, how to stay connected to it, and how a message is acknowledged.

Every MQTT user of factorytwin goes through here: MQTT ingest, the twin's event bus and command link, and the
simulator's publisher and command listener. It depends on aiomqtt/paho only (``sim`` imports it and talks to the
rest over the wire).

* ``MqttEndpoint.parse`` reads ``mqtt://[user[:password]@]host[:port]`` (the ``FT_MQTT_URL`` setting).
* ``Backoff``: exponential back-off, 0.2 s doubling to 5 s by default, reset once connected.
* ``MqttReconnector.run(session)`` connects (MQTT v5), hands the live ``MqttConnection`` to ``session``, and when the
  connection drops (or ``session`` fails) reconnects after the next back-off delay, for ever.
* ``MqttConnection`` is the only place that touches aiomqtt's internals (``paho_client``): paho's manual
  acknowledgement (aiomqtt has no switch of its own) and the PUBACK reason code (MQTT v5 "no matching subscribers",
  which aiomqtt drops). ``tests/unit/test_mqtt.py`` pins both, so an aiomqtt upgrade that moves them fails there.
* ``MqttLink``: one client kept connected, re-subscribing after every reconnect, publishing through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0
KEEPALIVE_S = 15
PUBLISH_CONNECT_TIMEOUT_S = 5.0
SESSION_NEVER_EXPIRES = 0xFFFFFFFF  # MQTT v5: a session expiry interval of 2^32-1 s means "never"
NO_MATCHING_SUBSCRIBERS = 0x10  # MQTT v5 PUBACK reason code: the broker accepted it, and nobody was subscribed


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

    def __str__(self) -> str:
        # Never the password: this is what logs show.
        return f"{self.host}:{self.port}"


class Backoff:
    """Exponential back-off: ``initial_s``, doubling, capped at ``max_s``; ``reset()`` after a success."""

    def __init__(self, initial_s: float = BACKOFF_START_S, max_s: float = BACKOFF_MAX_S) -> None:
        if initial_s <= 0 or max_s < initial_s:
            raise ValueError("back-off needs 0 < initial_s <= max_s")
        self.initial, self.max = initial_s, max_s
        self.current = initial_s

    def next(self) -> float:
        """The delay to wait now; the one after it doubles."""
        delay = self.current
        self.current = min(self.current * 2.0, self.max)
        return delay

    def reset(self) -> None:
        """Start again from ``initial_s``."""
        self.current = self.initial


def paho_client(client: aiomqtt.Client) -> paho.Client:
    """The paho client under an aiomqtt one: the single reach into aiomqtt's internals (pinned by a unit test)."""
    inner = client._client
    if not isinstance(inner, paho.Client):  # an aiomqtt upgrade moved it: fail loudly, not with a silent no-ack
        raise TypeError(f"aiomqtt.Client._client is {type(inner).__name__}, not a paho client")
    return inner


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho's Properties is untyped


def user_properties(pairs: dict[str, str]) -> Properties:
    """MQTT v5 PUBLISH properties carrying ``pairs`` as user properties (e.g. a dead letter's reason)."""
    props = _properties(PacketTypes.PUBLISH)
    props.UserProperty = list(pairs.items())
    return props


class MqttConnection:
    """One live connection: subscribe, publish, iterate messages, and acknowledge them by hand when asked to."""

    def __init__(self, client: aiomqtt.Client, manual_ack: bool = False) -> None:
        self.client = client
        self.manual_ack = manual_ack
        self.unmatched_publishes = 0
        self._publish_lock = asyncio.Lock()
        inner = paho_client(client)
        # paho's manual acknowledgement: a QoS 1 message is PUBACKed only when ``ack`` says so, i.e. once it is
        # handled; until then the broker keeps it for redelivery.
        inner.manual_ack_set(manual_ack)
        original: Any = inner.on_publish  # aiomqtt's own (paho callback API version 2)

        def on_publish(c: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
            # aiomqtt ignores the PUBACK's reason code; keep "no matching subscribers" (MQTT v5, Mosquitto 2.x).
            if getattr(reason, "value", 0) == NO_MATCHING_SUBSCRIBERS:
                self.unmatched_publishes += 1
            if original is not None:
                original(c, userdata, mid, reason, properties)

        inner.on_publish = on_publish

    @property
    def messages(self) -> aiomqtt.MessagesIterator:
        """The incoming messages, in order of arrival."""
        return self.client.messages

    def queued(self) -> int:
        """Messages received and not yet taken from ``messages``."""
        return len(self.client.messages)

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe (and wait for the SUBACK)."""
        await self.client.subscribe(topic, qos=qos)

    async def unsubscribe(self, topic: str) -> None:
        """Unsubscribe (and wait for the UNSUBACK)."""
        await self.client.unsubscribe(topic)

    async def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, properties: Properties | None = None
    ) -> None:
        """Publish; with QoS 1 return once the broker has acknowledged it."""
        await self.client.publish(topic, payload, qos=qos, properties=properties)

    async def publish_matched(self, topic: str, payload: bytes | str, qos: int = 1) -> bool:
        """Publish with QoS 1; False when the broker says no subscription matched it (nobody will ever get it).

        Publishes through this method are serialised, so each PUBACK's reason code is told apart.
        """
        async with self._publish_lock:
            before = self.unmatched_publishes
            await self.client.publish(topic, payload, qos=qos)
            return self.unmatched_publishes == before

    def ack(self, message: aiomqtt.Message) -> None:
        """Acknowledge a message taken from ``messages`` (a no-op for QoS 0 or without manual acknowledgement)."""
        if self.manual_ack and message.qos > 0:
            paho_client(self.client).ack(message.mid, message.qos)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How to connect: the client id, and whether the broker keeps the session (and for how long)."""

    client_id: str
    persistent: bool = False
    session_expiry_s: int = SESSION_NEVER_EXPIRES
    manual_ack: bool = False
    keepalive_s: int = KEEPALIVE_S

    def client(self, endpoint: MqttEndpoint) -> aiomqtt.Client:
        """An aiomqtt client (MQTT v5) for ``endpoint``; a persistent one never starts clean."""
        props = _properties(PacketTypes.CONNECT)
        if self.persistent:
            props.SessionExpiryInterval = self.session_expiry_s
        return aiomqtt.Client(
            endpoint.host,
            endpoint.port,
            username=endpoint.username,
            password=endpoint.password,
            identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=not self.persistent,
            properties=props if self.persistent else None,
            keepalive=self.keepalive_s,
        )


Session = Callable[[MqttConnection], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class MqttReconnector:
    """Keeps a client connected: connect, run the session, and after any loss wait the back-off and start again."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        options: ClientOptions,
        *,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        name: str = "MQTT",
    ) -> None:
        self.endpoint = endpoint
        self.options = options
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.name = name
        self.connected = asyncio.Event()
        self.connection: MqttConnection | None = None
        self.connects = 0
        self.failures = 0
        self.last_error: str | None = None

    async def run(self, session: Session) -> NoReturn:
        """Run ``session`` on every connection until cancelled; ``session`` returns or raises when it is over."""
        while True:
            try:
                async with self.options.client(self.endpoint) as client:
                    self.connection = MqttConnection(client, self.options.manual_ack)
                    self.connects += 1
                    self.connected.set()
                    self.backoff.reset()
                    log.info("%s %s connected to %s", self.name, self.options.client_id, self.endpoint)
                    await session(self.connection)
            except aiomqtt.MqttError as exc:
                self._failed(str(exc))
            except Exception as exc:  # a bug in a session must not end the connection for good
                self._failed(f"{type(exc).__name__}: {exc}")
                log.exception("%s %s: session failed", self.name, self.options.client_id)
            finally:
                self.connected.clear()
                self.connection = None
            delay = self.backoff.next()
            log.warning("%s %s: %s; reconnecting in %.1f s", self.name, self.options.client_id, self.last_error, delay)
            await self.sleep(delay)

    def _failed(self, why: str) -> None:
        self.failures += 1
        self.last_error = why


MessageHandler = Callable[[aiomqtt.Message], Awaitable[None]]


class MqttLink:
    """One client kept connected (re-subscribing after each reconnect) that publishes and hands messages on."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        client_id: str,
        subscriptions: list[tuple[str, int]] | None = None,
        on_message: MessageHandler | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.client_id = client_id
        self.subscriptions = subscriptions or []
        self.on_message = on_message
        self.reconnector = MqttReconnector(endpoint, ClientOptions(client_id), backoff=backoff, name="MQTT link")
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """True while the connection is up."""
        return self.reconnector.connected.is_set()

    @property
    def reconnects(self) -> int:
        """How many times the connection was lost (or could not be made)."""
        return self.reconnector.failures

    async def start(self, wait_s: float = PUBLISH_CONNECT_TIMEOUT_S) -> None:
        """Start the connection loop; wait up to ``wait_s`` for the first connection (it keeps trying after)."""
        self._task = asyncio.create_task(self._run(), name=f"mqtt-link-{self.client_id}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.reconnector.connected.wait(), timeout=wait_s)

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        """Publish (waiting up to a few seconds for a connection); raise ``aiomqtt.MqttError`` if there is none."""
        if not self.reconnector.connected.is_set():
            try:
                await asyncio.wait_for(self.reconnector.connected.wait(), timeout=PUBLISH_CONNECT_TIMEOUT_S)
            except TimeoutError as exc:
                raise aiomqtt.MqttError(f"not connected to the MQTT broker {self.endpoint}") from exc
        connection = self.reconnector.connection
        if connection is None:
            raise aiomqtt.MqttError("not connected to the MQTT broker")
        await connection.publish(topic, payload, qos=qos)

    async def _run(self) -> None:
        await self.reconnector.run(self._session)

    async def _session(self, connection: MqttConnection) -> None:
        for topic, qos in self.subscriptions:
            await connection.subscribe(topic, qos=qos)
        async for message in connection.messages:
            if self.on_message is None:
                continue
            try:
                await self.on_message(message)
            except Exception:  # one message's handler failing must not drop the connection
                log.exception("MQTT link %s: handler failed on %s", self.client_id, message.topic)


def payload_bytes(message: aiomqtt.Message) -> bytes:
    """A message's payload as bytes, whatever aiomqtt made of it."""
    payload = message.payload
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()


__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_START_S",
    "SESSION_NEVER_EXPIRES",
    "Backoff",
    "ClientOptions",
    "MessageHandler",
    "MqttConnection",
    "MqttEndpoint",
    "MqttLink",
    "MqttReconnector",
    "paho_client",
    "payload_bytes",
    "user_properties",
]
