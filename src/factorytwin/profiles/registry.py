"""``ProfileRegistry``: the profiles in force, in memory, and what they make of a machine's sensors.

Everything that needs a machine's sensors (ingest validation, the live twin and its alarm rules, exports,
connector mappings) asks the registry: ``sensors(machine)`` is the machine's profile's sensors, as ``SensorSpec``,
with the machine's own band overrides applied. The bundled profiles and a user's go through the same code.
The API's profile service keeps the registry equal to the store (``put`` after a write, ``remove`` after a delete).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from factorytwin.domain import Machine, SensorSpec
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.profiles.bundled import bundled_profiles
from factorytwin.profiles.model import Profile, ProfileSensor


def spec_of(sensor: ProfileSensor) -> SensorSpec:
    """A profile's sensor as the rules' ``SensorSpec``."""
    return SensorSpec(
        key=sensor.key,
        label=sensor.label,
        unit=sensor.unit,
        low=sensor.low,
        high=sensor.high,
        normal_low=sensor.normal_low,
        normal_high=sensor.normal_high,
        max_rate=sensor.max_rate,
        activity=sensor.activity,
        setpoint_exponent=sensor.setpoint.exponent if sensor.setpoint else None,
        setpoint_static=sensor.setpoint.static if sensor.setpoint else 0.0,
    )


class ProfileRegistry:
    """The latest version of every profile, by id, with each one's sensors as ``SensorSpec`` (built once)."""

    def __init__(self, profiles: Iterable[Profile] = ()) -> None:
        self._profiles: dict[str, Profile] = {}
        self._specs: dict[str, dict[str, SensorSpec]] = {}
        for profile in profiles:
            self.put(profile)

    @classmethod
    def bundled(cls) -> ProfileRegistry:
        """A registry of the bundled profiles only (a fresh one each call: callers may add to it)."""
        return cls(bundled_profiles())

    def put(self, profile: Profile) -> None:
        """Add a profile, or replace it by a newer version."""
        self._profiles[profile.id] = profile
        self._specs[profile.id] = {s.key: spec_of(s) for s in profile.sensors}

    def remove(self, profile_id: str) -> None:
        """Forget a profile (it was deleted)."""
        self._profiles.pop(profile_id, None)
        self._specs.pop(profile_id, None)

    def get(self, profile_id: str) -> Profile | None:
        """The profile with ``profile_id``, or None."""
        return self._profiles.get(profile_id)

    def profiles(self) -> list[Profile]:
        """Every profile, by id."""
        return [self._profiles[k] for k in sorted(self._profiles)]

    def specs(self, profile_id: str) -> dict[str, SensorSpec]:
        """The sensors of a profile by key, in the profile's order; empty for an unknown profile."""
        return self._specs.get(profile_id, {})

    def sensors(self, machine: Machine) -> dict[str, SensorSpec]:
        """The machine's sensors: its profile's, with the machine's band overrides applied (an override of a sensor
        the profile does not have, or outside its physical range, is left out: ``check_machine`` refuses those)."""
        specs = self.specs(machine.profile)
        if not machine.bands:
            return specs
        out = dict(specs)
        for key, band in machine.bands.items():
            spec = specs.get(key)
            if spec is not None and spec.low <= band.normal_low < band.normal_high <= spec.high:
                out[key] = replace(spec, normal_low=band.normal_low, normal_high=band.normal_high)
        return out

    def known_sensors(self, machines: Iterable[Machine]) -> dict[str, frozenset[str]]:
        """Machine id -> the keys of its sensors (what a connector may map to)."""
        return {m.id: frozenset(self.specs(m.profile)) for m in machines}

    def sensor_keys(self) -> list[str]:
        """Every sensor key of every profile, each once (the store's sensor dictionary)."""
        seen: dict[str, None] = {}
        for profile_id in sorted(self._specs):
            for key in self._specs[profile_id]:
                seen.setdefault(key, None)
        return list(seen)

    def check_machine(self, machine: Machine, loc: Sequence[str | int] = ("body",)) -> None:
        """``InvalidInput`` naming the field when the machine's profile is unknown or a band override does not fit
        its profile (an unknown sensor, outside the physical range)."""
        profile = self.get(machine.profile)
        if profile is None:
            known = ", ".join(sorted(self._profiles)[:30])
            msg = f"no profile {machine.profile!r}; known profiles: {known}"
            raise InvalidInput([FieldProblem((*loc, "profile"), msg, machine.profile)])
        specs = self.specs(machine.profile)
        problems: list[FieldProblem] = []
        for key, band in machine.bands.items():
            spec = specs.get(key)
            where = (*loc, "bands", key)
            if spec is None:
                msg = f"profile {profile.id!r} has no sensor {key!r}; one of: {', '.join(specs)}"
                problems.append(FieldProblem(where, msg, key))
            elif not spec.low <= band.normal_low < band.normal_high <= spec.high:
                msg = (
                    f"band {band.normal_low:g}..{band.normal_high:g} is outside the physical range "
                    f"{spec.low:g}..{spec.high:g} {spec.unit} of {key}"
                )
                problems.append(FieldProblem(where, msg, band.model_dump()))
        if problems:
            raise InvalidInput(problems)
