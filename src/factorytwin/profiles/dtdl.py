"""DTDL v3: a profile from an Interface (``profile_from_dtdl``) and an Interface from a profile (``profile_to_dtdl``).

Mapping (docs/PROFILES.md has the table):

- Telemetry with a numeric ``schema`` -> a sensor: ``name`` -> key, ``displayName`` -> label, the QuantitativeTypes
  ``unit`` -> our unit (``degreeCelsius`` -> ``°C``; a unit the table has no counterpart for is refused, naming the
  content). Telemetry without a unit is dimensionless (``1``).
- Command -> a command; a numeric ``request`` -> its parameter.
- Property and Relationship contents are skipped (device settings and links, not measurements); ``extends`` and
  Component contents are refused: they pull in other interfaces, which an import of one document cannot resolve.

DTDL has no place for a physical range, a normal band, a maximum rate or the activity flag. They travel in the
import request (``bands``) or, in what ``profile_to_dtdl`` writes, as undefined properties (``ftLow``, ``ftHigh``,
``ftNormalLow``, ``ftNormalHigh``, ``ftMaxRate``, ``ftActivity``, ``ftUnit``) on contents co-typed ``ftSensor``
(DTDL permits undefined co-types, and undefined properties on the elements that carry one), so an exported
profile imports back unchanged but for its appearance, which DTDL cannot describe.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.profiles.model import (
    NAME_PATTERN,
    Appearance,
    CommandParameter,
    Finite,
    PrimitiveAppearance,
    Profile,
    ProfileBody,
    ProfileCommand,
    ProfileId,
    ProfileSensor,
    SetpointResponse,
)
from factorytwin.profiles.units import BY_DTDL, BY_SYMBOL

DTDL_V3 = "dtmi:dtdl:context;3"
QUANTITATIVE_TYPES = "dtmi:dtdl:extension:quantitativeTypes;1"
NUMERIC_SCHEMAS = frozenset({"double", "float", "integer", "long"})
DTMI = re.compile(
    r"^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*"
    r"(?:;[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?)?$"
)
SENSOR_COTYPE = "ftSensor"
PARAMETER_COTYPE = "ftParameter"
PROFILE_COTYPE = "ftProfile"
DTDL_TEXT_MAX = 512
"""Longest displayName/description DTDL v3 allows."""
DEFAULT_APPEARANCE = PrimitiveAppearance(kind="primitive", shape="box", width=1.5, height=1.5, depth=1.5)
"""How an imported profile is drawn when the request names no appearance."""

Loc = tuple[str | int, ...]
DTDL_NAMES = {
    "key": "name",
    "label": "displayName",
    "unit": "unit",
    "low": "ftLow",
    "high": "ftHigh",
    "normal_low": "ftNormalLow",
    "normal_high": "ftNormalHigh",
    "max_rate": "ftMaxRate",
    "activity": "ftActivity",
    "setpoint": "ftSetpoint",
}
"""Our field names -> the property of a DTDL element that carries them (to name it in an error)."""


class SensorBand(BaseModel):
    """What DTDL cannot say about a telemetry: physical range, normal band, max rate, activity flag."""

    model_config = ConfigDict(extra="forbid")

    low: Finite
    high: Finite
    normal_low: Finite
    normal_high: Finite
    max_rate: Finite | None = None
    activity: bool = False
    setpoint: SetpointResponse | None = None


class DtdlImport(BaseModel):
    """The body of ``POST /profiles/import/dtdl``: a DTDL v3 Interface and what a profile needs beyond it."""

    model_config = ConfigDict(extra="forbid")

    interface: dict[str, Any] = Field(description="a DTDL v3 Interface document (JSON-LD)")
    id: ProfileId | None = Field(default=None, description="profile id (default: from the interface's @id)")
    bands: dict[str, SensorBand] = Field(
        default_factory=dict, description="telemetry name -> range and band (overrides the ftSensor properties)"
    )
    appearance: Appearance | None = Field(default=None, description="default: a grey 1.5 m box")


class _Problems:
    """Problems found so far; ``raise_any`` raises them all at once, so one answer lists every bad content."""

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, loc: Loc, msg: str, value: object = None) -> None:
        self.found.append(FieldProblem(loc, msg, value))

    def raise_any(self) -> None:
        if self.found:
            raise InvalidInput(self.found)


def _types(element: dict[str, Any]) -> list[str]:
    kind = element.get("@type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [t for t in kind if isinstance(t, str)]
    return []


def _text(value: object) -> str | None:
    """A DTDL string or language map (``{"en": ...}``) as one string: English first, else the first language."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value:
        chosen = value.get("en", next(iter(value.values())))
        return chosen if isinstance(chosen, str) else None
    return None


