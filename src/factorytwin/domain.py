"""The shared vocabulary of factorytwin: machine kinds, the sensor catalogue, machines, readings, events.

This module imports nothing of ours. The sensor catalogue (``CATALOGUE``) is the simulator's:
the sensors its physics produces for each ``MachineKind``. Everything else (ingest validation, the live twin and its
alarm rules, exports, the dashboard) reads a machine's sensors from its *profile* (``factorytwin.profiles``); the
seven bundled profiles are kept equal to this catalogue by a test.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictFloat,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
MachineId = Annotated[str, Field(pattern=ID_PATTERN, description="machine id: letters, digits, _ . -")]

# --- text and JSON that every store can hold -------------------------------------------------------------------
# PostgreSQL text (and JSONB) cannot hold NUL, and UTF-8 cannot encode a lone surrogate (json.loads, as MQTT
# ingest uses, lets "\ud800" through). Such text is refused at the boundary, naming the field, instead of failing
# in the store (a 500 over REST, an endless retry over MQTT).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_EVENT_MESSAGE_CHARS = 2000
"""Longest event ``message``."""
MAX_EVENT_DATA_BYTES = 8192
"""Largest event ``data``, as compact JSON in UTF-8."""
MAX_JSON_DEPTH = 16
"""Deepest nesting of objects and arrays in event ``data`` and machine ``metadata``."""


def unstorable_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a NUL or a lone surrogate in it), or None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    what = "NUL (\\u0000)" if found.group() == "\x00" else f"a lone surrogate (\\u{ord(found.group()):04x})"
    return f"text must not contain {what}; found at character {found.start()}"


def _storable_text(value: str) -> str:
    problem = unstorable_text(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def unstorable_json(value: object, max_bytes: int = MAX_EVENT_DATA_BYTES) -> str | None:
    """Why ``value`` cannot be stored as a JSON document (non-JSON types, non-finite numbers, unstorable text in a
    key or string, nesting deeper than ``MAX_JSON_DEPTH``, more than ``max_bytes`` as JSON), or None when it can."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:  # iterative: a deeply nested value cannot exhaust the interpreter's stack
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return f"object keys must be strings, not {type(key).__name__}"
                    if (problem := unstorable_text(key)) is not None:
                        return f"key {key[:40]!r}: {problem}"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if (problem := unstorable_text(item)) is not None:
                return problem
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "numbers must be finite (no NaN or Infinity)"
        elif item is not None and not isinstance(item, bool | int):
            return f"{type(item).__name__} is not a JSON value"
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_bytes:
        return f"{size} bytes as JSON, more than the limit of {max_bytes}"
    return None


