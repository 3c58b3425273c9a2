"""The one MQTT module: where the broker is, how to stay connected to it, and how a message is acknowledged.

Every MQTT user of factorytwin goes through here: MQTT ingest, the twin's event bus and command link, and the
simulator's publisher and command listener. It depends on aiomqtt/paho only (``sim`` imports it and talks to the
rest over the wire).

* ``MqttEndpoint.parse`` reads ``mqtt://[user[:password]@]host[:port]`` or ``mqtts://...`` (TLS, port 8883 by
  default, verified against ``ca_file`` or the system's CAs, optionally with a client certificate);
  ``MqttEndpoint.from_settings`` the same from ``FT_MQTT_URL`` and the other ``FT_MQTT_*`` settings.
* ``Backoff``: exponential back-off, 0.2 s doubling to 5 s by default, reset once connected.
* ``MqttReconnector.run(session)`` connects (MQTT v5), hands the live ``MqttConnection`` to ``session``, and when the
  connection drops (or ``session`` fails) reconnects after the next back-off delay, for ever.
* ``MqttConnection`` is the only place that touches aiomqtt's internals (``paho_client``): paho's manual
  acknowledgement (aiomqtt has no switch of its own) and the PUBACK reason code (MQTT v5 "no matching subscribers",
  which aiomqtt drops). ``tests/unit/test_mqtt.py`` pins both, so an aiomqtt upgrade that moves them fails there.
* ``MqttConnection(bulk=True)`` reads through ``factorytwin.mqttinbox.Inbox`` (many messages per socket read, one
  write for a group's PUBACKs): the MQTT ingest subscriber's hot path, and the one other reach into paho's
  internals (pinned by ``tests/unit/test_mqttinbox.py``).
* ``MqttLink``: one client kept connected, re-subscribing after every reconnect, publishing through it; with
  ``no_local=True`` its subscriptions carry MQTT v5's "No Local" option, so the broker never sends it back what it
  published itself (the twin's bus: a process's own events are not delivered, decoded and dropped). Over MQTT 3.1.1
  (``protocol=V311``, a broker without v5) there is no such option: the subscriber must drop its own echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol
from urllib.parse import unquote, urlsplit

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from factorytwin.mqttinbox import Inbound, Inbox

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0
KEEPALIVE_S = 15
PUBLISH_CONNECT_TIMEOUT_S = 5.0
SESSION_NEVER_EXPIRES = 0xFFFFFFFF  # MQTT v5: a session expiry interval of 2^32-1 s means "never"
NO_MATCHING_SUBSCRIBERS = 0x10  # MQTT v5 PUBACK reason code: the broker accepted it, and nobody was subscribed
MQTT_PORT = 1883
MQTTS_PORT = 8883


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class MqttSettings(Protocol):
    """The ``FT_MQTT_*`` settings of ``factorytwin.config.Settings`` (this module imports nothing of factorytwin)."""

    @property
    def mqtt_url(self) -> str | None: ...
    @property
    def mqtt_username(self) -> str | None: ...
    @property
    def mqtt_password(self) -> _Secret | None: ...
    @property
    def mqtt_ca_file(self) -> Path | None: ...
    @property
    def mqtt_cert_file(self) -> Path | None: ...
    @property
    def mqtt_key_file(self) -> Path | None: ...


@dataclass(frozen=True, slots=True)
class MqttTls:
    """TLS to the broker: its certificate verified (against ``ca_file``, or the system's CAs), host name checked;
    optionally a client certificate (``cert_file`` + ``key_file``, PEM)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def context(self) -> ssl.SSLContext:
        """A client TLS context (TLS 1.2 or later); ValueError naming the file that cannot be used."""
        try:
            ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"mqtt_ca_file: {self.ca_file} is not a readable PEM CA bundle ({exc})") from None
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file is not None:
            try:
                ctx.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    f"mqtt_cert_file/mqtt_key_file: {self.cert_file} with {self.key_file} cannot be loaded ({exc})"
                ) from None
        return ctx


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Where the broker is, who we are to it, and whether the connection is TLS (``tls`` not None)."""

    host: str
    port: int = MQTT_PORT
    username: str | None = None
    password: str | None = None
    tls: MqttTls | None = None

    @classmethod
    def parse(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
    ) -> MqttEndpoint:
        """Read ``mqtt[s]://[user[:password]@]host[:port]``; the credentials may come in the URL or as arguments
        (not both), the CA and client certificate only with ``mqtts://``. ValueError naming what is wrong (a
        TLS file that cannot be loaded too: told at start-up, not at the first connection)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp", "mqtts"):
            raise ValueError(f"mqtt_url: scheme must be mqtt:// or mqtts://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"mqtt_url: no host in {url!r}")
        secure = parts.scheme == "mqtts"
        if not secure and (ca_file or cert_file or key_file):
            raise ValueError("mqtt_ca_file/mqtt_cert_file/mqtt_key_file need an mqtts:// URL (TLS)")
        if (cert_file is None) != (key_file is None):
            raise ValueError("mqtt_cert_file and mqtt_key_file go together: a client certificate needs its key")
        url_user = unquote(parts.username) if parts.username else None
        url_password = unquote(parts.password) if parts.password is not None else None
        if (username is not None and url_user is not None) or (password is not None and url_password is not None):
            raise ValueError("mqtt: give the user name and password in the URL or separately, not both")
        tls = MqttTls(ca_file, cert_file, key_file) if secure else None
        if tls is not None:
            tls.context()  # a missing or bad file: now
        port = parts.port or (MQTTS_PORT if secure else MQTT_PORT)
        return cls(parts.hostname, port, username or url_user, password or url_password, tls)

    @classmethod
    def from_settings(cls, settings: MqttSettings) -> MqttEndpoint:
        """The broker of ``FT_MQTT_URL`` with ``FT_MQTT_USERNAME``/``_PASSWORD``/``_CA_FILE``/``_CERT_FILE``/
        ``_KEY_FILE`` (``mqtt_url`` must be set)."""
        if not settings.mqtt_url:
            raise ValueError("mqtt_url is not set")
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password is not None else None
        return cls.parse(
            settings.mqtt_url,
            username=settings.mqtt_username,
            password=password,
            ca_file=settings.mqtt_ca_file,
            cert_file=settings.mqtt_cert_file,
            key_file=settings.mqtt_key_file,
        )

    def __str__(self) -> str:
        # Never the password: this is what logs show.
        return f"{self.host}:{self.port}" + (" (TLS)" if self.tls is not None else "")


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

    def __init__(self, client: aiomqtt.Client, manual_ack: bool = False, bulk: bool = False, v5: bool = True) -> None:
        self.client = client
        self.manual_ack = manual_ack
        self.v5 = v5
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
        # A subscriber taking many small messages reads them in bulk (``take``) and acknowledges them in bulk.
        self.inbox = Inbox(client, inner) if bulk else None

    @property
    def messages(self) -> aiomqtt.MessagesIterator:
        """The incoming messages, in order of arrival."""
        return self.client.messages

    def queued(self) -> int:
        """Messages received and not yet taken (from ``messages``, or ``take`` in bulk mode)."""
        return len(self.inbox) if self.inbox is not None else len(self.client.messages)

    async def take(self, limit: int) -> list[Inbound]:
        """Bulk mode: wait for a message, then return every one waiting (at most ``limit``), oldest first."""
        if self.inbox is None:
            raise RuntimeError("take() needs a connection made with bulk=True")
        return await self.inbox.take(limit)

    def ack_all(self, messages: list[Inbound]) -> None:
        """Bulk mode: acknowledge ``messages`` (taken with ``take``) in one write; a no-op without manual ack."""
        if self.manual_ack and self.inbox is not None:
            self.inbox.ack(messages)

    async def subscribe(self, topic: str, qos: int = 1, *, no_local: bool = False) -> bool:
        """Subscribe (and wait for the SUBACK); with ``no_local`` ask the broker (MQTT v5 "No Local") never to send
        this client what it published itself. True when No Local is in force: asked for on an MQTT v5 connection
        (3.1.1 has no such option, and the subscription is made without it)."""
        if no_local and self.v5:
            await self.client.subscribe(topic, options=SubscribeOptions(qos=qos, noLocal=True))
            return True
        await self.client.subscribe(topic, qos=qos)
        return False

    async def unsubscribe(self, topic: str) -> None:
        """Unsubscribe (and wait for the UNSUBACK)."""
        await self.client.unsubscribe(topic)

    async def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, properties: Properties | None = None
    ) -> None:
        """Publish; with QoS 1 return once the broker has acknowledged it."""
        await self.client.publish(topic, payload, qos=qos, properties=properties)
        _raise_if_cancel_was_lost()

    async def publish_matched(self, topic: str, payload: bytes | str, qos: int = 1) -> bool:
        """Publish with QoS 1; False when the broker says no subscription matched it (nobody will ever get it).

        Publishes through this method are serialised, so each PUBACK's reason code is told apart.
        """
        async with self._publish_lock:
            before = self.unmatched_publishes
            await self.client.publish(topic, payload, qos=qos)
            _raise_if_cancel_was_lost()
            return self.unmatched_publishes == before

    def ack(self, message: aiomqtt.Message) -> None:
        """Acknowledge a message taken from ``messages`` (a no-op for QoS 0 or without manual acknowledgement)."""
        if self.manual_ack and message.qos > 0:
            paho_client(self.client).ack(message.mid, message.qos)


