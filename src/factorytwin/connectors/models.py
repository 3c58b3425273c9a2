"""Connector configurations: pydantic models, one per protocol, told apart by ``kind``.

``parse_connector(data)`` validates any of them (a discriminated union on ``kind``: ``opcua``, ``modbus``,
``mqtt_json``). Every rule names the field it is about: pydantic's own errors carry the path (``loc``), and the
rules across fields start their message with the field's name. ``check_targets`` checks a valid configuration
against the factory (every mapped machine exists and has the mapped sensor), naming the mapping by its path.

Every protocol maps a source value to a ``ValueTarget``: a machine id, a sensor key, and a linear conversion to
the catalogue's unit (``value * scale + offset``; e.g. degrees Celsius to kelvin is ``scale 1, offset 273.15``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from factorytwin.connectors.decode import DataType, Table, WordOrder, register_count
from factorytwin.domain import ID_PATTERN, Machine, MachineId
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.profiles.registry import ProfileRegistry

ConnectorId = Annotated[str, Field(pattern=ID_PATTERN, description="connector id: letters, digits, _ . -")]
SensorKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="a sensor key of the catalogue")]
CommandName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

# OPC UA node ids in their string form (OPC 10000-6 5.3.1.10): ns=2;i=5, ns=2;s=Pump1.Flow, nsu=urn:x;s=a, i=2258.
_GUID = r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
_NODE_ID = re.compile(rf"^(ns=\d{{1,5}};|nsu=[^;]+;)?(i=\d{{1,10}}|s=.+|g={_GUID}|b=.+)$")


def _node_id(value: str) -> str:
    if not _NODE_ID.match(value):
        raise ValueError(f"{value!r} is not an OPC UA node id such as 'ns=2;i=5' or 'ns=2;s=Pump1.Flow'")
    return value


NodeIdText = Annotated[str, AfterValidator(_node_id)]


def _json_pointer(value: str) -> str:
    # RFC 6901: "" is the whole document; otherwise "/"-separated tokens where "~" only appears as ~0 or ~1.
    if value and not value.startswith("/"):
        raise ValueError(f"{value!r} is not a JSON pointer: it must be empty or start with '/' (e.g. '/data/temp')")
    if re.search(r"~(?![01])", value):
        raise ValueError(f"{value!r}: '~' in a JSON pointer must be written ~0 (and '/' in a key as ~1)")
    return value


JsonPointer = Annotated[str, AfterValidator(_json_pointer), Field(description="RFC 6901 JSON pointer, e.g. /d/temp")]


def _topic_filter(value: str) -> str:
    levels = value.split("/")
    if not value or "\x00" in value:
        raise ValueError("a topic filter must be non-empty text without NUL")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise ValueError(f"{value!r}: '#' must be a whole level and the last one")
        if "+" in level and level != "+":
            raise ValueError(f"{value!r}: '+' must be a whole level")
    return value


TopicFilter = Annotated[str, AfterValidator(_topic_filter), Field(max_length=512)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackoffConfig(_Config):
    """Reconnect back-off: ``initial_s``, doubling after each failure, never more than ``max_s``."""

    initial_s: float = Field(default=0.5, gt=0, le=3600)
    max_s: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max_s < self.initial_s:
            raise ValueError(f"max_s: {self.max_s:g} s is below initial_s ({self.initial_s:g} s)")
        return self


class SensorConversion(_Config):
    """A sensor key and the linear conversion of a source value to the catalogue's unit: ``value * scale + offset``."""

    sensor: SensorKey
    scale: FiniteFloat = 1.0
    offset: FiniteFloat = 0.0

    def convert(self, raw: float) -> float:
        """``raw`` in the catalogue's unit."""
        return raw * self.scale + self.offset


class ValueTarget(SensorConversion):
    """Where a source value goes: machine, sensor, and the conversion to the sensor's unit."""

    machine_id: MachineId


def _no_duplicate_targets(items: Iterable[SensorConversion], field: str) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, target in enumerate(items):
        machine = getattr(target, "machine_id", "")
        key = (machine, target.sensor)
        if key in seen:
            what = f"{machine}/{target.sensor}" if machine else target.sensor
            raise ValueError(f"{field}.{i}: {what} is already mapped by {field}.{seen[key]}")
        seen[key] = i


# --- OPC UA ------------------------------------------------------------------------------------------------------

