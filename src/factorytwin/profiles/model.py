"""A machine profile: what a kind of machine measures (sensors, bands), accepts (commands) and looks like.

Profiles are data: the seven kinds factorytwin ships are bundled JSON files in exactly this format
(``profiles/bundled/``), and users add their own over REST or by importing a DTDL v3 Interface. Every rule is
checked here, and a broken one names its field (``sensors.2.normal_high``), so the API answers 422 with the path.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from factorytwin.domain import ID_PATTERN, Text
from factorytwin.profiles.units import UNIT_SPELLINGS, canonical_unit, unit_problem

NAME_PATTERN = r"^[A-Za-z](?:[A-Za-z0-9_]{0,62}[A-Za-z0-9])?$"
"""Sensor, command and parameter keys: a DTDL v3 content name (so every profile exports to DTDL), at most 64."""
BUILTIN_MODELS = ("cnc_mill", "lathe", "hydraulic_press", "pump", "air_compressor", "conveyor", "robot_arm")
"""The 3D models the dashboard draws itself (``web/src/floor/models.tsx``), by name."""
MAX_SENSORS = 256
RESERVED_IDS = frozenset({"import"})
"""Ids a profile may not take: ``/profiles/import/dtdl`` must never be read as profile "import"'s DTDL."""
MAX_COMMANDS = 64

Key = Annotated[str, Field(pattern=NAME_PATTERN, description="letters, digits and _, starting with a letter")]
Finite = Annotated[StrictFloat, Field(allow_inf_nan=False)]
"""A finite JSON number (true, "3" and NaN are refused, not coerced)."""
Metres = Annotated[StrictFloat, Field(gt=0, allow_inf_nan=False)]
ProfileId = Annotated[str, Field(pattern=ID_PATTERN, description="profile id: letters, digits, _ . -")]


def _unit(value: str) -> str:
    symbol = canonical_unit(value)
    if symbol is None:
        raise ValueError(unit_problem(value))
    return symbol


UnitSymbol = Annotated[
    str,
    AfterValidator(_unit),
    Field(
        description="a symbol of the unit table (docs/PROFILES.md): °C, bar, rpm...; an alias is stored as its symbol",
        json_schema_extra={"enum": list(UNIT_SPELLINGS)},
    ),
]
"""A unit of the table; an alias (``degC``) is stored as its canonical symbol (``°C``)."""


class ProfileSensor(BaseModel):
    """One sensor of a profile.

    ``low``/``high`` is the physical range (a value outside cannot be a real measurement: ingest refuses it);
    ``normal_low``/``normal_high`` the normal operating band (outside it the twin alarms), with
    ``low <= normal_low < normal_high <= high``. ``max_rate`` (unit per second) bounds a plausible rate of change.
    ``activity`` marks the sensor that tells whether the machine is working (at most one per profile).
    """

    model_config = ConfigDict(extra="forbid")

    key: Key
    label: Text = Field(min_length=1, max_length=120)
    unit: UnitSymbol
    low: Finite = Field(description="physical range, lower end")
    high: Finite = Field(description="physical range, upper end")
    normal_low: Finite = Field(description="normal band, lower end (within the physical range)")
    normal_high: Finite = Field(description="normal band, upper end (within the physical range)")
    max_rate: Finite | None = Field(default=None, gt=0, description="largest plausible change, unit per second")
    activity: StrictBool = Field(default=False, description="this sensor tells whether the machine is working")
    setpoint: SetpointResponse | None = Field(
        default=None, description="how the normal band follows the speed setpoint; null: it stands at any setpoint"
    )

    @field_validator("high")
    @classmethod
    def _range_ordered(cls, high: float, info: ValidationInfo) -> float:
        low = info.data.get("low")
        if low is not None and not low < high:
            raise ValueError(f"physical range: high ({high:g}) must be above low ({low:g})")
        return high

    @field_validator("normal_low")
    @classmethod
    def _band_low_inside(cls, normal_low: float, info: ValidationInfo) -> float:
        low, high = info.data.get("low"), info.data.get("high")
        if low is not None and normal_low < low:
            raise ValueError(f"normal band starts at {normal_low:g}, below the physical range's low ({low:g})")
        if high is not None and normal_low >= high:
            raise ValueError(f"normal band starts at {normal_low:g}, not below the physical range's high ({high:g})")
        return normal_low

    @field_validator("normal_high")
    @classmethod
    def _band_high_inside(cls, normal_high: float, info: ValidationInfo) -> float:
        normal_low, high = info.data.get("normal_low"), info.data.get("high")
        if normal_low is not None and not normal_low < normal_high:
            raise ValueError(f"normal band: normal_high ({normal_high:g}) must be above normal_low ({normal_low:g})")
        if high is not None and normal_high > high:
            raise ValueError(f"normal band ends at {normal_high:g}, above the physical range's high ({high:g})")
        return normal_high


class SetpointResponse(BaseModel):
    """How a sensor's normal band follows the machine's speed setpoint ``s`` (a fraction of nominal): each edge
    ``e`` of the band at 100 % becomes ``static + (e - static) * s**exponent`` (the affinity laws of a centrifugal
    pump: flow ~ n, head ~ n^2, shaft power ~ n^3; a spindle or belt speed ~ n; a cycle time ~ 1/n)."""

    model_config = ConfigDict(extra="forbid")

    exponent: Finite = Field(ge=-3.0, le=3.0, description="k in static + (e - static) * s**k; 0: the band stands")
    static: Finite = Field(default=0.0, description="the part of the value the speed does not move, sensor unit")