def _raise_if_cancel_was_lost() -> None:
    """Raise the cancellation that Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's publish) drops when the
    PUBACK arrives just as the task is cancelled: the task would carry on (a server that never stops on SIGTERM, as
    the twin's bus sender did, looping back to its queue). Python 3.12's ``wait_for`` no longer loses it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How to connect: the client id, and whether the broker keeps the session (and for how long)."""

    client_id: str
    persistent: bool = False
    session_expiry_s: int = SESSION_NEVER_EXPIRES
    manual_ack: bool = False
    keepalive_s: int = KEEPALIVE_S
    bulk: bool = False  # read and acknowledge messages in bulk (``MqttConnection.take``/``ack_all``)
    protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5

    def client(self, endpoint: MqttEndpoint) -> aiomqtt.Client:
        """An aiomqtt client (MQTT v5 unless ``protocol`` says otherwise) for ``endpoint``; a persistent one never
        starts clean."""
        session: dict[str, Any]
        if self.protocol is aiomqtt.ProtocolVersion.V5:
            props = None
            if self.persistent:
                props = _properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self.session_expiry_s
            session = {"clean_start": not self.persistent, "properties": props}
        else:  # 3.1.1: a clean session flag, no properties
            session = {"clean_session": not self.persistent}
        return aiomqtt.Client(
            endpoint.host,
            endpoint.port,
            username=endpoint.username,
            password=endpoint.password,
            identifier=self.client_id,
            protocol=self.protocol,
            keepalive=self.keepalive_s,
            tls_context=endpoint.tls.context() if endpoint.tls is not None else None,
            **session,
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
                    v5 = self.options.protocol is aiomqtt.ProtocolVersion.V5
                    self.connection = MqttConnection(client, self.options.manual_ack, self.options.bulk, v5)
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
        no_local: bool = False,
        protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
    ) -> None:
        self.endpoint = endpoint
        self.client_id = client_id
        self.subscriptions = subscriptions or []
        self.on_message = on_message
        self.no_local = no_local
        self.no_local_in_force = False  # the broker filters our own messages out (set once subscribed)
        options = ClientOptions(client_id, protocol=protocol)
        self.reconnector = MqttReconnector(endpoint, options, backoff=backoff, name="MQTT link")
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
        in_force = bool(self.subscriptions)
        for topic, qos in self.subscriptions:
            in_force &= await connection.subscribe(topic, qos=qos, no_local=self.no_local)
        self.no_local_in_force = in_force
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
    "MqttSettings",
    "MqttTls",
    "paho_client",
    "payload_bytes",
    "user_properties",
]
