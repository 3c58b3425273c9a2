"""The MQTT bus validates what it receives: forged or malformed bus messages are dropped and counted, not applied."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, MachineKind, sensor_specs
from factorytwin.mqtt import MqttEndpoint
from factorytwin.plant.service import PlantChanged
from factorytwin.twin.bus import BUS_TOPIC_PREFIX, BusEvent, MqttBus
from factorytwin.twin.busguard import BusGuard
from tests.unit.twin.helpers import T0, batch, reading


def _bus() -> tuple[MqttBus, list[BusEvent]]:
    bus = MqttBus(MqttEndpoint("127.0.0.1", 1), origin="self")
    bus.guard = BusGuard({"mill-01": sensor_specs(MachineKind.CNC_MILL)})
    seen: list[BusEvent] = []

    async def handler(event: BusEvent) -> None:
        seen.append(event)

    bus.subscribe(handler)
    return bus, seen


def _alarm(**changes: Any) -> Alarm:
    fields: dict[str, Any] = {
        "id": 5,
        "machine_id": "mill-01",
        "type": "high:torque",
        "severity": AlarmSeverity.CRITICAL,
        "state": AlarmState.ACTIVE_UNACK,
        "message": "torque high",
        "raised_at": T0,
        "updated_at": T0,
    }
    return Alarm.model_validate({**fields, **changes})


def _telemetry(**values: float) -> dict[str, Any]:
    return batch(reading(0, "mill-01", **values)).model_dump(mode="json")


def _wire(kind: str, payload: dict[str, Any], origin: str = "other") -> bytes:
    return json.dumps({"type": kind, "origin": origin, "payload": payload}).encode()


async def test_a_valid_event_of_another_process_is_delivered() -> None:
    bus, seen = _bus()
    event = BusEvent("telemetry", "node-b", batch(reading(0)))
    assert await bus.receive(BUS_TOPIC_PREFIX + "telemetry", event.encode())
    assert await bus.receive(BUS_TOPIC_PREFIX + "alarm", BusEvent("alarm", "node-b", _alarm()).encode())
    assert [e.type for e in seen] == ["telemetry", "alarm"]
    assert bus.dropped == {}


async def test_a_plant_change_of_another_process_is_delivered_without_content() -> None:
    bus, seen = _bus()
    event = BusEvent("plant", "node-b", PlantChanged(what="profile"))
    assert await bus.receive(BUS_TOPIC_PREFIX + "plant", event.encode())
    assert [e.payload for e in seen] == [PlantChanged(what="profile")]


@pytest.mark.parametrize(
    ("topic", "raw", "reason"),
    [
        ("telemetry", b"not json", "malformed"),
        ("telemetry", b"[" * 5000, "malformed"),
        ("telemetry", b'{"type": "telemetry", "origin": "x"}', "malformed"),
        ("telemetry", b'{"type": "nope", "origin": "x", "payload": {}}', "malformed"),
        ("telemetry", b'{"type": "telemetry", "origin": "a b\\u0000", "payload": {}}', "malformed"),
        ("telemetry", _wire("telemetry", {"readings": "many"}), "malformed"),
        ("alarm", _wire("telemetry", batch(reading(0)).model_dump(mode="json")), "wrong_topic"),
        (
            "telemetry",
            _wire("telemetry", _telemetry(torque=99999.0)),
            "invalid_telemetry",
        ),
        ("telemetry", _wire("telemetry", batch(reading(0, "ghost-01")).model_dump(mode="json")), "invalid_telemetry"),
        ("alarm", _wire("alarm", _alarm(type="fake:anything").model_dump(mode="json")), "invalid_alarm"),
        ("alarm", _wire("alarm", _alarm(id=None).model_dump(mode="json")), "invalid_alarm"),
        ("alarm", _wire("alarm", _alarm(machine_id="ghost-01").model_dump(mode="json")), "invalid_alarm"),
        ("prediction", _wire("prediction", {"machine_id": "ghost-01"}), "invalid_prediction"),
        ("plant", _wire("plant", {"what": "machine", "machine": {"id": "forged"}}), "malformed"),
    ],
    ids=[
        "not-json",
        "deep",
        "no-payload",
        "unknown-type",
        "bad-origin",
        "bad-payload-shape",
        "topic-not-the-type",
        "torque-99999",
        "unknown-machine",
        "alarm-type-no-rule-raises",
        "alarm-without-id",
        "alarm-unknown-machine",
        "prediction-unknown-machine",
        "plant-change-with-content",
    ],
)
async def test_a_malformed_or_forged_bus_message_is_dropped_and_counted(topic: str, raw: bytes, reason: str) -> None:
    bus, seen = _bus()
    assert not await bus.receive(BUS_TOPIC_PREFIX + topic, raw)
    assert seen == []
    assert bus.dropped == {reason: 1}


async def test_a_flood_of_forged_alarms_adds_at_most_one_alarm_per_rule_type() -> None:
    bus, seen = _bus()
    accepted = 0
    for i in range(2_000):
        alarm = _alarm(id=i + 1, type=f"high:fake{i}" if i % 2 else "high:torque", raised_at=T0 + timedelta(seconds=i))
        accepted += await bus.receive(BUS_TOPIC_PREFIX + "alarm", BusEvent("alarm", "evil", alarm).encode())
    assert accepted == 1_000  # every one of a rule's type passes the guard ...
    assert {e.payload.type for e in seen if isinstance(e.payload, Alarm)} == {"high:torque"}  # ... all one alarm
    assert bus.dropped == {"invalid_alarm": 1_000}


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", "2999-01-01T00:00:00Z"])
async def test_telemetry_stamped_out_of_bounds_is_dropped(ts: str) -> None:
    bus, _ = _bus()
    body = {"readings": [{"machine_id": "mill-01", "ts": ts, "values": {"torque": 40.0}}], "events": []}
    assert not await bus.receive(BUS_TOPIC_PREFIX + "telemetry", _wire("telemetry", body))
    assert bus.dropped == {"invalid_telemetry": 1}


async def test_an_own_echo_is_dropped_before_it_is_decoded_and_counted_apart_from_forgeries() -> None:
    bus, seen = _bus()
    own = BusEvent("telemetry", "self", batch(reading(0))).encode()
    assert not await bus.receive(BUS_TOPIC_PREFIX + "telemetry", own)
    # A message claiming this origin is never applied, valid or not: it is not even decoded.
    assert not await bus.receive(BUS_TOPIC_PREFIX + "alarm", b'{"type": "alarm", "origin": "self", "payload": [')
    assert (seen, bus.echoes, bus.dropped) == ([], 2, {})


@pytest.mark.parametrize(
    ("topic", "raw"),
    [
        ("telemetry", _wire("telemetry", {"readings": [], "events": []}, origin="selfish")),  # a longer origin
        ("telemetry", _wire("telemetry", {"readings": [], "events": []}, origin="sel")),  # a shorter one
        ("alarm", _wire("telemetry", {"readings": [], "events": []}, origin="self")),  # the wrong topic
    ],
    ids=["longer-origin", "shorter-origin", "other-topic"],
)
async def test_only_this_origin_on_its_own_topic_is_an_echo(topic: str, raw: bytes) -> None:
    bus, _ = _bus()
    await bus.receive(BUS_TOPIC_PREFIX + topic, raw)
    assert bus.echoes == 0
