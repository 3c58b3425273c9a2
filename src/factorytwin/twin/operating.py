"""The operating point of a machine and the tuning of its alarm rules.

**Bands that follow the setpoint.** The catalogue's normal band of a sensor is the band at 100 % of nominal speed.
A machine commanded to run slower is judged against the band of its own operating point: for the sensors whose
value the speed setpoint moves (the profile sensor's ``setpoint`` response), each edge ``e`` becomes
``c + (e - c) * s**k`` for the speed fraction ``s``, with the exponent ``k`` and the static part ``c`` (the affinity
laws of a centrifugal pump: flow ~ n, head ~ n^2, shaft power ~ n^3; a spindle or belt speed ~ n; a robot's cycle
time ~ 1/n). The bundled profiles' responses mirror ``sim.physics`` (which the twin does not import: it knows
machines only over the wire) and hold for the real machines those models describe; a user's profile says its own.
Sensors without one are judged against the profile's band at any setpoint, on purpose: a mill's spindle power
band is also its power-failure limit, so a mill cutting too slowly to stay in it is told about it.

**Condition sensors** (``CONDITION_SENSORS``: wear states) say something true about a machine whatever it is doing,
so their alarms stand while it is stopped or idle; every other band and rate rule is a *process* alarm, judged only
while the machine runs.

**Tuning** (``RuleTuning``): per rule an on-delay (the condition must hold that long before the alarm is raised),
an off-delay (it must be gone that long before the alarm clears) and a deadband (the value must be back inside the
band by that fraction of the band's width). Times are in the machines' own seconds (reading time x the twin's
``time_scale``). ``AlarmTuning`` resolves the tuning of one rule of one machine from, least specific first:
the defaults, what the machine's sensors call for (``profile_defaults``: wear at once, a machine's own temperature
low only after its warm-up), and the machine's metadata ``alarm_rules``; in each,
a key is ``*``, a sensor key (``vibration``) or a rule type (``high:vibration``), each overriding only the fields it
names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from factorytwin.domain import Machine, SensorSpec, SpecsOf

log = logging.getLogger(__name__)

MIN_SPEED_FRACTION = 0.05
"""Setpoints below this are judged as this (a machine at 0 % is idle, and bands must stay bands)."""


CONDITION_SENSORS = frozenset({"tool_wear", "seal_wear"})
"""Sensors that measure the state of a part (wear), not the process: alarmed whatever the machine is doing."""


def operating_band(spec: SensorSpec, speed_pct: float) -> tuple[float, float]:
    """The normal band ``(low, high)`` of ``spec`` at a speed setpoint of ``speed_pct`` %: the profile's band moved
    as the sensor's setpoint response says (``SensorSpec.setpoint_exponent``), or the band as it is."""
    k = spec.setpoint_exponent
    if k is None or k == 0.0 or speed_pct == 100.0:
        return spec.normal_low, spec.normal_high
    s = max(MIN_SPEED_FRACTION, speed_pct / 100.0)
    c = spec.setpoint_static
    low, high = c + (spec.normal_low - c) * s**k, c + (spec.normal_high - c) * s**k
    return (low, high) if low <= high else (high, low)


