"""The sensor catalogue and the domain models."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from factorytwin.domain import CATALOGUE, Command, MachineKind, SensorSpec, all_sensor_keys, sensor_specs


def test_every_kind_has_a_catalogue_with_unique_keys() -> None:
    for kind in MachineKind:
        keys = [spec.key for spec in CATALOGUE[kind]]
        assert keys, kind
        assert len(keys) == len(set(keys)), kind


def test_normal_band_lies_inside_physical_range() -> None:
    for specs in CATALOGUE.values():
        for spec in specs:
            assert spec.low <= spec.normal_low < spec.normal_high <= spec.high


def test_a_shared_sensor_key_means_the_same_unit_everywhere() -> None:
    units: dict[str, str] = {}
    for specs in CATALOGUE.values():
        for spec in specs:
            assert units.setdefault(spec.key, spec.unit) == spec.unit, spec.key


def test_mill_has_the_ai4i_sensors() -> None:
    mill = sensor_specs(MachineKind.CNC_MILL)
    for key in (
        "air_temp",
        "process_temp",
        "spindle_speed",
        "torque",
        "tool_wear",
        "vibration",
        "motor_current",
    ):
        assert key in mill
    assert mill["air_temp"].unit == "K"


def test_inconsistent_sensor_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="normal_low"):
        SensorSpec(key="x", label="x", unit="u", low=0, high=1, normal_low=2, normal_high=3)


def test_all_sensor_keys_are_unique() -> None:
    keys = all_sensor_keys()
    assert len(keys) == len(set(keys))


def test_set_speed_needs_a_speed() -> None:
    with pytest.raises(ValidationError, match="speed_pct"):
        Command(command="set_speed")
    with pytest.raises(ValidationError, match="only allowed"):
        Command(command="stop", speed_pct=10)
    assert Command(command="set_speed", speed_pct=80).speed_pct == 80