def _storable_data(value: dict[str, Any]) -> dict[str, Any]:
    problem = unstorable_json(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _storable_metadata(value: dict[str, Any]) -> dict[str, Any]:
    problem = unstorable_json(value, max_bytes=64 * 1024)
    if problem is not None:
        raise ValueError(problem)
    return value


STORABLE_TEXT_PATTERN = "^[^\\u0000]*$"
"""The NUL rule of ``Text`` as a JSON Schema pattern, so clients and fuzzers know it (the validator gives the
message, and refuses lone surrogates too: a pattern cannot name them portably, e.g. Rust's regex has no surrogates,
and JSON text from a well-behaved client never carries one)."""


@dataclass(frozen=True, slots=True)
class _SchemaPattern:
    """Annotation that states a string rule as a JSON Schema ``pattern`` without pydantic enforcing the regex."""

    pattern: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


Text = Annotated[str, AfterValidator(_storable_text), _SchemaPattern(STORABLE_TEXT_PATTERN)]
"""A string every store can hold: no NUL, no lone surrogate (refused with a message naming the character)."""
EventData = Annotated[dict[str, Any], AfterValidator(_storable_data)]
"""An event's structured data: JSON only, finite numbers, storable text, bounded depth and size."""


def _iso_only(value: object) -> object:
    # pydantic reads "0.5" or 1e9 as seconds since the epoch; a query time is an ISO 8601 string.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMERIC.match(value)):
        raise ValueError("expected an ISO 8601 date-time such as 2026-03-01T12:00:00Z, not a number")
    return value


_NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
"""A date-time given as ISO 8601 text only (for query parameters: ``?to=0.5`` is refused, not read as 1970)."""


class MachineKind(StrEnum):
    """The kinds of machine factorytwin's simulator has physics for; each is also a bundled profile of that id.

    Outside the simulator nothing uses this enum: a machine names its profile (``Machine.profile``), a string.
    """

    CNC_MILL = "cnc_mill"
    LATHE = "lathe"
    HYDRAULIC_PRESS = "hydraulic_press"
    PUMP = "pump"
    AIR_COMPRESSOR = "air_compressor"
    CONVEYOR = "conveyor"
    ROBOT_ARM = "robot_arm"


@dataclass(frozen=True, kw_only=True, slots=True)
class SensorSpec:
    """One sensor of a machine kind.

    ``low``/``high`` is the physical range: a value outside it cannot be a real measurement and ingest refuses it.
    ``normal_low``/``normal_high`` is the normal operating band: outside it the twin raises an alarm.
    ``max_rate`` (unit per second), when set, bounds a plausible rate of change; faster is alarmed.
    """

    key: str
    label: str
    unit: str
    low: float
    high: float
    normal_low: float
    normal_high: float
    max_rate: float | None = None
    activity: bool = False
    """This sensor tells whether the machine is working (its profile's activity sensor)."""
    setpoint_exponent: float | None = None
    """How the normal band follows the speed setpoint fraction ``s``: each edge ``e`` becomes
    ``setpoint_static + (e - setpoint_static) * s**setpoint_exponent``; None: the band stands at any setpoint."""
    setpoint_static: float = 0.0

    def __post_init__(self) -> None:
        if not (self.low <= self.normal_low < self.normal_high <= self.high):
            raise ValueError(f"sensor {self.key}: need low <= normal_low < normal_high <= high")


def _s(
    key: str,
    label: str,
    unit: str,
    physical: tuple[float, float],
    normal: tuple[float, float],
    max_rate: float | None = None,
    *,
    activity: bool = False,
    setpoint: tuple[float, float] | None = None,
) -> SensorSpec:
    return SensorSpec(
        key=key,
        label=label,
        unit=unit,
        low=physical[0],
        high=physical[1],
        normal_low=normal[0],
        normal_high=normal[1],
        max_rate=max_rate,
        activity=activity,
        setpoint_exponent=setpoint[0] if setpoint else None,
        setpoint_static=setpoint[1] if setpoint else 0.0,
    )


# Shared sensors. Temperatures are kelvin throughout (as in AI4I 2020); vibration is velocity RMS in mm/s, whose
# normal band ends at 4.5 mm/s, the ISO 10816-3 zone B/C boundary for medium machines on rigid foundations.
_AIR = _s("air_temp", "Air temperature", "K", (223.15, 333.15), (293.0, 306.0), max_rate=0.5)
_VIB = _s("vibration", "Vibration RMS", "mm/s", (0.0, 100.0), (0.0, 4.5))
# Bands that follow the speed setpoint: (exponent, static part). A CNC override scales spindle speed and feed
# together (torque stays; power would scale but is also the mill's power-failure limit, so it stands); an air
# compressor's drive follows the air demand, capped by the setpoint, so its bands stand.
_N = (1.0, 0.0)

CATALOGUE: dict[MachineKind, tuple[SensorSpec, ...]] = {
    MachineKind.CNC_MILL: (
        _AIR,
        _s("process_temp", "Process temperature", "K", (223.15, 473.15), (303.0, 316.0), max_rate=2.0),
        _s("spindle_speed", "Spindle speed", "rpm", (0.0, 6000.0), (1150.0, 2900.0), activity=True, setpoint=_N),
        _s("torque", "Torque", "Nm", (0.0, 200.0), (3.0, 65.0)),
        _s("power", "Spindle power", "kW", (0.0, 60.0), (3.5, 9.0)),
        _s("tool_wear", "Tool wear", "min", (0.0, 400.0), (0.0, 200.0)),
        _VIB,
        _s("motor_current", "Motor current", "A", (0.0, 200.0), (4.0, 45.0)),
    ),
    MachineKind.LATHE: (
        _AIR,
        _s("process_temp", "Process temperature", "K", (223.15, 473.15), (303.0, 318.0), max_rate=2.0),
        _s("spindle_speed", "Spindle speed", "rpm", (0.0, 5000.0), (800.0, 2600.0), activity=True, setpoint=_N),
        _s("torque", "Torque", "Nm", (0.0, 300.0), (5.0, 80.0)),
        _s("power", "Spindle power", "kW", (0.0, 80.0), (3.0, 12.0)),
        _s("tool_wear", "Tool wear", "min", (0.0, 400.0), (0.0, 200.0)),
        _VIB,
        _s("motor_current", "Motor current", "A", (0.0, 250.0), (4.0, 55.0)),
    ),
    MachineKind.HYDRAULIC_PRESS: (
        _AIR,
        _s("oil_temp", "Hydraulic oil temperature", "K", (223.15, 423.15), (303.0, 333.0), max_rate=1.0),
        _s("hydraulic_pressure", "Hydraulic pressure", "bar", (0.0, 400.0), (150.0, 260.0)),
        _s("ram_force", "Ram force", "kN", (0.0, 6000.0), (400.0, 2200.0)),
        _s("stroke_rate", "Stroke rate", "1/min", (0.0, 60.0), (8.0, 30.0), activity=True, setpoint=_N),
        _s("seal_wear", "Seal wear", "%", (0.0, 100.0), (0.0, 70.0)),
        _VIB,
        _s("motor_current", "Motor current", "A", (0.0, 400.0), (20.0, 140.0)),
    ),
    MachineKind.PUMP: (
        _AIR,
        _s("inlet_pressure", "Inlet pressure", "bar", (-1.0, 10.0), (0.5, 3.0)),
        # Affinity laws: the outlet pressure is the suction side's (about 2 bar) plus a head ~ n^2; flow ~ n.
        _s("outlet_pressure", "Outlet pressure", "bar", (0.0, 40.0), (4.0, 10.0), setpoint=(2.0, 2.0)),
        _s("flow_rate", "Flow rate", "m3/h", (0.0, 500.0), (40.0, 130.0), setpoint=_N),
        _s("motor_speed", "Motor speed", "rpm", (0.0, 3600.0), (1400.0, 3000.0), activity=True, setpoint=_N),
        _s("bearing_temp", "Bearing temperature", "K", (223.15, 423.15), (298.0, 348.0), max_rate=1.0),
        _VIB,
        # The no-load current (5 A) plus a share ~ shaft power ~ n^3.
        _s("motor_current", "Motor current", "A", (0.0, 200.0), (10.0, 65.0), setpoint=(3.0, 5.0)),
    ),
    MachineKind.AIR_COMPRESSOR: (
        _AIR,
        _s("discharge_pressure", "Discharge pressure", "bar", (0.0, 16.0), (6.0, 9.5)),
        _s("discharge_temp", "Discharge temperature", "K", (223.15, 473.15), (320.0, 375.0), max_rate=2.0),
        _s("oil_temp", "Oil temperature", "K", (223.15, 423.15), (318.0, 363.0), max_rate=1.0),
        _s("motor_speed", "Motor speed", "rpm", (0.0, 4000.0), (1400.0, 3000.0), activity=True),
        _VIB,
        _s("motor_current", "Motor current", "A", (0.0, 300.0), (20.0, 110.0)),
    ),
    MachineKind.CONVEYOR: (
        _AIR,
        _s("belt_speed", "Belt speed", "m/s", (0.0, 5.0), (0.4, 2.0), activity=True, setpoint=_N),
        _s("load", "Load on belt", "kg", (0.0, 3000.0), (0.0, 1200.0)),
        _s("motor_temp", "Motor temperature", "K", (223.15, 423.15), (293.0, 350.0), max_rate=1.0),
        _VIB,
        _s("motor_current", "Motor current", "A", (0.0, 100.0), (2.0, 22.0)),
    ),
    MachineKind.ROBOT_ARM: (
        _AIR,
        _s("joint_temp", "Joint temperature", "K", (223.15, 423.15), (293.0, 340.0), max_rate=1.0),
        _s("joint_torque", "Joint torque", "Nm", (0.0, 1000.0), (10.0, 320.0)),
        _s("cycle_time", "Cycle time", "s", (0.0, 600.0), (15.0, 65.0), setpoint=(-1.0, 0.0)),
        _s("position_error", "Position error", "mm", (0.0, 50.0), (0.0, 0.5)),
        _VIB,
        _s("motor_current", "Motor current", "A", (0.0, 100.0), (1.0, 25.0), activity=True),
    ),
}


def sensor_specs(kind: MachineKind) -> dict[str, SensorSpec]:
    """The sensors of ``kind`` keyed by sensor key, in catalogue order."""
    return {spec.key: spec for spec in CATALOGUE[kind]}


ACTIVITY_SENSOR: dict[MachineKind, str] = {
    kind: next(spec.key for spec in specs if spec.activity) for kind, specs in CATALOGUE.items()
}
"""The sensor that tells whether a simulated machine of a kind is working (its bundled profile's activity sensor)."""


def all_sensor_keys() -> list[str]:
    """Every sensor key of every kind, each once, in catalogue order (the store's sensor dictionary)."""
    seen: dict[str, None] = {}
    for specs in CATALOGUE.values():
        for spec in specs:
            seen.setdefault(spec.key, None)
    return list(seen)


class MachineStatus(StrEnum):
    """What a machine is doing, as the twin sees it."""

    RUNNING = "running"
    IDLE = "idle"
    STOPPED = "stopped"
    FAILED = "failed"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"


class FailureMode(StrEnum):
    """Failure mechanisms, after the AI4I 2020 data set, plus bearing failure and the mechanisms of other kinds."""

    TOOL_WEAR = "tool_wear"  # TWF
    HEAT_DISSIPATION = "heat_dissipation"  # HDF
    POWER = "power"  # PWF
    OVERSTRAIN = "overstrain"  # OSF
    RANDOM = "random"  # RNF
    BEARING = "bearing"
    # Mechanisms of the other machine kinds (presses, pumps, compressors, conveyors, robots).
    SEAL_WEAR = "seal_wear"
    OVERPRESSURE = "overpressure"
    OVERHEATING = "overheating"
    CAVITATION = "cavitation"
    BELT_WEAR = "belt_wear"
    JOINT_WEAR = "joint_wear"


def simulated_kind(profile_id: str) -> MachineKind | None:
    """The simulator's kind for a profile id (the bundled profiles of the seven kinds), or None: no physics."""
    try:
        return MachineKind(profile_id)
    except ValueError:
        return None


class BandOverride(BaseModel):
    """A machine's own normal band for one sensor (e.g. a pump rated for another pressure)."""

    model_config = ConfigDict(extra="forbid")

    normal_low: StrictFloat = Field(allow_inf_nan=False)
    normal_high: StrictFloat = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> BandOverride:
        if not self.normal_low < self.normal_high:
            raise ValueError(f"normal_high ({self.normal_high:g}) must be above normal_low ({self.normal_low:g})")
        return self


class Machine(BaseModel):
    """A machine on the floor: identity, profile, production line, position (metres, degrees), band overrides.

    ``profile`` names a machine profile (``GET /profiles``); a layout file may still say ``kind`` for it.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: MachineId
    name: Text = Field(min_length=1, max_length=120)
    profile: str = Field(
        pattern=ID_PATTERN,
        validation_alias=AliasChoices("profile", "kind"),
        description="id of the machine's profile (its sensors, bands, commands, appearance)",
    )
    line: Text = Field(min_length=1, max_length=64)
    x: StrictFloat = Field(allow_inf_nan=False, description="floor position east, metres")
    y: StrictFloat = Field(allow_inf_nan=False, description="floor position north, metres")
    rotation: StrictFloat = Field(default=0.0, allow_inf_nan=False, description="heading, degrees counter-clockwise")
    metadata: Annotated[dict[str, Any], AfterValidator(_storable_metadata)] = Field(default_factory=dict)
    bands: dict[str, BandOverride] = Field(
        default_factory=dict, description="sensor key -> this machine's own normal band (overrides the profile's)"
    )


def kind_of(machine: Machine) -> MachineKind:
    """The simulator's kind of a machine; ``ValueError`` naming it when its profile has no physics."""
    kind = simulated_kind(machine.profile)
    if kind is None:
        kinds = ", ".join(k.value for k in MachineKind)
        raise ValueError(
            f"machine {machine.id}: the simulator has no physics for profile {machine.profile!r} ({kinds})"
        )
    return kind


SpecsOf = Callable[[Machine], dict[str, SensorSpec]]
"""Given a machine, its sensors by key: its profile's, with the machine's band overrides applied."""


class ProductionLine(BaseModel):
    """A production line: a named group of machines, drawn as a marked lane on the floor."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)


class FactoryLayout(BaseModel):
    """A whole factory: its floor size, lines and machines."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    floor_width: float = Field(default=60.0, gt=0, description="metres, x axis")
    floor_depth: float = Field(default=40.0, gt=0, description="metres, y axis")
    lines: list[ProductionLine]
    machines: list[Machine] = Field(description="may be empty: machines are also provisioned live")

    def simulated(self) -> FactoryLayout:
        """This layout with only the machines the simulator has physics for (the seven bundled kinds); the others
        are real machines, fed by connectors or gateways."""
        machines = [m for m in self.machines if simulated_kind(m.profile) is not None]
        return self if len(machines) == len(self.machines) else self.model_copy(update={"machines": machines})


class ReadingSet(BaseModel):
    """The values one machine reported at one instant: the unit of the telemetry wire format."""

    model_config = ConfigDict(extra="forbid")

    machine_id: MachineId
    ts: AwareDatetime = Field(description="measurement time, ISO 8601 with a UTC offset")
    # Strict: "41.5" and true are refused, not coerced (a sender that quotes its numbers has a bug worth seeing).
    # Keys need no text check here: ingest refuses every key that is not in the catalogue, by name.
    values: dict[str, StrictFloat] = Field(
        min_length=1, description="sensor key -> value in the catalogue's unit (a JSON number)"
    )


class EventKind(StrEnum):
    """What an entry of a machine's event log records."""

    STATUS = "status"
    FAULT = "fault"
    MAINTENANCE = "maintenance"
    COMMAND = "command"
    ALARM = "alarm"
    NOTE = "note"
    PRODUCTION = "production"  # parts made since the last report: data.parts_total, data.parts_bad (see KPIS.md)
    CONFIG = "config"  # the plant changed: a machine created, updated or deleted (data.op, data.by, data.machine)


class Event(BaseModel):
    """One entry of a machine's status/event log."""

    id: int | None = None
    machine_id: MachineId
    ts: AwareDatetime
    kind: EventKind
    status: MachineStatus | None = None
    message: Text = Field(default="", max_length=MAX_EVENT_MESSAGE_CHARS)
    data: EventData = Field(
        default_factory=dict,
        description=f"JSON object of at most {MAX_EVENT_DATA_BYTES} bytes, {MAX_JSON_DEPTH} levels deep",
    )


class TelemetryBatch(BaseModel):
    """Many reading sets (and status events), of many machines and instants, stored all-or-nothing."""

    model_config = ConfigDict(extra="forbid")

    readings: list[ReadingSet] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list, description="status changes, faults, repairs")

    @model_validator(mode="after")
    def _not_empty(self) -> TelemetryBatch:
        if not self.readings and not self.events:
            raise ValueError("a batch needs at least one reading set or event")
        return self


