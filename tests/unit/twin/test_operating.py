"""The operating point (bands that follow the setpoint) and the tuning of alarm rules per kind and machine."""

from __future__ import annotations

import pytest

from factorytwin.domain import MachineKind, SensorSpec, sensor_specs
from factorytwin.profiles import ProfileSensor
from factorytwin.profiles.registry import ProfileRegistry, spec_of
from factorytwin.twin.operating import (
    WARM_UP_S,
    AlarmTuning,
    RuleTuning,
    machine_rules,
    operating_band,
    profile_defaults,
)
from tests.unit.twin.helpers import machine

PUMP = sensor_specs(MachineKind.PUMP)
ROBOT = sensor_specs(MachineKind.ROBOT_ARM)


def test_a_pump_at_half_speed_is_judged_against_its_half_speed_curve() -> None:
    assert operating_band(PUMP["motor_speed"], 50.0) == (700.0, 1500.0)  # n ~ s
    assert operating_band(PUMP["flow_rate"], 50.0) == (20.0, 65.0)  # Q ~ n
    low, high = operating_band(PUMP["outlet_pressure"], 50.0)  # 2 bar + head ~ n^2
    assert (low, high) == pytest.approx((2.5, 4.0))
    low, high = operating_band(PUMP["motor_current"], 50.0)  # 5 A + P ~ n^3
    assert (low, high) == pytest.approx((5.625, 12.5))


def test_bands_of_sensors_the_setpoint_does_not_move_stand_at_any_setpoint() -> None:
    spec = PUMP["bearing_temp"]
    assert operating_band(spec, 50.0) == (spec.normal_low, spec.normal_high)
    power = sensor_specs(MachineKind.CNC_MILL)["power"]  # also the mill's power-failure limit: stays
    assert operating_band(power, 50.0) == (power.normal_low, power.normal_high)


def test_a_slower_robot_has_a_longer_cycle_and_a_zero_setpoint_stays_a_band() -> None:
    assert operating_band(ROBOT["cycle_time"], 50.0) == pytest.approx((30.0, 130.0))
    low, high = operating_band(PUMP["motor_speed"], 0.0)
    assert 0.0 < low < high


def test_tuning_resolves_defaults_then_profile_then_machine_most_specific_key_last() -> None:
    tuning = AlarmTuning(RuleTuning(on_delay_s=90.0, off_delay_s=60.0, deadband=0.05))
    rules = {"*": {"on_delay_s": 30}, "vibration": {"deadband": 0.1}, "high:vibration": {"on_delay_s": 5}}
    pump = machine("pump-01", MachineKind.PUMP).model_copy(update={"metadata": {"alarm_rules": rules}})
    tuning.register([pump, machine("mill-01")], ProfileRegistry.bundled().sensors)
    assert tuning.of("mill-01", "high:torque").on_delay_s == 90.0
    assert tuning.of("mill-01", "tool_wear").on_delay_s == 0.0  # wear: at once (what the sensors call for)
    assert tuning.of("mill-01", "low:process_temp").on_delay_s == WARM_UP_S  # a machine's own temperature
    assert tuning.of("mill-01", "low:air_temp").on_delay_s == 90.0  # the hall's is not warming up
    other = tuning.of("pump-01", "low:flow_rate")
    assert (other.on_delay_s, other.off_delay_s, other.deadband) == (30.0, 60.0, 0.05)
    vib = tuning.of("pump-01", "high:vibration")
    assert (vib.on_delay_s, vib.off_delay_s, vib.deadband) == (5.0, 60.0, 0.1)


def test_a_user_profiles_temperature_in_celsius_gets_the_warm_up_too() -> None:
    specs = {"oil": SensorSpec(key="oil", label="Oil", unit="°C", low=-20, high=150, normal_low=30, normal_high=70)}
    assert profile_defaults(specs.values())["low:oil"].on_delay_s == WARM_UP_S


def test_a_bad_machine_override_is_ignored_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    bad = machine().model_copy(update={"metadata": {"alarm_rules": {"*": {"on_delay_s": -1}}}})
    assert machine_rules(bad) == {}
    assert "alarm_rules ignored" in caplog.text


def test_a_user_profiles_setpoint_response_moves_its_band_and_without_one_the_band_stands() -> None:
    base = {"label": "Feed", "unit": "m3/h", "low": 0.0, "high": 100.0, "normal_low": 20.0, "normal_high": 40.0}
    feed = spec_of(ProfileSensor.model_validate({"key": "feed", **base, "setpoint": {"exponent": 1.0}}))
    assert operating_band(feed, 50.0) == (10.0, 20.0)
    level = spec_of(ProfileSensor.model_validate({"key": "level", **base}))
    assert operating_band(level, 50.0) == (20.0, 40.0)