VariantTypeName = Literal[
    "Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float", "Double", "String"
]


class OpcUaNodeMapping(ValueTarget):
    """A variable node whose data changes are the values of one sensor."""

    node_id: NodeIdText


class OpcUaMethodCommand(_Config):
    """A command carried out by calling a method (``method_node_id``) on an object (``object_node_id``)."""

    kind: Literal["method"]
    object_node_id: NodeIdText
    method_node_id: NodeIdText
    arg_types: list[VariantTypeName] = Field(
        default_factory=list, description="OPC UA type of each argument, in order (e.g. Double); untyped if empty"
    )


class OpcUaWriteCommand(_Config):
    """A command carried out by writing its one argument to a variable node."""

    kind: Literal["write"]
    node_id: NodeIdText
    data_type: VariantTypeName = "Double"


OpcUaCommand = Annotated[OpcUaMethodCommand | OpcUaWriteCommand, Field(discriminator="kind")]


class OpcUaSecurity(_Config):
    """Message security: none, or Basic256Sha256 signing (and encrypting) with the client's certificate.

    ``server_certificate`` pins the server's certificate; without it the endpoint's own certificate is taken on
    first contact. ``application_uri`` must equal the URI in the client certificate's subject alternative name.
    """

    policy: Literal["None", "Basic256Sha256"] = "None"
    mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    client_certificate: Path | None = None
    client_private_key: Path | None = None
    server_certificate: Path | None = None
    application_uri: str = Field(default="urn:factorytwin:connector", min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.policy == "None":
            if self.mode != "None":
                raise ValueError(f"mode: {self.mode} needs a security policy (policy: Basic256Sha256)")
            return self
        if self.mode == "None":
            raise ValueError(f"mode: policy {self.policy} needs mode Sign or SignAndEncrypt")
        if self.client_certificate is None:
            raise ValueError(f"client_certificate: policy {self.policy} needs the client's certificate (DER or PEM)")
        if self.client_private_key is None:
            raise ValueError(f"client_private_key: policy {self.policy} needs the client's private key (PEM)")
        return self


class OpcUaConnector(_Config):
    """An OPC UA client: subscribes to data changes of the mapped nodes; commands call methods or write nodes."""

    kind: Literal["opcua"]
    id: ConnectorId
    endpoint: str = Field(pattern=r"^opc\.tcp://[^\s/]+(/\S*)?$", description="e.g. opc.tcp://plc1:4840/server/")
    security: OpcUaSecurity = Field(default_factory=OpcUaSecurity)
    username: str | None = Field(default=None, min_length=1)
    password: SecretStr | None = None
    publishing_interval_ms: int = Field(default=500, ge=10, le=60_000)
    source_timestamps: bool = Field(default=True, description="use the device's timestamp (else the arrival time)")
    timeout_s: float = Field(default=4.0, gt=0, le=120)
    mappings: list[OpcUaNodeMapping] = Field(min_length=1)
    commands: dict[CommandName, OpcUaCommand] = Field(default_factory=dict)
    backoff: BackoffConfig = Field(default_factory=BackoffConfig)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError("username: a password needs a username")
        nodes: dict[str, int] = {}
        for i, m in enumerate(self.mappings):
            if m.node_id in nodes:
                raise ValueError(f"mappings.{i}.node_id: {m.node_id} is already mapped by mappings.{nodes[m.node_id]}")
            nodes[m.node_id] = i
        _no_duplicate_targets(self.mappings, "mappings")
        return self


# --- Modbus TCP --------------------------------------------------------------------------------------------------


class ModbusRegister(ValueTarget):
    """One sensor read from registers: ``address`` (0-based, as on the wire), table, type and word order."""

    address: int = Field(ge=0, le=0xFFFF)
    table: Table = "holding"
    data_type: DataType = "uint16"
    word_order: WordOrder = "big"

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.address + register_count(self.data_type) - 1 > 0xFFFF:
            raise ValueError(f"address: a {self.data_type} at {self.address} runs past register 65535")
        return self


class ModbusConnector(_Config):
    """A Modbus TCP client polling the mapped registers of one unit every ``poll_interval_s``."""

    kind: Literal["modbus"]
    id: ConnectorId
    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255, description="the Modbus unit (slave/device) id")
    poll_interval_s: float = Field(default=1.0, ge=0.05, le=3600)
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    registers: list[ModbusRegister] = Field(min_length=1)
    backoff: BackoffConfig = Field(default_factory=BackoffConfig)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _no_duplicate_targets(self.registers, "registers")
        return self


