"""Alarm rules and lifecycle: raised once, escalated, cleared with hysteresis, acknowledged, cleared by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, MachineKind, MachineStatus, sensor_specs
from factorytwin.twin.alarms import REFRESH_S, AlarmEngine
from factorytwin.twin.operating import Tuning
from factorytwin.twin.rules import RATE_CLEAR_HOLD_S, Verdict, evaluate, offline_finding, severity_for_excess
from factorytwin.twin.state import SensorObservation
from tests.unit.twin.helpers import T0

SPECS = sensor_specs(MachineKind.CNC_MILL)


def obs(value: float, rate: float = 0.0) -> SensorObservation:
    return SensorObservation(value, value, value, rate)


def step(
    engine: AlarmEngine, second: float, status: MachineStatus = MachineStatus.RUNNING, **values: float
) -> list[Alarm]:
    findings = evaluate(SPECS, status, {k: obs(v) for k, v in values.items()})
    return engine.apply("mill-01", findings, T0 + timedelta(seconds=second))


def test_severity_grows_with_distance_beyond_the_band() -> None:
    assert severity_for_excess(0.05) is AlarmSeverity.WARNING
    assert severity_for_excess(0.2) is AlarmSeverity.MINOR
    assert severity_for_excess(0.4) is AlarmSeverity.MAJOR
    assert severity_for_excess(0.9) is AlarmSeverity.CRITICAL


def test_alarm_is_raised_once_while_the_condition_lasts() -> None:
    engine = AlarmEngine()
    (raised,) = step(engine, 0, process_temp=317.0)
    assert raised.type == "high:process_temp"
    assert raised.state is AlarmState.ACTIVE_UNACK
    assert raised.severity is AlarmSeverity.WARNING
    assert step(engine, 1, process_temp=317.2) == []
    assert step(engine, 2, process_temp=316.5) == []
    assert len(engine.alarms()) == 1


def test_severity_escalates_but_does_not_drop_back() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, process_temp=317.0)
    (escalated,) = step(engine, 1, process_temp=324.0)  # 8 K over a 13 K band: 62 % -> critical
    assert escalated is alarm
    assert alarm.severity is AlarmSeverity.CRITICAL
    assert step(engine, 2, process_temp=317.0) == []
    assert alarm.severity is AlarmSeverity.CRITICAL


def test_alarm_clears_only_when_back_inside_the_band_by_the_hysteresis_margin() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, process_temp=317.0)
    assert step(engine, 1, process_temp=315.9) == []  # inside, but within 2 % of 13 K of the edge: hold
    (cleared,) = step(engine, 2, process_temp=315.0)
    assert cleared is alarm
    assert alarm.state is AlarmState.CLEARED_UNACK
    assert alarm.cleared_by == "system"
    assert engine.alarms() == []
    (again,) = step(engine, 3, process_temp=317.0)
    assert again is not alarm  # a new occurrence is a new alarm


def test_low_alarm_only_while_running() -> None:
    engine = AlarmEngine()
    assert step(engine, 0, status=MachineStatus.IDLE, spindle_speed=0.0) == []
    (low,) = step(engine, 1, spindle_speed=900.0)
    assert low.type == "low:spindle_speed"
    (cleared,) = step(engine, 2, status=MachineStatus.IDLE, spindle_speed=0.0)
    assert cleared is low


def test_rate_alarm_clears_after_the_hold_time() -> None:
    engine = AlarmEngine()
    ts = T0
    rate = evaluate(SPECS, MachineStatus.RUNNING, {"air_temp": obs(300.0, rate=2.0)})
    (alarm,) = engine.apply("mill-01", rate, ts)
    assert alarm.type == "rate:air_temp"
    assert alarm.severity is AlarmSeverity.MAJOR  # 4x max_rate
    calm = evaluate(SPECS, MachineStatus.RUNNING, {"air_temp": obs(300.0, rate=0.0)})
    assert engine.apply("mill-01", calm, ts + timedelta(seconds=RATE_CLEAR_HOLD_S - 1)) == []
    (cleared,) = engine.apply("mill-01", calm, ts + timedelta(seconds=RATE_CLEAR_HOLD_S))
    assert cleared.state is AlarmState.CLEARED_UNACK


def test_failed_status_raises_a_critical_alarm_cleared_when_it_recovers() -> None:
    engine = AlarmEngine()
    (failed,) = step(engine, 0, status=MachineStatus.FAILED)
    assert (failed.type, failed.severity) == ("failed", AlarmSeverity.CRITICAL)
    (cleared,) = step(engine, 1, status=MachineStatus.MAINTENANCE)
    assert cleared is failed


def test_offline_alarm_is_cleared_by_the_next_telemetry() -> None:
    engine = AlarmEngine()
    (offline,) = engine.apply("mill-01", [offline_finding(31)], T0)
    assert (offline.type, offline.severity) == ("offline", AlarmSeverity.MAJOR)
    (cleared,) = step(engine, 40, air_temp=300.0)
    assert cleared is offline


def test_acknowledge_then_clear_records_who_and_when() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, process_temp=317.0)
    alarm.id = 7
    assert engine.find(7) is alarm
    assert engine.acknowledge(alarm, "alice", T0 + timedelta(seconds=5))
    assert (alarm.state, alarm.acked_by) == (AlarmState.ACTIVE_ACK, "alice")
    assert not engine.acknowledge(alarm, "bob", T0)  # twice changes nothing
    assert engine.clear(alarm, "bob", T0 + timedelta(seconds=9))
    assert (alarm.state, alarm.cleared_by) == (AlarmState.CLEARED_ACK, "bob")
    assert engine.alarms() == []
    assert engine.find(7) is alarm  # still at hand
    assert not engine.clear(alarm, "carol", T0)


def test_cleared_unacknowledged_alarm_can_be_acknowledged_later() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, process_temp=317.0)
    step(engine, 1, process_temp=310.0)
    assert engine.acknowledge(alarm, "alice", T0)
    assert alarm.state is AlarmState.CLEARED_ACK


def test_loaded_active_alarms_are_updated_not_duplicated() -> None:
    first = AlarmEngine()
    (alarm,) = step(first, 0, process_temp=317.0)
    alarm.id = 1
    restarted = AlarmEngine()
    restarted.load([alarm.model_copy()])
    assert step(restarted, 5, process_temp=317.2) == []
    assert [a.id for a in restarted.alarms()] == [1]
    assert restarted.severities("mill-01") == [AlarmSeverity.WARNING]


def test_calm_sensors_without_alarms_are_skipped_but_alarmed_ones_can_clear() -> None:
    calm = {"torque": obs(40.0), "process_temp": obs(310.0)}
    findings = evaluate(SPECS, MachineStatus.RUNNING, calm, alarmed_sensors=set())
    assert {f.type for f in findings} == {"failed", "offline"}
    findings = evaluate(SPECS, MachineStatus.RUNNING, calm, alarmed_sensors={"process_temp"})
    assert "high:process_temp" in {f.type for f in findings}
    hot = evaluate(SPECS, MachineStatus.RUNNING, {"torque": obs(70.0)}, alarmed_sensors=set())
    assert "high:torque" in {f.type for f in hot}


def test_a_lasting_alarm_is_refreshed_now_and_then_not_at_every_reading() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, process_temp=317.0)
    assert step(engine, REFRESH_S - 1, process_temp=317.1) == []
    (refreshed,) = step(engine, REFRESH_S, process_temp=317.2)
    assert refreshed is alarm
    assert alarm.value == 317.2
    assert alarm.updated_at == T0 + timedelta(seconds=REFRESH_S)


# -- the operating point, deliberate states, on-delay, deadband, shelving, comments ----------------------------------
PUMP = sensor_specs(MachineKind.PUMP)
PUMP_AT_HALF = {
    "motor_speed": 1300.0,
    "flow_rate": 38.0,
    "outlet_pressure": 3.2,
    "motor_current": 9.0,
    "inlet_pressure": 1.7,
    "bearing_temp": 320.0,
    "vibration": 1.5,
    "air_temp": 300.0,
}


def pump_types(speed_pct: float, values: dict[str, float], status: MachineStatus = MachineStatus.RUNNING) -> set[str]:
    findings = evaluate(PUMP, status, {k: obs(v) for k, v in values.items()}, speed_pct=speed_pct)
    return {f.type for f in findings if f.verdict is Verdict.RAISE}


def test_a_pump_set_to_half_speed_raises_nothing_but_a_real_fault_at_half_speed_does() -> None:
    assert pump_types(100.0, PUMP_AT_HALF) == {
        "low:motor_speed",
        "low:flow_rate",
        "low:outlet_pressure",
        "low:motor_current",
    }
    assert pump_types(50.0, PUMP_AT_HALF) == set()
    assert pump_types(50.0, {**PUMP_AT_HALF, "flow_rate": 15.0}) == {"low:flow_rate"}


def test_a_stopped_idle_or_maintained_machine_has_no_process_alarms_but_wear_stays_alarmed() -> None:
    still = {"spindle_speed": 0.0, "torque": 0.0, "power": 0.0, "motor_current": 0.0, "tool_wear": 230.0}
    for status in (MachineStatus.STOPPED, MachineStatus.IDLE):
        raised = {f.type for f in evaluate(SPECS, status, {k: obs(v) for k, v in still.items()})
                  if f.verdict is Verdict.RAISE}  # fmt: skip
        assert raised == {"high:tool_wear"}
    maintained = evaluate(SPECS, MachineStatus.MAINTENANCE, {k: obs(v) for k, v in still.items()})
    assert not [f for f in maintained if f.verdict is Verdict.RAISE]


def test_process_alarms_clear_at_once_when_the_machine_is_stopped() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, vibration=6.0)
    (cleared,) = step(engine, 1, status=MachineStatus.STOPPED, vibration=6.0)
    assert cleared is alarm
    assert alarm.state is AlarmState.CLEARED_UNACK


def tuned(on: float = 0.0, off: float = 0.0, deadband: float = 0.02) -> Callable[[str], Tuning]:
    return lambda rule_type: Tuning(on_delay_s=on, off_delay_s=off, deadband=deadband)


def tuned_step(engine: AlarmEngine, second: float, tuning: Callable[[str], Tuning], **values: float) -> list[Alarm]:
    findings = evaluate(SPECS, MachineStatus.RUNNING, {k: obs(v) for k, v in values.items()}, tuning_of=tuning)
    return engine.apply("mill-01", findings, T0 + timedelta(seconds=second))


def test_an_alarm_is_raised_only_once_its_condition_has_held_for_the_on_delay() -> None:
    engine, tuning = AlarmEngine(), tuned(on=30.0)
    assert tuned_step(engine, 0, tuning, process_temp=317.0) == []
    assert engine.pending("mill-01") == ["high:process_temp"]
    assert tuned_step(engine, 20, tuning, process_temp=317.0) == []
    (alarm,) = tuned_step(engine, 30, tuning, process_temp=317.0)
    assert alarm.raised_at == T0 + timedelta(seconds=30)  # when it was raised, not when the condition began
    assert engine.pending("mill-01") == []


def test_a_short_excursion_within_the_on_delay_raises_nothing_and_starts_over() -> None:
    engine, tuning = AlarmEngine(), tuned(on=30.0)
    assert tuned_step(engine, 0, tuning, process_temp=317.0) == []
    assert tuned_step(engine, 10, tuning, process_temp=315.9) == []  # back in (inside the deadband): forgotten
    assert engine.pending("mill-01") == []
    assert tuned_step(engine, 20, tuning, process_temp=317.0) == []
    assert tuned_step(engine, 45, tuning, process_temp=317.0) == []  # 25 s since it came back
    assert len(tuned_step(engine, 50, tuning, process_temp=317.0)) == 1


def test_on_delay_counts_machine_seconds_of_a_time_compressed_simulator() -> None:
    engine, tuning = AlarmEngine(time_scale=60.0), tuned(on=90.0)
    assert tuned_step(engine, 0, tuning, process_temp=317.0) == []
    assert tuned_step(engine, 1, tuning, process_temp=317.0) == []  # 60 machine seconds
    assert len(tuned_step(engine, 2, tuning, process_temp=317.0)) == 1  # 120


def test_deadband_and_off_delay_of_a_rule() -> None:
    engine, tuning = AlarmEngine(), tuned(off=20.0, deadband=0.1)
    (alarm,) = tuned_step(engine, 0, tuning, process_temp=317.0)
    assert tuned_step(engine, 5, tuning, process_temp=315.0) == []  # inside by 1 K < 10 % of 13 K
    assert tuned_step(engine, 10, tuning, process_temp=314.0) == []  # deep inside, but only 10 s after
    (cleared,) = tuned_step(engine, 20, tuning, process_temp=314.0)
    assert cleared is alarm


def test_text_and_value_of_an_alarm_are_the_same_number() -> None:
    press = sensor_specs(MachineKind.HYDRAULIC_PRESS)
    (finding,) = [
        f for f in evaluate(press, MachineStatus.RUNNING, {"seal_wear": obs(87.5449)}) if f.verdict is Verdict.RAISE
    ]
    assert finding.value == 87.54
    assert "87.54 %" in finding.message


def test_the_failure_alarm_names_the_failure_mode() -> None:
    (failed,) = [f for f in evaluate(SPECS, MachineStatus.FAILED, {}, failure_mode="tool_wear") if f.type == "failed"]
    assert failed.message == "machine failed: tool wear failure"


def test_a_shelved_alarm_is_set_aside_until_its_expiry_and_a_new_one_is_born_shelved() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, vibration=6.0)
    until = T0 + timedelta(minutes=30)
    engine.shelve(alarm, until, "bearing ordered", "alice", T0 + timedelta(seconds=1))
    assert (alarm.shelved_until, alarm.shelved_by, alarm.shelve_reason) == (until, "alice", "bearing ordered")
    assert engine.severities("mill-01", T0 + timedelta(minutes=1)) == []  # not in health while shelved
    step(engine, 60, vibration=2.0)  # cleared while shelved
    (again,) = step(engine, 120, vibration=6.0)
    assert again is not alarm
    assert again.shelved_until == until
    assert engine.expire_shelves(T0 + timedelta(minutes=29)) == []
    (shown,) = engine.expire_shelves(until)
    assert shown is again
    assert again.shelved_until is None
    assert engine.severities("mill-01", until) == [AlarmSeverity.MAJOR]


def test_shelving_needs_an_active_alarm_and_a_near_future_expiry() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, vibration=6.0)
    with pytest.raises(ValueError, match="future"):
        engine.shelve(alarm, T0, "x", "alice", T0)
    with pytest.raises(ValueError, match="at most"):
        engine.shelve(alarm, T0 + timedelta(days=8), "x", "alice", T0)
    engine.shelve(alarm, T0 + timedelta(hours=1), "x", "alice", T0)
    assert engine.unshelve(alarm, T0)
    assert not engine.unshelve(alarm, T0)
    step(engine, 1, vibration=2.0)
    with pytest.raises(ValueError, match="active"):
        engine.shelve(alarm, T0 + timedelta(hours=1), "x", "alice", T0)


def test_comments_are_kept_in_order_on_active_and_cleared_alarms() -> None:
    engine = AlarmEngine()
    (alarm,) = step(engine, 0, vibration=6.0)
    engine.comment(alarm, "checking the bearing", "alice", T0)
    step(engine, 1, vibration=2.0)
    engine.comment(alarm, "bearing fine, sensor loose", "bob", T0 + timedelta(seconds=9))
    assert [(c.by, c.text) for c in alarm.comments] == [
        ("alice", "checking the bearing"),
        ("bob", "bearing fine, sensor loose"),
    ]
