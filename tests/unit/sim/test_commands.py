"""Commands change the machine: stop stops the motion and the wear, start resumes, set_speed scales, maintain renews."""

from __future__ import annotations

import numpy as np
import pytest

from factorytwin.domain import Command, CommandKind, FailureMode, MachineKind
from factorytwin.errors import InvalidInput
from factorytwin.layout import load_layout
from factorytwin.sim import Engine, apply_command, parse_command, parse_command_message
from factorytwin.sim.state import FAILED, IDLE, MAINTENANCE, RUNNING, STOPPED

from .helpers import engine_for, group, hold_job, series

STOP = Command(command=CommandKind.STOP)
START = Command(command=CommandKind.START)
MAINTAIN = Command(command=CommandKind.MAINTAIN)


def _mill() -> Engine:
    engine = engine_for(MachineKind.CNC_MILL)
    hold_job(engine, speed_rpm=1600.0, power_w=6300.0)
    group(engine).state["change_at"][0] = 1e9
    group(engine).state["twf_at"][0] = 1e9
    return engine


def test_stop_brings_speed_and_torque_to_zero_and_wear_stops_growing() -> None:
    engine = _mill()
    engine.step(1.0, 60)
    outcome = apply_command(engine, "m1", STOP)
    assert outcome.accepted
    assert engine.status[0] == STOPPED
    wear_before = group(engine).state["tool_wear"][0]
    frame = engine.step(1.0, 1800)
    for key in ("spindle_speed", "torque", "power", "motor_current"):
        assert (series(engine, frame, key) == 0).all(), key
    assert (series(engine, frame, "tool_wear") == wear_before).all()
    assert group(engine).state["tool_wear"][0] == wear_before


def test_start_after_stop_resumes_motion_and_wear() -> None:
    engine = _mill()
    apply_command(engine, "m1", STOP)
    engine.step(1.0, 60)
    assert apply_command(engine, "m1", START).accepted
    assert engine.status[0] == RUNNING
    frame = engine.step(1.0, 600)
    assert (series(engine, frame, "spindle_speed") > 1000).all()
    wear = series(engine, frame, "tool_wear")
    assert wear[-1] > wear[0]


def test_set_speed_scales_the_spindle_and_zero_means_idle() -> None:
    engine = _mill()
    full = series(engine, engine.step(1.0, 10), "spindle_speed")
    apply_command(engine, "m1", Command(command=CommandKind.SET_SPEED, speed_pct=80.0))
    slow = series(engine, engine.step(1.0, 10), "spindle_speed")
    np.testing.assert_allclose(slow, 0.8 * full[0], rtol=1e-9)
    apply_command(engine, "m1", Command(command=CommandKind.SET_SPEED, speed_pct=0.0))
    assert engine.status[0] == IDLE
    assert (series(engine, engine.step(1.0, 10), "spindle_speed") == 0).all()
    apply_command(engine, "m1", Command(command=CommandKind.SET_SPEED, speed_pct=100.0))
    assert engine.status[0] == RUNNING


def test_maintain_resets_wear_and_returns_to_running_after_the_maintenance() -> None:
    engine = _mill()
    g = group(engine)
    g.state["tool_wear"][0] = 150.0
    g.state["bearing"][0] = 0.5
    apply_command(engine, "m1", MAINTAIN)
    assert engine.status[0] == MAINTENANCE
    assert g.state["tool_wear"][0] == 0.0
    assert g.state["bearing"][0] == 0.0
    frame = engine.step(1.0, 3 * 3600)
    kinds = [e.event for e in frame.events]
    assert "status" in kinds
    assert engine.status[0] == RUNNING


def test_start_of_a_failed_machine_is_refused_with_a_reason() -> None:
    engine = _mill()
    hold_job(engine, rnf_at=10.0)
    group(engine).job["rnf_at"][0] = 10.0
    engine.step(1.0, 60)
    assert engine.status[0] == FAILED
    outcome = apply_command(engine, "m1", START)
    assert not outcome.accepted
    assert "failed" in outcome.message


def test_a_refused_start_changes_nothing_a_stopped_machine_stays_stopped_after_its_repair() -> None:
    engine = _mill()
    apply_command(engine, "m1", STOP)
    engine.inject_failure("m1")
    assert engine.status[0] == FAILED
    assert [e.event for e in engine.step(1.0, 1).events][-1] == "failure"
    assert not apply_command(engine, "m1", START).accepted
    engine.step(60.0, 24 * 60)  # a day: the repair is over
    assert engine.status[0] == STOPPED  # the refused start did not make it start after the repair


def test_inject_failure_fails_the_machine_now_in_the_mode_with_its_repair() -> None:
    engine = _mill()
    engine.inject_failure("m1", FailureMode.TOOL_WEAR)
    events = engine.step(1.0, 1).events
    assert engine.status[0] == FAILED
    assert [(e.event, e.mode) for e in events] == [("failure", "tool_wear")]
    engine.step(60.0, 24 * 60)
    assert engine.status[0] == RUNNING
    with pytest.raises(KeyError):
        engine.inject_failure("m1", FailureMode.CAVITATION)  # a mill has no pump's failure


def test_every_command_is_logged_as_a_command_event() -> None:
    engine = _mill()
    apply_command(engine, "m1", STOP, command_id="c-1")
    events = engine.step(1.0, 1).events
    command = next(e for e in events if e.event == "command")
    assert command.data == {"command": "stop", "accepted": True, "issued_by": "operator", "command_id": "c-1"}
    assert any(e.event == "status" and e.status.value == "stopped" for e in events)


def test_unknown_machine_is_an_error_naming_machine_id() -> None:
    engine = Engine(load_layout(), seed=0)
    with pytest.raises(InvalidInput) as err:
        apply_command(engine, "mill-99", STOP)
    assert err.value.problems[0].loc == ("machine_id",)
    assert "mill-99" in str(err.value)


def test_unknown_command_is_an_error_naming_command() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_command({"command": "explode"})
    assert err.value.problems[0].loc == ("command",)


@pytest.mark.parametrize("pct", [-1.0, 120.5, 500.0])
def test_out_of_range_speed_is_an_error_naming_speed_pct(pct: float) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_command({"command": "set_speed", "speed_pct": pct})
    assert err.value.problems[0].loc == ("speed_pct",)
    engine = _mill()
    bad = Command.model_construct(command=CommandKind.SET_SPEED, speed_pct=pct, issued_by="x")
    with pytest.raises(InvalidInput, match="speed_pct"):
        apply_command(engine, "m1", bad)


def test_command_message_from_mqtt_payload_bytes() -> None:
    payload = b'{"id":"1","machine_id":"mill-01","ts":"2025-01-01T00:00:00Z","command":"set_speed","speed_pct":70}'
    message = parse_command_message(payload)
    assert message.speed_pct == 70.0
    assert message.machine_id == "mill-01"
    with pytest.raises(InvalidInput):
        parse_command_message(b"not json")


def test_stopped_machine_reads_exactly_zero_motion_even_with_sensor_noise() -> None:
    engine = engine_for(MachineKind.CNC_MILL, noise=True)
    apply_command(engine, "m1", STOP)
    frame = engine.step(1.0, 600)
    for key in ("spindle_speed", "torque", "power", "motor_current"):
        assert (series(engine, frame, key) == 0.0).all(), key
    assert series(engine, frame, "air_temp").std() > 0  # the rest still carries measurement noise