# --- mapped MQTT JSON --------------------------------------------------------------------------------------------


class MqttValueMapping(SensorConversion):
    """A value at a fixed place of the payload (``pointer``) that is one sensor."""

    pointer: JsonPointer


class MqttJsonConnector(_Config):
    """An MQTT subscriber for JSON payloads that are not factorytwin's own format, mapped by JSON pointers.

    The machine is ``machine_id`` (static), the topic level ``machine_id_topic_segment`` (0-based), or the text at
    ``machine_id_pointer`` (exactly one of them). The values are either ``values`` (fixed pointers, one sensor
    each) or one name/value pair per message (``sensor_pointer`` + ``value_pointer``, the name looked up in
    ``sensors``). The time is at ``timestamp_pointer`` (ISO 8601 with an offset, or epoch seconds/milliseconds);
    without one, the arrival time.
    """

    kind: Literal["mqtt_json"]
    id: ConnectorId
    broker_url: str = Field(pattern=r"^(mqtt|tcp)://\S+$", description="mqtt://[user[:password]@]host[:port]")
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    topic_filters: list[TopicFilter] = Field(min_length=1)
    qos: Literal[0, 1] = 1
    machine_id: MachineId | None = None
    machine_id_topic_segment: int | None = Field(default=None, ge=0, le=64)
    machine_id_pointer: JsonPointer | None = None
    values: list[MqttValueMapping] = Field(default_factory=list)
    sensor_pointer: JsonPointer | None = None
    value_pointer: JsonPointer | None = None
    sensors: dict[str, SensorConversion] = Field(default_factory=dict)
    timestamp_pointer: JsonPointer | None = None
    timestamp_format: Literal["iso8601", "epoch_s", "epoch_ms"] = "iso8601"
    max_payload_bytes: int = Field(default=65_536, ge=16, le=16 * 1024 * 1024)
    backoff: BackoffConfig = Field(default_factory=BackoffConfig)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sources = [
            name
            for name in ("machine_id", "machine_id_topic_segment", "machine_id_pointer")
            if getattr(self, name) is not None
        ]
        if len(sources) != 1:
            found = ", ".join(sources) or "none"
            raise ValueError(
                "machine_id: give exactly one of machine_id, machine_id_topic_segment, machine_id_pointer "
                f"(found: {found})"
            )
        if self.machine_id_topic_segment is not None:
            self._check_segment(self.machine_id_topic_segment)
        pair = self.sensor_pointer is not None or self.value_pointer is not None or bool(self.sensors)
        if self.values and pair:
            raise ValueError("values: give either values, or sensor_pointer + value_pointer + sensors, not both")
        if not self.values:
            if not pair:
                raise ValueError("values: map at least one value (values, or sensor_pointer + value_pointer + sensors)")
            for name in ("sensor_pointer", "value_pointer", "sensors"):
                if not getattr(self, name):
                    raise ValueError(f"{name}: sensor_pointer, value_pointer and sensors go together")
        _no_duplicate_targets(self.values, "values")
        return self

    def _check_segment(self, index: int) -> None:
        for f in self.topic_filters:
            levels = f.split("/")
            if "#" in levels and index >= levels.index("#"):
                continue
            if index >= len(levels):
                raise ValueError(f"machine_id_topic_segment: topic filter {f!r} has no level {index} (0-based)")
            if levels[index] != "+":
                raise ValueError(
                    f"machine_id_topic_segment: level {index} of topic filter {f!r} is {levels[index]!r}, "
                    "not a wildcard (+): every message would name the same machine"
                )

    @property
    def effective_client_id(self) -> str:
        """The MQTT client id: ``client_id``, or one made from the connector id."""
        return self.client_id or f"factorytwin-conn-{self.id}"[:64]


ConnectorConfig = Annotated[OpcUaConnector | ModbusConnector | MqttJsonConnector, Field(discriminator="kind")]
CONNECTOR_CONFIG: TypeAdapter[ConnectorConfig] = TypeAdapter(ConnectorConfig)


