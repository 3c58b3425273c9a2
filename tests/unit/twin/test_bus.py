"""The event bus: wire encoding and in-process delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, ReadingSet, TelemetryBatch
from factorytwin.plant.service import PlantChanged
from factorytwin.prediction import Prediction
from factorytwin.twin.bus import BusEvent, BusEventType, InProcessBus, latest_readings
from factorytwin.twin.state import TwinState
from tests.unit.twin.helpers import MILL_NORMAL, T0, batch, machine, reading


def test_bus_event_survives_the_wire() -> None:
    event = BusEvent("telemetry", "node-a", batch(reading(0)))
    back = BusEvent.decode(event.encode())
    assert back.origin == "node-a"
    assert isinstance(back.payload, TelemetryBatch)
    assert back.payload == event.payload


def test_a_prediction_crosses_the_bus_as_its_model() -> None:
    event = BusEvent("prediction", "node-a", Prediction(machine_id="mill-01", probability=0.25))
    back = BusEvent.decode(event.encode())
    assert back.payload == Prediction(machine_id="mill-01", probability=0.25)


def test_unknown_bus_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="type: Input should be"):
        BusEvent.decode(b'{"type": "nope", "origin": "x", "payload": {}}')


async def test_in_process_bus_delivers_to_every_handler_even_if_one_fails() -> None:
    bus = InProcessBus()
    seen: list[str] = []

    async def broken(event: BusEvent) -> None:
        raise RuntimeError("boom")

    async def good(event: BusEvent) -> None:
        seen.append(event.type)

    bus.subscribe(broken)
    bus.subscribe(good)
    await bus.publish(BusEvent("prediction", bus.origin, Prediction(machine_id="mill-01")))
    assert seen == ["prediction"]


def test_every_event_type_survives_the_wire_as_its_model() -> None:
    alarm = Alarm(
        id=3,
        machine_id="mill-01",
        type="high:torque",
        severity=AlarmSeverity.MAJOR,
        state=AlarmState.ACTIVE_UNACK,
        message="torque high",
        raised_at=T0,
        updated_at=T0,
    )
    event = Event(id=9, machine_id="mill-01", ts=T0, kind=EventKind.NOTE, message="checked", data={"by": "ann"})
    cases: list[tuple[BusEventType, Alarm | Event | PlantChanged]] = [
        ("alarm", alarm),
        ("event", event),
        ("plant", PlantChanged(what="machine")),
    ]
    for kind, payload in cases:
        back = BusEvent.decode(BusEvent(kind, "node-a", payload).encode())
        assert (back.type, back.origin, back.payload) == (kind, "node-a", payload)


def test_a_message_of_the_earlier_encoding_is_read_the_same() -> None:
    """Processes of two versions on one broker (a rolling upgrade): the envelope as ``json.dumps`` wrote it."""
    event = BusEvent("telemetry", "node-a", batch(reading(0)))
    body = {"type": "telemetry", "origin": "node-a", "payload": event.payload.model_dump(mode="json")}
    assert BusEvent.decode(json.dumps(body).encode()) == event


def test_the_bus_carries_each_sensors_latest_value_and_every_event() -> None:
    first = batch(reading(0, torque=41.0), reading(1, "mill-02", torque=50.0), reading(2, torque=42.0))
    # Of equal timestamps the later reading wins; one with fewer sensors leaves the others where they were.
    second = batch(
        reading(2, torque=43.0),
        ReadingSet(machine_id="mill-01", ts=T0 + timedelta(seconds=3), values={"power": 7.5}),
        events=[Event(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, message="n")],
    )
    third = batch(reading(1, "mill-02", torque=99.0), events=[Event(machine_id="mill-02", ts=T0, kind=EventKind.NOTE)])
    out = latest_readings([first, second, third])
    assert [e.machine_id for e in out.events] == ["mill-01", "mill-02"]
    by_set = {(rs.machine_id, (rs.ts - T0).seconds): rs.values for rs in out.readings}
    mill_01_at_2 = {**MILL_NORMAL, "torque": 43.0}
    del mill_01_at_2["power"]
    assert by_set == {
        ("mill-01", 2): mill_01_at_2,
        ("mill-01", 3): {"power": 7.5},
        ("mill-02", 1): {**MILL_NORMAL, "torque": 99.0},
    }
    assert BusEvent.decode(BusEvent("telemetry", "a", out).encode()).payload == out  # a valid batch on the wire


def test_a_twin_shows_the_same_from_the_latest_readings_as_from_every_one() -> None:
    batches = [
        batch(*(reading(s + k / 4, f"mill-0{1 + (s + k) % 3}", torque=40.0 + s + k) for k in range(4)))
        for s in range(6)
    ]
    batches.append(batch(reading(1.5, "mill-01", torque=10.0)))  # older than what is shown: history, not news
    every, latest = TwinState(), TwinState()
    for state in (every, latest):
        state.register([machine(f"mill-0{i}") for i in (1, 2, 3)])
    for b in batches:
        every.apply(b, T0, 0.0)
    latest.apply(latest_readings(batches), T0, 0.0)
    for machine_id, live in every.machines.items():
        other = latest.machines[machine_id]
        assert (other.values, other.value_ts_ms, other.values_ts_ms) == (
            live.values,
            live.value_ts_ms,
            live.values_ts_ms,
        )
        assert other.status is live.status
