"""Parsing MQTT telemetry payloads: both wire shapes, every poison message named, and the reject/retry verdicts."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from factorytwin.domain import TelemetryBatch
from factorytwin.errors import FieldProblem, InvalidInput, Overloaded, StoreRejected, StoreUnavailable
from factorytwin.ingest.mqtt import dead_letter_topic, telemetry_topic_filter
from factorytwin.ingest.mqttparse import MAX_DEPTH, MalformedMessage, classify, parse_telemetry

TOPIC = "ft/mill-01/telemetry"
ONE = {"machine_id": "mill-01", "ts": "2026-01-05T08:00:00Z", "values": {"torque": 40.0}}
TS = b'"ts": "2026-01-05T08:00:00Z"'


def test_single_reading_set_and_batch_are_both_accepted() -> None:
    assert len(parse_telemetry(TOPIC, json.dumps(ONE).encode()).readings) == 1
    many = {"readings": [ONE, {**ONE, "ts": "2026-01-05T08:00:01Z"}]}
    assert len(parse_telemetry(TOPIC, json.dumps(many).encode()).readings) == 2


def _nested(depth: int) -> bytes:
    inner = "1"
    for _ in range(depth):
        inner = f'{{"a": {inner}}}'
    event = f'{{"machine_id": "mill-01", "ts": "2026-01-05T08:00:00Z", "kind": "fault", "data": {inner}}}'
    return f'{{"events": [{event}]}}'.encode()


@pytest.mark.parametrize(
    ("payload", "reason", "message"),
    [
        (b"not json", "not_json", "not JSON"),
        (b"[1, 2]", "bad_shape", "JSON object"),
        (b'{"machine_id": "mill-01", "values": {"torque": 1}}', "bad_shape", "ts"),
        (
            b'{"machine_id": "mill-02", "ts": "2026-01-05T08:00:00Z", "values": {"torque": 1}}',
            "topic_mismatch",
            "topic",
        ),
        (b'{"readings": []}', "bad_shape", "at least one"),
        (b"\xff\xfe", "bad_encoding", "UTF-8"),
        (
            b'{"machine_id": "mill-01", "ts": "2026-01-05T08:00:00Z", "values": {"tor\\u0000que": 1}}',
            "nul_character",
            "NUL",
        ),
        (
            b'{"machine_id": "mill-01\x00", "ts": "2026-01-05T08:00:00Z", "values": {"torque": 1}}',
            "nul_character",
            "NUL",
        ),
        (b"[" * 5000, "too_deep", "deep"),
        (b"{" + b'"a":{' * 5000, "too_deep", "deep"),
        (_nested(MAX_DEPTH + 5), "too_deep", "deeper"),
    ],
    ids=[
        "not-json",
        "array",
        "no-ts",
        "other-machine",
        "empty-batch",
        "invalid-utf8",
        "nul-escape-in-key",
        "raw-nul",
        "deep-array",
        "deep-object",
        "deep-event-data",
    ],
)
def test_poison_payload_is_refused_with_its_reason(payload: bytes, reason: str, message: str) -> None:
    with pytest.raises(MalformedMessage, match=message) as caught:
        parse_telemetry(TOPIC, payload)
    assert caught.value.reason == reason


def test_a_payload_over_the_cap_is_refused_before_it_is_parsed() -> None:
    huge = json.dumps({**ONE, "values": {f"s{i}": 1.0 for i in range(100_000)}}).encode()
    with pytest.raises(MalformedMessage) as caught:
        parse_telemetry(TOPIC, huge, max_bytes=1024 * 1024)
    assert caught.value.reason == "too_large"


def test_a_topic_that_is_not_telemetry_is_refused() -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_telemetry("ft/mill-01", json.dumps(ONE).encode())
    assert caught.value.reason == "bad_topic"


def test_the_detail_never_carries_the_payload() -> None:
    secret = "x" * 10_000
    with pytest.raises(MalformedMessage) as caught:
        parse_telemetry(TOPIC, json.dumps({**ONE, "values": {"torque": secret}}).encode())
    assert secret not in caught.value.detail
    assert len(caught.value.detail) <= 300


class _Number(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Number.model_validate({"n": "many"})
    except ValidationError as exc:
        return exc
    raise AssertionError("no error")


@pytest.mark.parametrize(
    ("exc", "verdict", "reason"),
    [
        (InvalidInput([FieldProblem(("ts",), "too old")]), "reject", "invalid"),
        (_validation_error(), "reject", "invalid"),
        (StoreRejected("NUL in text"), "reject", "store_rejected"),
        (Overloaded("queue full"), "wait", None),
        (StoreUnavailable("connection refused"), "retry", None),
        (OSError("disk I/O error"), "retry", None),
        (RuntimeError("unexpected"), "retry", None),
    ],
    ids=["invalid-input", "validation-error", "store-rejected", "overloaded", "store-unavailable", "os", "other"],
)
def test_content_errors_are_rejected_and_outages_retried(exc: Exception, verdict: str, reason: str | None) -> None:
    assert classify(exc) == (verdict, reason)


def test_topic_filter_is_not_shared_by_default() -> None:
    assert telemetry_topic_filter() == "ft/+/telemetry"
    assert telemetry_topic_filter("plant", shared=True) == "$share/factorytwin/plant/+/telemetry"


def test_dead_letters_never_match_the_telemetry_filter() -> None:
    # Even for a machine called "telemetry", the dead letter has four levels: ft/+/telemetry matches three.
    assert dead_letter_topic("ft", "telemetry").count("/") == 3


@pytest.mark.parametrize(
    "doc",
    [
        ONE,
        {**ONE, "ts": "2026-01-05T09:00:00.250+01:00", "values": {"torque": 40, "vibration": 2.5}},
        {**ONE, "values": {"torque": float("nan")}},  # a parse, and then ingest refuses it by name
        {"readings": [ONE], "events": []},
    ],
    ids=["plain", "offset-and-int", "nan", "batch"],
)
def test_the_short_way_for_a_reading_set_gives_what_the_long_way_gives(doc: dict[str, object]) -> None:
    got = parse_telemetry(TOPIC, json.dumps(doc).encode())
    wanted = TelemetryBatch.model_validate(doc if "readings" in doc else {"readings": [doc]})
    assert got.model_dump_json() == wanted.model_dump_json()
    assert got.readings[0].ts == wanted.readings[0].ts


def test_an_escaped_nul_is_found_even_where_pydantic_would_take_it() -> None:
    payload = b'{"machine_id": "mill-01", "ts": "2026-01-05T08:00:00Z", "values": {"tor\\u0000que": 1.5}}'
    with pytest.raises(MalformedMessage) as caught:
        parse_telemetry(TOPIC, payload)
    assert caught.value.reason == "nul_character"