def parse_connector(data: Any) -> ConnectorConfig:
    """Validate a connector configuration (a dict, e.g. from JSON or YAML).

    Raises ``InvalidInput`` whose problems are located by field path within the configuration (``kind`` for an
    unknown kind, ``registers.0.address``, ``security.client_certificate`` for a rule across fields, ...).
    """
    try:
        return CONNECTOR_CONFIG.validate_python(data)
    except ValidationError as exc:
        raise InvalidInput(config_problems(exc)) from None


_RULE = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_]*(?:\.[A-Za-z0-9_\-]+)*): (.*)$", re.DOTALL)


def config_problems(exc: ValidationError) -> list[FieldProblem]:
    """``exc`` as problems located within one configuration: the kind's tag dropped from the path, and a rule
    across fields (whose message starts with ``field.path:``) located at that field."""
    problems: list[FieldProblem] = []
    for err in exc.errors():
        loc: tuple[str | int, ...] = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = ("kind",)
        elif loc and loc[0] in _KINDS:
            loc = loc[1:]
        if err["type"] == "value_error" and (rule := _RULE.match(msg)):
            parts = [int(p) if p.isdigit() else p for p in rule.group(1).split(".")]
            loc, msg = (*loc, *parts), rule.group(2)
        shown = None if "password" in loc else _shown(err.get("input"))
        problems.append(FieldProblem(loc, msg, shown))
    return problems


_KINDS = frozenset({"opcua", "modbus", "mqtt_json"})


def _shown(value: object) -> object:
    # The offending value, as the API would echo it: plain scalars only (never a whole sub-document or a secret).
    return value if isinstance(value, str | int | float | bool) else None


def targets(config: ConnectorConfig) -> Iterator[tuple[tuple[str | int, ...], str | None, str]]:
    """Every (path, machine id or None when it comes from the message, sensor key) that ``config`` maps to."""
    if isinstance(config, OpcUaConnector):
        for i, m in enumerate(config.mappings):
            yield ("mappings", i), m.machine_id, m.sensor
    elif isinstance(config, ModbusConnector):
        for i, r in enumerate(config.registers):
            yield ("registers", i), r.machine_id, r.sensor
    else:
        for i, v in enumerate(config.values):
            yield ("values", i), config.machine_id, v.sensor
        for name, s in config.sensors.items():
            yield ("sensors", name), config.machine_id, s.sensor


def machine_sensors(machines: Iterable[Machine], registry: ProfileRegistry | None = None) -> dict[str, frozenset[str]]:
    """Machine id -> its sensor keys (its profile's, from ``registry``: the bundled profiles by default), for
    ``check_targets``."""
    return (registry or ProfileRegistry.bundled()).known_sensors(machines)


def check_targets(config: ConnectorConfig, known: Mapping[str, Collection[str]]) -> list[FieldProblem]:
    """Problems of ``config`` against the factory: unknown machines, sensors the machine does not have.

    ``known`` is machine id -> sensor keys (see ``machine_sensors``). A machine named by the message (a topic level
    or a JSON pointer) is only known at run time: then the sensor must belong to at least one machine.
    """
    problems: list[FieldProblem] = []
    every_sensor = frozenset(s for keys in known.values() for s in keys)
    for path, machine_id, sensor in targets(config):
        if machine_id is None:
            if sensor not in every_sensor:
                problems.append(FieldProblem((*path, "sensor"), f"no machine has a sensor {sensor!r}", sensor))
            continue
        sensors = known.get(machine_id)
        if sensors is None:
            loc = (*path, "machine_id") if not isinstance(config, MqttJsonConnector) else ("machine_id",)
            problems.append(FieldProblem(loc, f"unknown machine {machine_id!r}: it is not in the factory", machine_id))
        elif sensor not in sensors:
            problems.append(FieldProblem((*path, "sensor"), f"machine {machine_id!r} has no sensor {sensor!r}", sensor))
    return problems


__all__ = [
    "CONNECTOR_CONFIG",
    "BackoffConfig",
    "ConnectorConfig",
    "ModbusConnector",
    "ModbusRegister",
    "MqttJsonConnector",
    "MqttValueMapping",
    "OpcUaCommand",
    "OpcUaConnector",
    "OpcUaMethodCommand",
    "OpcUaNodeMapping",
    "OpcUaSecurity",
    "OpcUaWriteCommand",
    "SensorConversion",
    "ValueTarget",
    "check_targets",
    "config_problems",
    "machine_sensors",
    "parse_connector",
    "targets",
]
