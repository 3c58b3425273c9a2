"""Parsing MQTT telemetry payloads: both wire shapes, and every malformed case named."""

from __future__ import annotations

import json

import pytest

from factorytwin.ingest.mqtt import MalformedMessage, parse_telemetry, telemetry_topic_filter
from factorytwin.twin.mqttlink import MqttEndpoint


def test_single_reading_set_and_batch_are_both_accepted() -> None:
    one = {"machine_id": "mill-01", "ts": "2026-01-05T08:00:00Z", "values": {"torque": 40.0}}
    assert len(parse_telemetry("ft/mill-01/telemetry", json.dumps(one).encode()).readings) == 1
    many = {"readings": [one, {**one, "ts": "2026-01-05T08:00:01Z"}]}
    assert len(parse_telemetry("ft/mill-01/telemetry", json.dumps(many).encode()).readings) == 2


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"machine_id": "mill-01", "values": {"torque": 1}}', "ts"),
        (b'{"machine_id": "mill-02", "ts": "2026-01-05T08:00:00Z", "values": {"torque": 1}}', "topic's machine"),
        (b'{"readings": []}', "at least one"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_malformed_payload_is_refused_with_a_reason(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedMessage, match=message):
        parse_telemetry("ft/mill-01/telemetry", payload)


def test_topic_filter_is_shared_by_default() -> None:
    assert telemetry_topic_filter() == "$share/factorytwin/ft/+/telemetry"
    assert telemetry_topic_filter("plant", shared=False) == "plant/+/telemetry"


def test_mqtt_url_is_parsed_and_bad_urls_are_named() -> None:
    assert MqttEndpoint.parse("mqtt://127.0.0.1:1884") == MqttEndpoint("127.0.0.1", 1884)
    assert MqttEndpoint.parse("mqtt://u:p@broker").username == "u"
    with pytest.raises(ValueError, match="scheme"):
        MqttEndpoint.parse("http://x")
