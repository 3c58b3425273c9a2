"""The event bus: wire encoding and in-process delivery."""

from __future__ import annotations

import json

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, TelemetryBatch
from factorytwin.plant.service import PlantChanged
from factorytwin.prediction import Prediction
from factorytwin.twin.bus import BusEvent, BusEventType, InProcessBus
from tests.unit.twin.helpers import T0, batch, reading


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
