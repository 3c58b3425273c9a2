"""Mapped MQTT JSON: JSON pointers, machine from topic/pointer/static, timestamps, whole-message mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factorytwin.connectors.base import MappedValue
from factorytwin.connectors.models import MqttJsonConnector, parse_connector
from factorytwin.connectors.mqttjson import MqttJsonConnectorRuntime, Unmappable, map_message, resolve
from factorytwin.ingest import IngestService

RECEIVED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def config(**over: Any) -> MqttJsonConnector:
    base: dict[str, Any] = {
        "kind": "mqtt_json",
        "id": "gw",
        "broker_url": "mqtt://127.0.0.1",
        "topic_filters": ["plant/+/data"],
        "machine_id_topic_segment": 1,
        "values": [
            {"pointer": "/temp_c", "sensor": "bearing_temp", "offset": 273.15},
            {"pointer": "/flow/l_min", "sensor": "flow_rate", "scale": 0.06},
        ],
    }
    parsed = parse_connector(base | over)
    assert isinstance(parsed, MqttJsonConnector)
    return parsed


def message(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_values_are_found_by_pointer_and_converted() -> None:
    values = map_message(config(), "plant/pump-01/data", message({"temp_c": 40.0, "flow": {"l_min": 1500}}), RECEIVED)
    assert values == [
        MappedValue("pump-01", "bearing_temp", pytest.approx(313.15), RECEIVED, "plant/pump-01/data"),  # type: ignore[arg-type]
        MappedValue("pump-01", "flow_rate", pytest.approx(90.0), RECEIVED, "plant/pump-01/data"),  # type: ignore[arg-type]
    ]


def test_a_missing_value_makes_the_whole_message_unmappable() -> None:
    with pytest.raises(Unmappable, match="/flow/l_min: not found in the payload"):
        map_message(config(), "plant/pump-01/data", message({"temp_c": 40.0}), RECEIVED)


@pytest.mark.parametrize("bad", ["41.5", True, None, [1], {"v": 1}])
def test_a_value_must_be_a_json_number(bad: object) -> None:
    with pytest.raises(Unmappable, match="is not a JSON number"):
        map_message(config(), "plant/pump-01/data", message({"temp_c": bad, "flow": {"l_min": 1}}), RECEIVED)


def test_non_finite_numbers_are_unmappable() -> None:
    with pytest.raises(Unmappable, match="not a finite number"):
        map_message(config(), "plant/p/data", b'{"temp_c": NaN, "flow": {"l_min": 1}}', RECEIVED)


def test_payloads_that_are_not_json_or_too_big_are_unmappable() -> None:
    with pytest.raises(Unmappable, match="not JSON"):
        map_message(config(), "plant/p/data", b"\xff\xfe", RECEIVED)
    with pytest.raises(Unmappable, match="more than max_payload_bytes"):
        map_message(config(max_payload_bytes=16), "plant/p/data", b" " * 17, RECEIVED)


def test_the_machine_may_be_static_or_found_by_pointer() -> None:
    doc = message({"dev": "pump-02", "temp_c": 1.0, "flow": {"l_min": 1.0}})
    static = config(machine_id="mill-01", machine_id_topic_segment=None)
    assert {v.machine_id for v in map_message(static, "plant/x/data", doc, RECEIVED)} == {"mill-01"}
    pointed = config(machine_id_pointer="/dev", machine_id_topic_segment=None)
    assert {v.machine_id for v in map_message(pointed, "plant/x/data", doc, RECEIVED)} == {"pump-02"}
    with pytest.raises(Unmappable, match="machine id must be text"):
        map_message(pointed, "t", message({"dev": 7, "temp_c": 1.0, "flow": {"l_min": 1.0}}), RECEIVED)


def test_a_machine_id_that_is_not_an_id_is_unmappable() -> None:
    doc = message({"temp_c": 1.0, "flow": {"l_min": 1.0}})
    with pytest.raises(Unmappable, match="is not an id"):
        map_message(config(), "plant/pump 01/data", doc, RECEIVED)
    with pytest.raises(Unmappable, match="no level 1"):
        map_message(config(topic_filters=["#"], machine_id_topic_segment=1), "plant", doc, RECEIVED)


@pytest.mark.parametrize(
    ("fmt", "raw", "expected"),
    [
        ("iso8601", "2026-12-02T11:59:00Z", datetime(2026, 12, 2, 11, 59, tzinfo=UTC)),
        ("iso8601", "2026-12-02T12:59:00+01:00", datetime(2026, 12, 2, 11, 59, tzinfo=UTC)),
        ("epoch_s", 1_796_126_340, datetime.fromtimestamp(1_796_126_340, UTC)),
        ("epoch_ms", 1_796_126_340_500, datetime.fromtimestamp(1_796_126_340.5, UTC)),
    ],
)
def test_timestamps_in_each_format(fmt: str, raw: object, expected: datetime) -> None:
    c = config(timestamp_pointer="/ts", timestamp_format=fmt)
    [first, _] = map_message(c, "plant/p/data", message({"ts": raw, "temp_c": 1.0, "flow": {"l_min": 1}}), RECEIVED)
    assert first.ts == expected


@pytest.mark.parametrize(
    ("fmt", "raw", "why"),
    [
        ("iso8601", "2026-12-02T11:59:00", "no UTC offset"),
        ("iso8601", "yesterday", "not an ISO 8601 timestamp"),
        ("iso8601", 17, "must be text"),
        ("epoch_s", "17", "not a JSON number"),
        ("epoch_ms", 1e300, "not a representable time"),
    ],
)
def test_bad_timestamps_are_unmappable(fmt: str, raw: object, why: str) -> None:
    c = config(timestamp_pointer="/ts", timestamp_format=fmt)
    with pytest.raises(Unmappable, match=why):
        map_message(c, "plant/p/data", message({"ts": raw, "temp_c": 1.0, "flow": {"l_min": 1}}), RECEIVED)


def test_without_a_timestamp_pointer_the_arrival_time_is_used() -> None:
    [v, _] = map_message(config(), "plant/p/data", message({"temp_c": 1.0, "flow": {"l_min": 1}}), RECEIVED)
    assert v.ts == RECEIVED


def pair_config() -> MqttJsonConnector:
    return config(
        values=[],
        sensor_pointer="/name",
        value_pointer="/value",
        sensors={"Temp.C": {"sensor": "bearing_temp", "offset": 273.15}, "Speed": {"sensor": "motor_speed"}},
    )


def test_a_name_value_pair_is_looked_up_in_sensors() -> None:
    [v] = map_message(pair_config(), "plant/pump-01/data", message({"name": "Speed", "value": 2950}), RECEIVED)
    assert (v.machine_id, v.sensor, v.value) == ("pump-01", "motor_speed", 2950.0)
    with pytest.raises(Unmappable, match="'Pressure' is not in the connector's sensors"):
        map_message(pair_config(), "plant/pump-01/data", message({"name": "Pressure", "value": 1}), RECEIVED)
    with pytest.raises(Unmappable, match="sensor name must be text"):
        map_message(pair_config(), "plant/pump-01/data", message({"name": 3, "value": 1}), RECEIVED)


def test_pointers_follow_rfc_6901() -> None:
    doc = {"a/b": {"m~n": [10, 20]}, "": 1}
    assert resolve(doc, "") == doc
    assert resolve(doc, "/a~1b/m~0n/1") == 20
    assert resolve(doc, "/") == 1
    for missing in ("/a~1b/m~0n/2", "/a~1b/m~0n/01", "/a~1b/m~0n/-", "/x", "/a~1b/m~0n/0/deeper"):
        with pytest.raises(Unmappable):
            resolve(doc, missing)


keys = st.text(min_size=0, max_size=8)


@given(st.lists(keys, min_size=1, max_size=5), st.floats(allow_nan=False))
def test_a_pointer_built_from_keys_finds_what_is_nested_under_them(path: list[str], leaf: float) -> None:
    doc: Any = leaf
    for key in reversed(path):
        doc = {key: doc}
    pointer = "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in path)
    assert resolve(doc, pointer) == leaf


async def test_an_unmappable_message_counts_every_value_it_should_have_carried(ingest: IngestService) -> None:
    conn = MqttJsonConnectorRuntime(config(), ingest)
    conn.handle("plant/pump-01/data", b"not json")
    conn.handle("plant/pump-01/data", message({"temp_c": 40.0, "flow": {"l_min": 1500}}))
    status = conn.status()
    assert (status.unmapped_total, status.queued) == (2, 2)
