"""The event bus: how every API process sees every twin event.

``InProcessBus`` (the default) hands events to the handlers of this process. ``MqttBus`` publishes them to
``ft/_bus/events/<type>`` on the broker and delivers everything published there, by any process, to its handlers: with
several API processes behind one broker, the broker is the bus (no clustering of our own). Each event carries the
``origin`` of the process that published it, so a process can tell its own events from the others'.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import aiomqtt
from pydantic import ValidationError

from factorytwin.domain import Alarm, Event, TelemetryBatch
from factorytwin.prediction import Prediction
from factorytwin.twin.mqttlink import MqttEndpoint, MqttLink

log = logging.getLogger(__name__)

# Four levels, so that no bus topic matches the telemetry filter ft/+/telemetry.
BUS_TOPIC_PREFIX = "ft/_bus/events/"
BusEventType = Literal["telemetry", "alarm", "event", "prediction"]


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One event on the bus: its type, the process that published it, and its payload."""

    type: BusEventType
    origin: str
    payload: TelemetryBatch | Alarm | Event | Prediction

    def encode(self) -> bytes:
        """JSON for the wire."""
        body = self.payload.model_dump(mode="json")
        return json.dumps({"type": self.type, "origin": self.origin, "payload": body}).encode()

    @classmethod
    def decode(cls, raw: bytes) -> BusEvent:
        """Parse wire JSON; raise ValueError when it is not a bus event."""
        doc = json.loads(raw)
        kind, origin, body = doc["type"], str(doc["origin"]), doc["payload"]
        payload: TelemetryBatch | Alarm | Event | Prediction
        if kind == "telemetry":
            payload = TelemetryBatch.model_validate(body)
        elif kind == "alarm":
            payload = Alarm.model_validate(body)
        elif kind == "event":
            payload = Event.model_validate(body)
        elif kind == "prediction":
            payload = Prediction.model_validate(body)
        else:
            raise ValueError(f"unknown bus event type {kind!r}")
        return cls(kind, origin, payload)


BusHandler = Callable[[BusEvent], Awaitable[None]]


class EventBus(Protocol):
    """Publish events; have them delivered to every subscribed handler of every process."""

    origin: str
    distributed: bool

    async def start(self) -> None:
        """Connect (when there is anything to connect to)."""

    async def stop(self) -> None:
        """Disconnect."""

    def subscribe(self, handler: BusHandler) -> None:
        """Deliver every event from now on to ``handler``."""

    async def publish(self, event: BusEvent) -> None:
        """Send an event to every handler (of every process)."""


def new_origin() -> str:
    """A unique name for this process on the bus."""
    return uuid.uuid4().hex[:12]


class InProcessBus:
    """The default bus: handlers of this process only, called in order of subscription."""

    distributed = False

    def __init__(self, origin: str | None = None) -> None:
        self.origin = origin or new_origin()
        self._handlers: list[BusHandler] = []

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    def subscribe(self, handler: BusHandler) -> None:
        """Deliver every event from now on to ``handler``."""
        self._handlers.append(handler)

    async def publish(self, event: BusEvent) -> None:
        """Call every handler; a failing handler is logged and does not stop the others."""
        for handler in self._handlers:
            try:
                await handler(event)
            except Exception:
                log.exception("bus handler failed on a %s event", event.type)


class MqttBus:
    """The bus over MQTT: ``ft/_bus/events/<type>``, QoS 1; every process subscribes to ``ft/_bus/events/#``."""

    distributed = True

    def __init__(self, endpoint: MqttEndpoint, origin: str | None = None) -> None:
        self.origin = origin or new_origin()
        self._local = InProcessBus(self.origin)
        self.link = MqttLink(endpoint, f"ft-bus-{self.origin}", [(BUS_TOPIC_PREFIX + "#", 1)], self._on_message)
        self.malformed = 0

    async def start(self) -> None:
        """Connect (and keep reconnecting) to the broker."""
        await self.link.start()

    async def stop(self) -> None:
        """Disconnect."""
        await self.link.stop()

    def subscribe(self, handler: BusHandler) -> None:
        """Deliver every event from now on (of any process) to ``handler``."""
        self._local.subscribe(handler)

    async def publish(self, event: BusEvent) -> None:
        """Publish to the broker, which delivers it to every process (this one included)."""
        try:
            await self.link.publish(BUS_TOPIC_PREFIX + event.type, event.encode(), qos=1)
        except aiomqtt.MqttError as exc:
            log.warning("bus: could not publish a %s event: %s", event.type, exc)

    async def _on_message(self, message: aiomqtt.Message) -> None:
        raw = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        try:
            event = BusEvent.decode(raw)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            self.malformed += 1
            log.warning("bus: malformed message on %s: %s", message.topic, exc)
            return
        await self._local.publish(event)
