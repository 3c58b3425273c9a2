"""The event bus: how every API process sees every twin event.

``InProcessBus`` (the default) hands events to the handlers of this process. ``MqttBus`` publishes them to
``ft/_bus/events/<type>`` on the broker and delivers everything published there, by any process, to its handlers: with
several API processes behind one broker, the broker is the bus (no clustering of our own). Each event carries the
``origin`` of the process that published it, so a process can tell its own events from the others'. A process
never needs its own events back (it applied them when they happened): ``MqttBus`` subscribes with MQTT v5's "No
Local" option, so the broker does not send them; where that option is missing (``protocol=V311``, a broker without
v5) ``EchoGuard`` drops each echo by its origin before decoding it (``MqttBus.echoes`` counts them: 0 with No Local).

Anyone on the broker can publish there, so a bus message is validated like ingest before it is applied: its wire
shape with pydantic (``BusEvent.decode``: size, JSON, an envelope of known type and a well-formed origin, the
payload's model), then its content against the factory (``BusGuard``, set by the twin). A message failing either is
dropped and counted (``MqttBus.dropped`` by reason, in the twin's /health section), never applied.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, get_args

import aiomqtt
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from factorytwin.domain import Alarm, Event, ReadingSet, TelemetryBatch
from factorytwin.mqtt import MqttEndpoint, MqttLink, payload_bytes
from factorytwin.plant.service import PlantChanged
from factorytwin.prediction import Prediction
from factorytwin.twin.busguard import BusGuard, EchoGuard

log = logging.getLogger(__name__)

# Four levels, so that no bus topic matches the telemetry filter ft/+/telemetry.
BUS_TOPIC_PREFIX = "ft/_bus/events/"
BusEventType = Literal["telemetry", "alarm", "event", "prediction", "plant"]
MAX_BUS_MESSAGE_BYTES = 4 * 1024 * 1024
DROP_REASONS = ("malformed", "wrong_topic", *(f"invalid_{kind}" for kind in get_args(BusEventType)))
"""Why a bus message was dropped: the keys of ``MqttBus.dropped``."""


class MalformedBusMessage(ValueError):
    """A bus message that is not a bus event."""


class _Envelope(BaseModel):
    """The wire shape of every bus message."""

    model_config = ConfigDict(extra="forbid")

    type: BusEventType
    origin: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.-]+$")
    payload: dict[str, Any]


class _Typed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.-]+$")


class _TelemetryEnvelope(_Typed):
    type: Literal["telemetry"]
    payload: TelemetryBatch


class _AlarmEnvelope(_Typed):
    type: Literal["alarm"]
    payload: Alarm


class _EventEnvelope(_Typed):
    type: Literal["event"]
    payload: Event


class _PredictionEnvelope(_Typed):
    type: Literal["prediction"]
    payload: Prediction


class _PlantEnvelope(_Typed):
    type: Literal["plant"]
    payload: PlantChanged


_TYPED: TypeAdapter[_TelemetryEnvelope | _AlarmEnvelope | _EventEnvelope | _PredictionEnvelope | _PlantEnvelope] = (
    TypeAdapter(
        Annotated[
            _TelemetryEnvelope | _AlarmEnvelope | _EventEnvelope | _PredictionEnvelope | _PlantEnvelope,
            Field(discriminator="type"),
        ]
    )
)
"""A bus message validated in one pass, by its type: ``BusEvent.decode``'s fast path. When it fails, the
envelope and then the payload are validated in turn (``_Envelope``), to say which part is wrong."""


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One event on the bus: its type, the process that published it, and its payload."""

    type: BusEventType
    origin: str
    payload: TelemetryBatch | Alarm | Event | Prediction | PlantChanged

    def encode(self) -> bytes:
        """JSON for the wire: ``{"type": ..., "origin": ..., "payload": ...}``, in that order (``EchoGuard`` knows an
        echo by that start)."""
        # The payload serialised by pydantic-core (3x faster than model_dump + json.dumps), spliced into the
        # envelope; type and origin are plain names (``_Envelope``), nothing to escape.
        head = json.dumps({"type": self.type, "origin": self.origin})[:-1]
        return f'{head}, "payload": '.encode() + self.payload.model_dump_json().encode() + b"}"

    @classmethod
    def decode(cls, raw: bytes) -> BusEvent:
        """Parse and validate wire JSON; raise ``MalformedBusMessage`` (a ValueError) when it is not a bus event."""
        if len(raw) > MAX_BUS_MESSAGE_BYTES:
            raise MalformedBusMessage(f"{len(raw)} bytes, over the limit of {MAX_BUS_MESSAGE_BYTES}")
        try:  # the usual case in one pass, JSON to models (no dict of the payload in between)
            typed = _TYPED.validate_json(raw)
        except (ValidationError, RecursionError):
            pass  # find out what is wrong, and say it, below
        else:
            return cls(typed.type, typed.origin, typed.payload)
        try:
            envelope = _Envelope.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(message)"
            raise MalformedBusMessage(f"{where}: {first['msg']}") from None
        except RecursionError:
            raise MalformedBusMessage("nested too deeply") from None
        kind, body = envelope.type, envelope.payload
        payload: TelemetryBatch | Alarm | Event | Prediction | PlantChanged
        try:
            if kind == "telemetry":
                payload = TelemetryBatch.model_validate(body)
            elif kind == "alarm":
                payload = Alarm.model_validate(body)
            elif kind == "event":
                payload = Event.model_validate(body)
            elif kind == "plant":
                payload = PlantChanged.model_validate(body)
            else:
                payload = Prediction.model_validate(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in ("payload", *first["loc"]))
            raise MalformedBusMessage(f"{where}: {first['msg']}") from None
        return cls(kind, envelope.origin, payload)


