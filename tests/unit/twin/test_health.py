"""The health score."""

from __future__ import annotations

from factorytwin.domain import AlarmSeverity, MachineKind, MachineStatus, sensor_specs
from factorytwin.twin.health import health_score
from tests.unit.twin.helpers import MILL_NORMAL

SPECS = sensor_specs(MachineKind.CNC_MILL)


def test_all_values_in_band_and_no_alarms_is_full_health() -> None:
    assert health_score(SPECS, MILL_NORMAL, [], MachineStatus.RUNNING) == 100.0


def test_health_drops_with_distance_outside_the_band_and_with_alarms() -> None:
    # process_temp band 303-316 K (13 K wide): 2.6 K above is 20 % of the width -> 10 points.
    values = {**MILL_NORMAL, "process_temp": 318.6}
    assert health_score(SPECS, values, [], MachineStatus.RUNNING) == 90.0
    assert health_score(SPECS, values, [AlarmSeverity.MINOR], MachineStatus.RUNNING) == 80.0


def test_failed_machine_has_zero_health_and_score_never_goes_negative() -> None:
    assert health_score(SPECS, MILL_NORMAL, [], MachineStatus.FAILED) == 0.0
    many = [AlarmSeverity.CRITICAL] * 5
    far = {key: spec.high for key, spec in SPECS.items()}
    assert health_score(SPECS, far, many, MachineStatus.RUNNING, failure_probability=1.0) == 0.0


def test_predicted_failure_probability_lowers_health() -> None:
    assert health_score(SPECS, MILL_NORMAL, [], MachineStatus.RUNNING, failure_probability=0.5) == 85.0


def test_a_stopped_healthy_machine_keeps_its_health_and_its_zero_rpm_is_not_out_of_band() -> None:
    still = {**MILL_NORMAL, "spindle_speed": 0.0, "torque": 0.0, "power": 0.0, "motor_current": 0.0}
    for status in (MachineStatus.STOPPED, MachineStatus.IDLE, MachineStatus.MAINTENANCE):
        assert health_score(SPECS, still, [], status) == 100.0
    assert health_score(SPECS, still, [], MachineStatus.RUNNING) < 100.0  # running at 0 rpm is a fault


def test_wear_counts_in_health_whatever_the_machine_does() -> None:
    worn = {**MILL_NORMAL, "spindle_speed": 0.0, "tool_wear": 240.0}  # 40 min over a 200 min band: 10 points
    assert health_score(SPECS, worn, [], MachineStatus.STOPPED) == 90.0


def test_a_machine_at_a_lower_setpoint_is_judged_at_its_operating_point() -> None:
    half = {**MILL_NORMAL, "spindle_speed": 800.0}
    assert health_score(SPECS, half, [], MachineStatus.RUNNING, speed_pct=50.0) == 100.0
    assert health_score(SPECS, half, [], MachineStatus.RUNNING) < 100.0
