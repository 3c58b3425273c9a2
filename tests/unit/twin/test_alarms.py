"""Alarm rules and lifecycle: raised once, escalated, cleared with hysteresis, acknowledged, cleared by hand."""

from __future__ import annotations

from datetime import timedelta

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, MachineKind, MachineStatus, sensor_specs
from factorytwin.twin.alarms import REFRESH_S, AlarmEngine
from factorytwin.twin.rules import RATE_CLEAR_HOLD_S, evaluate, offline_finding, severity_for_excess
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
