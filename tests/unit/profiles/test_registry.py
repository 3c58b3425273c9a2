"""ProfileRegistry: a machine's sensors are its profile's with its band overrides; checks name the field."""

from __future__ import annotations

import pytest

from factorytwin.domain import BandOverride, Machine
from factorytwin.errors import InvalidInput
from factorytwin.profiles import Profile, bundled_profiles
from factorytwin.profiles.registry import ProfileRegistry
from tests.unit.profiles.conftest import profile_doc


def _pump(**changes: object) -> Machine:
    base = Machine(id="p1", name="P1", profile="pump", line="l", x=0.0, y=0.0)
    return base.model_copy(update=changes)


def test_a_machines_band_override_replaces_its_profiles_band_and_nothing_else() -> None:
    registry = ProfileRegistry.bundled()
    profile_band = registry.specs("pump")["outlet_pressure"]
    pump = _pump(bands={"outlet_pressure": BandOverride(normal_low=8.0, normal_high=16.0)})
    spec = registry.sensors(pump)["outlet_pressure"]
    assert (spec.normal_low, spec.normal_high) == (8.0, 16.0)
    assert (spec.low, spec.high, spec.unit) == (profile_band.low, profile_band.high, profile_band.unit)
    assert registry.sensors(_pump())["outlet_pressure"] == profile_band
    # an override the profile cannot hold (it was valid for an earlier version) is left out, not applied
    stale = _pump(bands={"outlet_pressure": BandOverride(normal_low=8.0, normal_high=99.0)})
    assert registry.sensors(stale)["outlet_pressure"] == profile_band


def test_check_machine_names_the_field_of_each_problem() -> None:
    registry = ProfileRegistry.bundled()
    with pytest.raises(InvalidInput) as unknown:
        registry.check_machine(_pump(profile="boiler"))
    assert [p.loc for p in unknown.value.problems] == [("body", "profile")]
    bad = _pump(
        bands={
            "torque": BandOverride(normal_low=1.0, normal_high=2.0),
            "outlet_pressure": BandOverride(normal_low=30.0, normal_high=50.0),
        }
    )
    with pytest.raises(InvalidInput) as bands:
        registry.check_machine(bad, ("machines", 3))
    assert sorted(p.loc for p in bands.value.problems) == [
        ("machines", 3, "bands", "outlet_pressure"),
        ("machines", 3, "bands", "torque"),
    ]
    registry.check_machine(_pump())


def test_a_put_profile_replaces_its_sensors_and_a_removed_one_is_forgotten() -> None:
    registry = ProfileRegistry(bundled_profiles())
    assert "vibration" in registry.sensor_keys()
    boiler = Profile.model_validate(profile_doc(id="boiler"))
    registry.put(boiler)
    assert list(registry.specs("boiler")) == [s.key for s in boiler.sensors]
    assert registry.known_sensors([_pump(id="b", profile="boiler")]) == {"b": frozenset(registry.specs("boiler"))}
    registry.remove("boiler")
    assert registry.get("boiler") is None
    assert registry.specs("boiler") == {}