def _snake(segment: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", segment).lower()


def _contexts(doc: dict[str, Any]) -> list[str]:
    context = doc.get("@context")
    if isinstance(context, str):
        return [context]
    return [c for c in context if isinstance(c, str)] if isinstance(context, list) else []


def _unit_of(element: dict[str, Any], loc: Loc, problems: _Problems) -> str:
    """Our unit for a content: its ``ftUnit`` when it is ours, else its DTDL unit, else dimensionless."""
    own = element.get("ftUnit")
    if isinstance(own, str) and own in BY_SYMBOL:
        return own
    unit = element.get("unit")
    if unit is None:
        return "1"
    if not isinstance(unit, str) or unit not in BY_DTDL:
        msg = f"DTDL unit {unit!r} has no counterpart in factorytwin's unit table (docs/PROFILES.md)"
        problems.add((*loc, "unit"), msg, unit)
        return "1"
    return BY_DTDL[unit].symbol


def _band_of(element: dict[str, Any]) -> dict[str, Any] | None:
    """The range and band an exported content carries in its ``ft`` properties, or None."""
    if SENSOR_COTYPE not in _types(element):
        return None
    names = {"low": "ftLow", "high": "ftHigh", "normal_low": "ftNormalLow", "normal_high": "ftNormalHigh"}
    band: dict[str, Any] = {ours: element.get(theirs) for ours, theirs in names.items()}
    band["max_rate"] = element.get("ftMaxRate")
    band["activity"] = element.get("ftActivity", False)
    band["setpoint"] = element.get("ftSetpoint")
    return band


def _sensor(
    element: dict[str, Any], loc: Loc, request: DtdlImport, problems: _Problems, used_bands: set[str]
) -> ProfileSensor | None:
    name = element.get("name")
    schema = element.get("schema")
    if not isinstance(schema, str) or schema not in NUMERIC_SCHEMAS:
        shown = schema if isinstance(schema, str) else type(schema).__name__
        problems.add((*loc, "schema"), f"telemetry {name!r} has schema {shown!r}: a sensor needs a numeric schema")
        return None
    unit = _unit_of(element, loc, problems)
    label = (_text(element.get("displayName")) or str(name))[:120]
    if isinstance(name, str) and name in request.bands:
        used_bands.add(name)
        band_loc: Loc = ("bands", name)
        band: dict[str, Any] | None = request.bands[name].model_dump()
    else:
        band_loc, band = loc, _band_of(element)
    if band is None:
        problems.add(
            loc,
            f"telemetry {name!r} has no physical range and normal band (DTDL carries none): give them in bands.{name}",
        )
        return None
    try:
        return ProfileSensor.model_validate({"key": name, "label": label, "unit": unit} | band)
    except ValidationError as exc:
        if band_loc == loc:
            _add_mapped(problems, loc, exc)
        else:  # the band's errors at bands.<name>.<field>, the element's own at the element
            for e in exc.errors(include_url=False):
                field = str(e["loc"][0]) if e["loc"] else ""
                where = (*band_loc, field) if field in SensorBand.model_fields else (*loc, DTDL_NAMES.get(field, field))
                problems.add(where, e["msg"], e.get("input"))
        return None


def _command(element: dict[str, Any], loc: Loc, problems: _Problems) -> ProfileCommand | None:
    name = element.get("name")
    label = (_text(element.get("displayName")) or str(name))[:120]
    request = element.get("request")
    parameter: CommandParameter | None = None
    if isinstance(request, dict):
        request_loc: Loc = (*loc, "request")
        schema = request.get("schema")
        if not isinstance(schema, str) or schema not in NUMERIC_SCHEMAS:
            shown = schema if isinstance(schema, str) else type(schema).__name__
            problems.add(
                (*request_loc, "schema"),
                f"command {name!r} takes {shown!r}: only a numeric request maps to a command parameter",
            )
            return None
        fields = {
            "key": request.get("name"),
            "label": (_text(request.get("displayName")) or str(request.get("name")))[:120],
            "unit": _unit_of(request, request_loc, problems),
            "low": request.get("ftLow"),
            "high": request.get("ftHigh"),
        }
        try:
            parameter = CommandParameter.model_validate(fields)
        except ValidationError as exc:
            _add_mapped(problems, request_loc, exc)
            return None
    try:
        return ProfileCommand(key=name, label=label, parameter=parameter)
    except ValidationError as exc:
        _add_mapped(problems, loc, exc)
        return None


def _add_mapped(problems: _Problems, loc: Loc, exc: ValidationError) -> None:
    """Errors of one of our models built from a DTDL element, located at the element's own property names."""
    for e in exc.errors(include_url=False):
        field = e["loc"][0] if e["loc"] else None
        where = (*loc, DTDL_NAMES.get(str(field), str(field))) if field is not None else loc
        problems.add(where, e["msg"], e.get("input"))


def _interface_header(doc: dict[str, Any], problems: _Problems) -> str:
    """Check the document is a DTDL v3 Interface; return its DTMI (or "" when it has none)."""
    if DTDL_V3 not in _contexts(doc)[:1]:
        problems.add(("interface", "@context"), f"a DTDL v3 Interface's @context starts with {DTDL_V3!r}")
    if "Interface" not in _types(doc):
        problems.add(("interface", "@type"), "the document is not a DTDL Interface", doc.get("@type"))
    dtmi = doc.get("@id")
    if not isinstance(dtmi, str) or not DTMI.match(dtmi):
        problems.add(("interface", "@id"), "@id must be a DTMI such as dtmi:com:example:Pump;1", dtmi)
        return ""
    if "extends" in doc:
        problems.add(("interface", "extends"), "extends is not supported: import an interface with its own contents")
    return dtmi


def profile_from_dtdl(request: DtdlImport) -> ProfileBody:
    """The profile an import request describes; ``InvalidInput`` naming each content that cannot be mapped.

    Locations are relative to the request (``interface.contents.3.unit``, ``bands.oil_temp.normal_high``).
    """
    doc = request.interface
    problems = _Problems()
    dtmi = _interface_header(doc, problems)
    contents = doc.get("contents", [])
    if not isinstance(contents, list):
        problems.add(("interface", "contents"), "contents must be a list")
        contents = []
    sensors: list[ProfileSensor] = []
    commands: list[ProfileCommand] = []
    used_bands: set[str] = set()
    seen: dict[str, int] = {}
    for index, element in enumerate(contents):
        loc: Loc = ("interface", "contents", index)
        if not isinstance(element, dict):
            problems.add(loc, "a content must be an object")
            continue
        types = _types(element)
        if not isinstance(element.get("name"), str) or not re.match(NAME_PATTERN, element["name"]):
            problems.add((*loc, "name"), "a content needs a name: letters, digits and _, starting with a letter")
            continue
        if element["name"] in seen:
            problems.add((*loc, "name"), f"name {element['name']!r} is taken by content {seen[element['name']]}")
            continue
        seen[element["name"]] = index
        if "Telemetry" in types:
            sensor = _sensor(element, loc, request, problems, used_bands)
            sensors += [sensor] if sensor is not None else []
        elif "Command" in types:
            command = _command(element, loc, problems)
            commands += [command] if command is not None else []
        elif "Component" in types:
            problems.add((*loc, "@type"), "components are not supported: import the component's interface itself")
    for name in sorted(set(request.bands) - used_bands):
        problems.add(("bands", name), f"the interface has no numeric telemetry named {name!r}")
    problems.raise_any()
    segment = dtmi.split(";")[0].rsplit(":", 1)[-1]
    own_id = doc.get("ftProfileId") if PROFILE_COTYPE in _types(doc) else None
    body = {
        "id": request.id or (own_id if isinstance(own_id, str) else _snake(segment)),
        "name": (_text(doc.get("displayName")) or segment)[:120],
        "description": _text(doc.get("description")) or "",
        "sensors": sensors,
        "commands": commands,
        "appearance": request.appearance or DEFAULT_APPEARANCE,
    }
    try:
        return ProfileBody.model_validate(body)
    except ValidationError as exc:
        where = {"id": ("id",), "name": ("interface", "displayName"), "description": ("interface", "description")}
        for e in exc.errors(include_url=False):
            head = str(e["loc"][0]) if e["loc"] else ""
            problems.add(where.get(head, ("interface", *e["loc"])), e["msg"], e.get("input"))
        problems.raise_any()
        raise  # unreachable: every error was added as a problem


def _dtmi_segment(profile_id: str) -> str:
    """A DTMI path segment for a profile id: other characters become _, a leading digit gets a letter before it."""
    segment = re.sub(r"[^A-Za-z0-9_]", "_", profile_id).rstrip("_") or "profile"
    return segment if segment[0].isalpha() else f"p{segment}"


def _telemetry(sensor: ProfileSensor) -> dict[str, Any]:
    unit = BY_SYMBOL[sensor.unit]
    element: dict[str, Any] = {
        "@type": ["Telemetry", *([unit.semantic] if unit.semantic else []), SENSOR_COTYPE],
        "name": sensor.key,
        "displayName": sensor.label,
        "schema": "double",
    }
    if unit.semantic is not None:
        element["unit"] = unit.dtdl
    element |= {
        "ftUnit": sensor.unit,
        "ftLow": sensor.low,
        "ftHigh": sensor.high,
        "ftNormalLow": sensor.normal_low,
        "ftNormalHigh": sensor.normal_high,
        "ftActivity": sensor.activity,
    }
    if sensor.max_rate is not None:
        element["ftMaxRate"] = sensor.max_rate
    if sensor.setpoint is not None:
        element["ftSetpoint"] = sensor.setpoint.model_dump()
    return element


def _dtdl_command(command: ProfileCommand) -> dict[str, Any]:
    element: dict[str, Any] = {"@type": "Command", "name": command.key, "displayName": command.label}
    p = command.parameter
    if p is not None:
        unit = BY_SYMBOL[p.unit]
        request: dict[str, Any] = {
            "@type": ["CommandRequest", *([unit.semantic] if unit.semantic else []), PARAMETER_COTYPE],
            "name": p.key,
            "displayName": p.label,
            "schema": "double",
        }
        if unit.semantic is not None:
            request["unit"] = unit.dtdl
        request["ftUnit"] = p.unit
        request |= {k: v for k, v in (("ftLow", p.low), ("ftHigh", p.high)) if v is not None}
        element["request"] = request
    return element


def profile_to_dtdl(profile: Profile) -> dict[str, Any]:
    """``profile`` as a DTDL v3 Interface (QuantitativeTypes units; ranges and bands as ``ft`` properties)."""
    doc: dict[str, Any] = {
        "@context": [DTDL_V3, QUANTITATIVE_TYPES],
        "@id": f"dtmi:factorytwin:profile:{_dtmi_segment(profile.id)};{profile.version}",
        "@type": ["Interface", PROFILE_COTYPE],
        "ftProfileId": profile.id,
        "displayName": profile.name[:DTDL_TEXT_MAX],
    }
    if profile.description:
        doc["description"] = profile.description[:DTDL_TEXT_MAX]
    doc["contents"] = [_telemetry(s) for s in profile.sensors] + [_dtdl_command(c) for c in profile.commands]
    return doc
