"""Mapped MQTT JSON: a subscriber for payloads in a gateway's own JSON format, mapped to sensors by JSON pointers.

``map_message`` is the pure part (topic + payload -> mapped values); ``MqttJsonConnectorRuntime`` is the aiomqtt
client around it. A message is mapped whole or not at all: if any of its mapped values cannot be found or is not
a number, none of them is stored and the message counts as unmapped (every value it should have carried), logged
with its topic. Payload numbers must be JSON numbers (a quoted "41.5" is unmapped, as in factorytwin's own format).

The session is clean (no broker-side queue while the connector is away) and QoS 1 messages are acknowledged on
receipt: a connector reads live values; what was published while it was away is not replayed.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from factorytwin.connectors.base import Connector, MappedValue
from factorytwin.connectors.models import MqttJsonConnector
from factorytwin.domain import ID_PATTERN
from factorytwin.mqtt import ClientOptions, MqttEndpoint, payload_bytes

_ID = re.compile(ID_PATTERN)
_MISSING = object()


class Unmappable(ValueError):
    """A message (or value) that cannot be mapped; the message says why."""


def resolve(document: Any, pointer: str) -> Any:
    """The part of ``document`` that the RFC 6901 JSON ``pointer`` names; raise ``Unmappable`` if there is none."""
    if pointer == "":
        return document
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(token, _MISSING)
        elif isinstance(node, list) and re.fullmatch(r"0|[1-9][0-9]*", token) and int(token) < len(node):
            node = node[int(token)]
        else:
            node = _MISSING
        if node is _MISSING:
            raise Unmappable(f"{pointer}: not found in the payload")
    return node


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unmappable(f"{where}: {type(value).__name__} {_short(value)} is not a JSON number")
    number = float(value)
    if not math.isfinite(number):
        raise Unmappable(f"{where}: {number} is not a finite number")
    return number


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _machine(config: MqttJsonConnector, topic: str, document: Any) -> str:
    if config.machine_id is not None:
        return config.machine_id
    if config.machine_id_topic_segment is not None:
        levels = topic.split("/")
        if config.machine_id_topic_segment >= len(levels):
            raise Unmappable(f"the topic has no level {config.machine_id_topic_segment} for the machine id")
        machine = levels[config.machine_id_topic_segment]
    else:
        pointer = config.machine_id_pointer or ""  # the model guarantees one of the three
        found = resolve(document, pointer)
        if not isinstance(found, str):
            raise Unmappable(f"{pointer}: the machine id must be text, not {_short(found)}")
        machine = found
    if not _ID.match(machine):
        raise Unmappable(f"machine id {machine[:64]!r} is not an id (letters, digits, _ . -)")
    return machine


def _timestamp(config: MqttJsonConnector, document: Any, received: datetime) -> datetime:
    pointer = config.timestamp_pointer
    if pointer is None:
        return received
    found = resolve(document, pointer)
    if config.timestamp_format == "iso8601":
        if not isinstance(found, str):
            raise Unmappable(f"{pointer}: an ISO 8601 timestamp must be text, not {_short(found)}")
        try:
            ts = datetime.fromisoformat(found)
        except ValueError:
            raise Unmappable(f"{pointer}: {_short(found)} is not an ISO 8601 timestamp") from None
        if ts.tzinfo is None:
            raise Unmappable(f"{pointer}: {_short(found)} has no UTC offset (add Z or +01:00)")
        return ts
    seconds = _number(found, pointer)
    if config.timestamp_format == "epoch_ms":
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise Unmappable(f"{pointer}: {seconds:g} s since the epoch is not a representable time") from None


def expected_values(config: MqttJsonConnector) -> int:
    """How many sensor values one message carries when it maps."""
    return len(config.values) or 1


def map_message(config: MqttJsonConnector, topic: str, payload: bytes, received: datetime) -> list[MappedValue]:
    """The values of one message, mapped and converted; raise ``Unmappable`` saying why it cannot be (whole)."""
    if len(payload) > config.max_payload_bytes:
        raise Unmappable(f"payload of {len(payload)} bytes, more than max_payload_bytes ({config.max_payload_bytes})")
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unmappable(f"not JSON: {str(exc)[:120]}") from None
    machine = _machine(config, topic, document)
    ts = _timestamp(config, document, received)
    if config.values:
        return [
            MappedValue(machine, m.sensor, m.convert(_number(resolve(document, m.pointer), m.pointer)), ts, topic)
            for m in config.values
        ]
    sensor_pointer, value_pointer = config.sensor_pointer or "", config.value_pointer or ""  # set, by the model
    name = resolve(document, sensor_pointer)
    if not isinstance(name, str):
        raise Unmappable(f"{sensor_pointer}: the sensor name must be text, not {_short(name)}")
    conversion = config.sensors.get(name)
    if conversion is None:
        raise Unmappable(f"{sensor_pointer}: sensor name {_short(name)} is not in the connector's sensors")
    raw = _number(resolve(document, value_pointer), value_pointer)
    return [MappedValue(machine, conversion.sensor, conversion.convert(raw), ts, topic)]


class MqttJsonConnectorRuntime(Connector[MqttJsonConnector]):
    """Subscribes to the configured topic filters and maps each message (see ``map_message``)."""

    async def session(self) -> None:
        """Connect (MQTT v5, clean session), subscribe, and map messages until the connection drops."""
        config = self.config
        endpoint = MqttEndpoint.parse(config.broker_url)
        async with ClientOptions(config.effective_client_id).client(endpoint) as client:
            for topic_filter in config.topic_filters:
                await client.subscribe(topic_filter, qos=config.qos)
            self.connected()
            async for message in client.messages:
                self.handle(str(message.topic), payload_bytes(message))

    def handle(self, topic: str, payload: bytes) -> None:
        """Map one message and queue its values, or count it as unmapped."""
        try:
            values = map_message(self.config, topic, payload, self.clock())
        except Unmappable as exc:
            self.unmapped(topic, str(exc), count=expected_values(self.config))
            return
        self.emit(values)


__all__ = ["MqttJsonConnectorRuntime", "Unmappable", "expected_values", "map_message", "resolve"]