class AlarmSeverity(StrEnum):
    """Alarm severities, most severe first (ThingsBoard's scale)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class AlarmState(StrEnum):
    """Alarm lifecycle: active and unacknowledged, acknowledged, cleared (either way)."""

    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    CLEARED_UNACK = "cleared_unack"
    CLEARED_ACK = "cleared_ack"


MAX_ALARM_COMMENT_CHARS = 1000
MAX_ALARM_COMMENTS = 100
"""Comments kept on one alarm (the oldest give way)."""


class AlarmComment(BaseModel):
    """A note an operator wrote on an alarm."""

    at: datetime
    by: Text = Field(max_length=64)
    text: Text = Field(min_length=1, max_length=MAX_ALARM_COMMENT_CHARS)


class Alarm(BaseModel):
    """An alarm on a machine; one per (machine, type) while active.

    A shelved alarm (``shelved_until`` in the future) stays active and keeps being judged, but is set aside: it
    does not count in the machine's health and the console shows it apart, until the shelf expires.
    """

    id: int | None = None
    machine_id: MachineId
    type: Text = Field(description="rule that raised it, e.g. 'high:process_temp' or 'offline'")
    severity: AlarmSeverity
    state: AlarmState
    message: Text
    sensor: Text | None = None
    value: float | None = None
    raised_at: datetime
    updated_at: datetime
    acked_at: datetime | None = None
    acked_by: Text | None = None
    cleared_at: datetime | None = None
    cleared_by: Text | None = None
    shelved_until: datetime | None = Field(default=None, description="set aside until then (expiry of the shelf)")
    shelved_by: Text | None = None
    shelve_reason: Text | None = None
    comments: list[AlarmComment] = Field(default_factory=list, description="operators' notes, oldest first")


class CommandKind(StrEnum):
    """What the twin can tell a machine to do."""

    SET_SPEED = "set_speed"
    STOP = "stop"
    START = "start"
    MAINTAIN = "maintain"


class Command(BaseModel):
    """A command to a machine. ``speed_pct`` (percent of nominal speed, 0-120) only with ``set_speed``."""

    # The rule of the validator below, in the JSON Schema too (so generated clients and fuzzers know it).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"command": {"const": "set_speed"}}, "required": ["command"]},
            "then": {"required": ["speed_pct"], "properties": {"speed_pct": {"type": "number"}}},
            "else": {"properties": {"speed_pct": {"type": "null"}}},
        },
    )

    command: CommandKind
    speed_pct: StrictFloat | None = Field(default=None, ge=0.0, le=120.0)
    issued_by: Text = Field(default="operator", max_length=64)

    @model_validator(mode="after")
    def _speed_only_with_set_speed(self) -> Command:
        if self.command is CommandKind.SET_SPEED and self.speed_pct is None:
            raise ValueError("set_speed needs speed_pct (0-120, percent of nominal speed)")
        if self.command is not CommandKind.SET_SPEED and self.speed_pct is not None:
            raise ValueError(f"speed_pct is only allowed with set_speed, not {self.command.value}")
        return self


class CommandMessage(Command):
    """A command as sent to a machine over MQTT (``ft/<machine_id>/commands``)."""

    id: Text
    machine_id: MachineId
    ts: AwareDatetime
