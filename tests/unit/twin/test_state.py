"""Live state: values, status from events and from the activity sensor, offline detection."""

from __future__ import annotations

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.twin.state import TwinState
from tests.unit.twin.helpers import T0, batch, machine, reading, status_event


def status_of(state: TwinState, machine_id: str = "mill-01") -> MachineStatus:
    """A machine's status, read afresh (a call, so that the type checker does not narrow it between applies)."""
    return state.machines[machine_id].status


def test_registered_machine_is_offline_until_it_reports() -> None:
    state = TwinState([machine()])
    assert state.states()[0].status is MachineStatus.OFFLINE
    state.apply(batch(reading(0)), T0, 0.0)
    live = state.machines["mill-01"]
    assert live.status is MachineStatus.RUNNING
    assert live.values["spindle_speed"] == 1500.0
    assert live.last_seen == T0


def test_spindle_at_rest_means_idle_and_moving_again_means_running() -> None:
    state = TwinState([machine()])
    state.apply(batch(reading(0, spindle_speed=0.0)), T0, 0.0)
    assert status_of(state) is MachineStatus.IDLE
    (update,) = state.apply(batch(reading(1)), T0, 1.0)
    assert update.status_changed
    assert status_of(state) is MachineStatus.RUNNING


def test_failed_status_from_an_event_sticks_until_another_event() -> None:
    state = TwinState([machine()])
    state.apply(batch(reading(0), events=[status_event(0, MachineStatus.FAILED)]), T0, 0.0)
    state.apply(batch(reading(1)), T0, 1.0)
    assert status_of(state) is MachineStatus.FAILED
    state.apply(batch(reading(2), events=[status_event(2, MachineStatus.RUNNING)]), T0, 2.0)
    assert status_of(state) is MachineStatus.RUNNING


def test_stopped_lasts_until_the_machine_moves_again() -> None:
    state = TwinState([machine()])
    state.apply(batch(reading(0, spindle_speed=0.0), events=[status_event(0, MachineStatus.STOPPED)]), T0, 0.0)
    assert status_of(state) is MachineStatus.STOPPED
    state.apply(batch(reading(1, spindle_speed=0.0)), T0, 1.0)
    assert status_of(state) is MachineStatus.STOPPED
    state.apply(batch(reading(2)), T0, 2.0)
    assert status_of(state) is MachineStatus.RUNNING


def test_older_readings_do_not_overwrite_newer_values() -> None:
    state = TwinState([machine()])
    state.apply(batch(reading(10, torque=50.0)), T0, 0.0)
    state.apply(batch(reading(5, torque=10.0)), T0, 1.0)
    assert state.machines["mill-01"].values["torque"] == 50.0


def test_batch_observation_keeps_extremes_and_rate() -> None:
    state = TwinState([machine()])
    (update,) = state.apply(
        batch(reading(0, process_temp=310.0), reading(1, process_temp=320.0), reading(2, process_temp=311.0)),
        T0,
        0.0,
    )
    obs = update.observations["process_temp"]
    assert (obs.maximum, obs.minimum, obs.last) == (320.0, 310.0, 311.0)
    assert obs.rate == 10.0


def test_rates_of_a_time_compressed_simulator_are_read_in_the_machines_own_time() -> None:
    # a simulator at 60x: 10 K per wall second is 10 K per simulated minute
    state = TwinState([machine()], time_scale=60.0)
    (update,) = state.apply(batch(reading(0, process_temp=310.0), reading(1, process_temp=320.0)), T0, 0.0)
    assert abs(update.observations["process_temp"].rate - 10.0 / 60.0) < 1e-9


def test_silent_machine_goes_offline_after_the_timeout() -> None:
    state = TwinState([machine(), machine("mill-02")])
    state.apply(batch(reading(0)), T0, 100.0)
    assert state.silent_since(129.0, 30.0) == []
    gone = state.silent_since(130.0, 30.0)
    assert [g.machine_id for g in gone] == ["mill-01"]  # mill-02 never reported: nothing to lose
    assert status_of(state) is MachineStatus.OFFLINE
    assert state.silent_since(200.0, 30.0) == []  # once
    state.apply(batch(reading(1)), T0, 201.0)
    assert status_of(state) is MachineStatus.RUNNING


def test_unknown_machine_in_a_batch_is_ignored() -> None:
    state = TwinState([machine()])
    assert state.apply(batch(reading(0, machine_id="ghost-1")), T0, 0.0) == []


def test_the_setpoint_follows_applied_set_speed_answers_and_a_failure_keeps_its_mode() -> None:
    state = TwinState([machine()])
    answer = Event(
        machine_id="mill-01",
        ts=T0,
        kind=EventKind.COMMAND,
        message="speed set to 50 % of nominal",
        data={"command": "set_speed", "accepted": True, "speed_pct": 50.0, "command_id": "c1"},
    )
    refused = answer.model_copy(update={"data": {**answer.data, "accepted": False, "speed_pct": 80.0}})
    (upd,) = state.apply(batch(reading(0), events=[answer, refused]), T0, 0.0)
    assert upd.setpoint_changed
    assert state.machines["mill-01"].speed_pct == 50.0
    assert state.states()[0].speed_pct == 50.0
    failure = status_event(1, MachineStatus.FAILED, mode="bearing").model_copy(update={"kind": EventKind.FAULT})
    state.apply(batch(events=[failure]), T0, 1.0)
    assert state.states()[0].failure_mode == "bearing"