class CommandParameter(BaseModel):
    """The one numeric argument a command takes (e.g. ``speed_pct`` of ``set_speed``), with its allowed range."""

    model_config = ConfigDict(extra="forbid")

    key: Key
    label: Text = Field(min_length=1, max_length=120)
    unit: UnitSymbol
    low: Finite | None = None
    high: Finite | None = None

    @field_validator("high")
    @classmethod
    def _ordered(cls, high: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("low")
        if high is not None and low is not None and high < low:
            raise ValueError(f"high ({high:g}) must not be below low ({low:g})")
        return high


class ProfileCommand(BaseModel):
    """A command machines of the profile accept."""

    model_config = ConfigDict(extra="forbid")

    key: Key
    label: Text = Field(min_length=1, max_length=120)
    parameter: CommandParameter | None = None


class BuiltinAppearance(BaseModel):
    """Drawn with one of the dashboard's own 3D models."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["builtin"]
    model: str = Field(description=f"one of {', '.join(BUILTIN_MODELS)}")

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        if model not in BUILTIN_MODELS:
            raise ValueError(f"no built-in model {model!r}; there are {', '.join(BUILTIN_MODELS)}")
        return model


class PrimitiveAppearance(BaseModel):
    """Drawn as a coloured box or vertical cylinder (a cylinder's diameter is its width)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["primitive"]
    shape: Literal["box", "cylinder"]
    width: Metres = Field(le=200, description="metres along the machine's x axis (a cylinder's diameter)")
    height: Metres = Field(le=50, description="metres")
    depth: Metres = Field(le=200, description="metres along the machine's y axis")
    color: str = Field(default="#8c939c", pattern=r"^#[0-9a-fA-F]{6}$", description="sRGB, #rrggbb")


class GltfAppearance(BaseModel):
    """Drawn with an uploaded glTF asset, by asset id."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["gltf"]
    asset_id: str = Field(pattern=ID_PATTERN)


Appearance = Annotated[BuiltinAppearance | PrimitiveAppearance | GltfAppearance, Field(discriminator="kind")]
"""How machines of a profile are drawn: a built-in model, a parametric primitive, or an uploaded glTF asset."""


class ProfileBody(BaseModel):
    """A profile as a client writes it (``POST``/``PUT /profiles``): everything but the version."""

    model_config = ConfigDict(extra="forbid")

    id: ProfileId
    name: Text = Field(min_length=1, max_length=120)
    description: Text = Field(default="", max_length=2000)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, profile_id: str) -> str:
        if profile_id in RESERVED_IDS:
            raise ValueError(f"{profile_id!r} is reserved (/profiles/{profile_id}/... is a route of its own)")
        return profile_id

    sensors: list[ProfileSensor] = Field(min_length=1, max_length=MAX_SENSORS)
    commands: list[ProfileCommand] = Field(default_factory=list, max_length=MAX_COMMANDS)
    appearance: Appearance

    @field_validator("sensors")
    @classmethod
    def _sensor_keys_unique(cls, sensors: list[ProfileSensor]) -> list[ProfileSensor]:
        _unique([s.key for s in sensors], "sensor")
        activity = [i for i, s in enumerate(sensors) if s.activity]
        if len(activity) > 1:
            raise ValueError(
                f"at most one sensor may be the activity sensor; sensors {activity[0]} and {activity[1]} are"
            )
        return sensors

    @field_validator("commands")
    @classmethod
    def _command_keys_unique(cls, commands: list[ProfileCommand], info: ValidationInfo) -> list[ProfileCommand]:
        _unique([c.key for c in commands], "command")
        # DTDL names every content of an interface uniquely, telemetry and commands alike.
        sensors = {s.key for s in info.data.get("sensors", [])}
        both = [c.key for c in commands if c.key in sensors]
        if both:
            raise ValueError(f"command key {both[0]!r} is also a sensor key; the keys must differ")
        return commands

    def sensor(self, key: str) -> ProfileSensor | None:
        """The sensor with ``key``, or None."""
        return next((s for s in self.sensors if s.key == key), None)

    @property
    def activity_sensor(self) -> ProfileSensor | None:
        """The sensor that tells whether the machine is working, or None."""
        return next((s for s in self.sensors if s.activity), None)


def _unique(keys: list[str], what: str) -> None:
    seen: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise ValueError(f"duplicate {what} key {key!r}: items {seen[key]} and {index}")
        seen[key] = index


class Profile(ProfileBody):
    """A version of a profile. Every update writes a new version; the bundled files are version 1."""

    version: StrictInt = Field(default=1, ge=1, le=2**31 - 1)


class StoredProfile(Profile):
    """A profile version as stored: whether it ships with factorytwin, when and by whom it was saved."""

    bundled: bool = Field(description="ships with factorytwin (seeded at start-up; cannot be deleted)")
    saved_at: AwareDatetime
    saved_by: str = Field(min_length=1)

    def profile(self) -> Profile:
        """The profile itself, without the storage fields."""
        return Profile.model_validate(self.model_dump(exclude={"bundled", "saved_at", "saved_by"}))
