"""The event bus: wire encoding and in-process delivery."""

from __future__ import annotations

import pytest

from factorytwin.domain import TelemetryBatch
from factorytwin.prediction import Prediction
from factorytwin.twin.bus import BusEvent, InProcessBus
from tests.unit.twin.helpers import batch, reading


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