def latest_readings(batches: Sequence[TelemetryBatch]) -> TelemetryBatch:
    """What the other processes need of ``batches`` (committed here, in this order): every event, and of the
    readings each sensor's latest value, as one reading set per machine and instant.

    The other processes' twins show the latest values and do not run the alarm rules on them (the ingesting
    process did), so the values in between would be decoded, checked and applied only to be overwritten: with a
    group of 100 reading sets of 16 machines, 16 reading sets cross the bus instead of 100. Of equal timestamps the
    later reading wins, as in ``TwinState.apply``. The models are already validated: built without validation."""
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    for batch in batches:
        for rs in batch.readings:
            ts, machine_id = rs.ts, rs.machine_id
            for key, value in rs.values.items():
                seen = latest.get((machine_id, key))
                if seen is None or ts >= seen[0]:
                    latest[(machine_id, key)] = (ts, value)
    sets: dict[tuple[str, datetime], dict[str, float]] = {}
    for (machine_id, key), (ts, value) in latest.items():
        sets.setdefault((machine_id, ts), {})[key] = value
    readings = [ReadingSet.model_construct(machine_id=m, ts=ts, values=values) for (m, ts), values in sets.items()]
    events = [event for batch in batches for event in batch.events]
    return TelemetryBatch.model_construct(readings=readings, events=events)


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
    """The bus over MQTT: ``ft/_bus/events/<type>``, QoS 1; every process subscribes to ``ft/_bus/events/#`` with
    "No Local" (MQTT v5), so it gets every other process's events and not its own."""

    distributed = True

    def __init__(
        self,
        endpoint: MqttEndpoint,
        origin: str | None = None,
        *,
        protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
    ) -> None:
        self.origin = origin or new_origin()
        self._local = InProcessBus(self.origin)
        self.link = MqttLink(
            endpoint,
            f"ft-bus-{self.origin}",
            [(BUS_TOPIC_PREFIX + "#", 1)],
            self._on_message,
            no_local=True,
            protocol=protocol,
        )
        self.guard: BusGuard | None = None
        self.echo = EchoGuard(self.origin, BUS_TOPIC_PREFIX)
        self.dropped: dict[str, int] = {}

    @property
    def echoes(self) -> int:
        """This process's own messages the broker sent back and the bus dropped (0 while No Local is in force)."""
        return self.echo.echoes

    @property
    def malformed(self) -> int:
        """Bus messages dropped, whatever the reason."""
        return sum(self.dropped.values())

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
        """Publish to the broker, which delivers it to every other process."""
        try:
            await self.link.publish(BUS_TOPIC_PREFIX + event.type, event.encode(), qos=1)
        except aiomqtt.MqttError as exc:
            log.warning("bus: could not publish a %s event: %s", event.type, exc)

    async def _on_message(self, message: aiomqtt.Message) -> None:
        await self.receive(str(message.topic), payload_bytes(message))

    async def receive(self, topic: str, raw: bytes) -> bool:
        """Validate one bus message and deliver it; False when it is dropped: this process's own (counted in
        ``echoes``) or invalid (counted in ``dropped``)."""
        if self.echo.is_echo(topic, raw):
            return False
        try:
            event = BusEvent.decode(raw)
        except MalformedBusMessage as exc:
            return self._drop("malformed", topic, str(exc))
        if topic != BUS_TOPIC_PREFIX + event.type:
            return self._drop("wrong_topic", topic, f"a {event.type} event")
        problem = self.guard.problem(event.payload) if self.guard is not None and event.origin != self.origin else None
        if problem is not None:
            return self._drop(f"invalid_{event.type}", topic, problem)
        await self._local.publish(event)
        return True

    def _drop(self, reason: str, topic: str, detail: str) -> bool:
        first = reason not in self.dropped
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        if first or self.dropped[reason] % 1000 == 0:  # no log flood from a flood of forgeries
            log.warning("bus: dropped a message on %s (%s, %d so far): %s", topic, reason, self.dropped[reason], detail)
        return False