class RuleTuning(BaseModel):
    """The tuning of one alarm rule (every field optional in an override: it changes only what it names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_delay_s: float | None = Field(
        default=None, ge=0.0, le=86_400.0, description="seconds the condition must hold before the alarm is raised"
    )
    off_delay_s: float | None = Field(
        default=None, ge=0.0, le=86_400.0, description="seconds the condition must be gone before the alarm clears"
    )
    deadband: float | None = Field(
        default=None,
        ge=0.0,
        le=0.5,
        description="fraction of the band's width by which a value must be back inside the band to clear",
    )

    def over(self, base: RuleTuning) -> RuleTuning:
        """This override applied on ``base``."""
        return base.model_copy(update=self.model_dump(exclude_none=True))


@dataclass(frozen=True, slots=True)
class Tuning:
    """A resolved rule tuning (every field set)."""

    on_delay_s: float
    off_delay_s: float
    deadband: float


IMMEDIATE = Tuning(on_delay_s=0.0, off_delay_s=0.0, deadband=0.02)
"""No delays, the old 2 % hysteresis: what rules do without a tuning (tests of the rules themselves)."""

DEFAULT_TUNING = RuleTuning(on_delay_s=90.0, off_delay_s=60.0, deadband=0.05)
"""Raised after 1.5 min of the condition, cleared after 1 min without it and 5 % of the band inside it."""

WARM_UP_S = 1800.0
"""On-delay of a low temperature of the machine itself (not the hall's): after a start, the process, oil, bearing or
winding takes about three thermal time constants to come up to its band; a cold machine warming up is no fault."""


TEMPERATURE_UNITS = frozenset({"K", "°C", "°F"})


def profile_defaults(sensors: Iterable[SensorSpec]) -> dict[str, RuleTuning]:
    """The rule tuning a profile's sensors call for: wear without delay, a machine's own temperatures (not the
    hall's ``air_temp``) low only after the warm-up."""
    rules = {
        # Wear only grows: no delay needed to be sure, and it clears at the service (no flapping to damp).
        "tool_wear": RuleTuning(on_delay_s=0.0),
        "seal_wear": RuleTuning(on_delay_s=0.0),
    }
    for spec in sensors:
        if spec.unit in TEMPERATURE_UNITS and spec.key != "air_temp":
            rules[f"low:{spec.key}"] = RuleTuning(on_delay_s=WARM_UP_S)
    return rules


MachineRules = dict[str, RuleTuning]
_MACHINE_RULES: TypeAdapter[MachineRules] = TypeAdapter(MachineRules)
METADATA_KEY = "alarm_rules"


def machine_rules(machine: Machine) -> MachineRules:
    """The machine's own rule overrides from its metadata ``alarm_rules`` (a bad entry is logged and ignored)."""
    raw = machine.metadata.get(METADATA_KEY)
    if raw is None:
        return {}
    try:
        return _MACHINE_RULES.validate_python(raw)
    except ValidationError as exc:
        log.warning("machine %s: metadata %s ignored: %s", machine.id, METADATA_KEY, exc)
        return {}


class AlarmTuning:
    """The tuning of every rule of every machine: defaults, its profile's sensors' defaults, machine overrides."""

    def __init__(self, default: RuleTuning = DEFAULT_TUNING) -> None:
        self.default = default
        self.profiles: dict[str, MachineRules] = {}
        """Machine id -> the defaults its sensors call for (``profile_defaults``)."""
        self.machines: dict[str, MachineRules] = {}
        self._cache: dict[tuple[str, str], Tuning] = {}

    def register(self, machines: Iterable[Machine], specs_of: SpecsOf) -> None:
        """Take the defaults of ``machines``' sensors and their rule overrides from their metadata."""
        for machine in machines:
            self.profiles[machine.id] = profile_defaults(specs_of(machine).values())
            self.machines[machine.id] = machine_rules(machine)
        self._cache.clear()

    def set_machine(self, machine_id: str, rules: MachineRules) -> None:
        """Replace one machine's overrides."""
        self.machines[machine_id] = dict(rules)
        self._cache.clear()

    def of(self, machine_id: str, rule_type: str) -> Tuning:
        """The tuning of rule ``rule_type`` (e.g. ``high:vibration``) of one machine."""
        key = (machine_id, rule_type)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(machine_id, rule_type)
        return found

    def _resolve(self, machine_id: str, rule_type: str) -> Tuning:
        sensor = rule_type.split(":", 1)[1] if ":" in rule_type else None
        keys = ["*", *([sensor] if sensor else []), rule_type]
        tuning = self.default
        for layer in (self.profiles.get(machine_id, {}), self.machines.get(machine_id, {})):
            for k in keys:
                override = layer.get(k)
                if override is not None:
                    tuning = override.over(tuning)
        return Tuning(
            on_delay_s=tuning.on_delay_s if tuning.on_delay_s is not None else 0.0,
            off_delay_s=tuning.off_delay_s if tuning.off_delay_s is not None else 0.0,
            deadband=tuning.deadband if tuning.deadband is not None else IMMEDIATE.deadband,
        )
