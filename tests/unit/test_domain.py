"""The sensor catalogue and the domain models."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from factorytwin.domain import (
    CATALOGUE,
    MAX_EVENT_DATA_BYTES,
    MAX_EVENT_MESSAGE_CHARS,
    MAX_JSON_DEPTH,
    Command,
    Event,
    EventKind,
    IsoDatetime,
    MachineKind,
    ReadingSet,
    SensorSpec,
    all_sensor_keys,
    sensor_specs,
    unstorable_json,
    unstorable_text,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_every_kind_has_a_catalogue_with_unique_keys() -> None:
    for kind in MachineKind:
        keys = [spec.key for spec in CATALOGUE[kind]]
        assert keys, kind
        assert len(keys) == len(set(keys)), kind


def test_normal_band_lies_inside_physical_range() -> None:
    for specs in CATALOGUE.values():
        for spec in specs:
            assert spec.low <= spec.normal_low < spec.normal_high <= spec.high


def test_a_shared_sensor_key_means_the_same_unit_everywhere() -> None:
    units: dict[str, str] = {}
    for specs in CATALOGUE.values():
        for spec in specs:
            assert units.setdefault(spec.key, spec.unit) == spec.unit, spec.key


def test_mill_has_the_ai4i_sensors() -> None:
    mill = sensor_specs(MachineKind.CNC_MILL)
    for key in (
        "air_temp",
        "process_temp",
        "spindle_speed",
        "torque",
        "tool_wear",
        "vibration",
        "motor_current",
    ):
        assert key in mill
    assert mill["air_temp"].unit == "K"


def test_inconsistent_sensor_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="normal_low"):
        SensorSpec(key="x", label="x", unit="u", low=0, high=1, normal_low=2, normal_high=3)


def test_all_sensor_keys_are_unique() -> None:
    keys = all_sensor_keys()
    assert len(keys) == len(set(keys))


def test_set_speed_needs_a_speed() -> None:
    with pytest.raises(ValidationError, match="speed_pct"):
        Command(command="set_speed")
    with pytest.raises(ValidationError, match="only allowed"):
        Command(command="stop", speed_pct=10)
    assert Command(command="set_speed", speed_pct=80).speed_pct == 80


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "lone \ud800 surrogate", "\udfff"])
def test_text_a_store_cannot_hold_is_named(text: str) -> None:
    problem = unstorable_text(text)
    assert problem is not None
    assert "NUL" in problem or "surrogate" in problem


@pytest.mark.parametrize("text", ["", "plain", "tabs\tand\nnewlines", "Ümlaut 温度 🌡"])
def test_ordinary_text_is_storable(text: str) -> None:
    assert unstorable_text(text) is None


def _event(**fields: Any) -> Event:
    return Event.model_validate({"machine_id": "mill-01", "ts": T0, "kind": EventKind.NOTE, **fields})


def _deep(levels: int) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for _ in range(levels - 1):
        doc = {"a": doc}
    return doc


@pytest.mark.parametrize(
    ("fields", "loc", "words"),
    [
        ({"message": "a\x00b"}, ("message",), "NUL"),
        ({"message": "x" * (MAX_EVENT_MESSAGE_CHARS + 1)}, ("message",), "at most"),
        ({"data": {"k": "a\x00b"}}, ("data",), "NUL"),
        ({"data": {"k\x00": 1}}, ("data",), "key"),
        ({"data": {"k": ["\ud800"]}}, ("data",), "surrogate"),
        ({"data": {"k": math.nan}}, ("data",), "finite"),
        ({"data": {"k": "x" * MAX_EVENT_DATA_BYTES}}, ("data",), "bytes"),
        ({"data": _deep(MAX_JSON_DEPTH + 1)}, ("data",), "deeper"),
    ],
)
def test_an_event_with_unstorable_or_oversized_content_is_refused_naming_the_field(
    fields: dict[str, Any], loc: tuple[str, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _event(**fields)
    [error] = caught.value.errors()
    assert error["loc"] == loc
    assert words in error["msg"]


def test_an_event_at_the_limits_is_accepted() -> None:
    event = _event(message="x" * MAX_EVENT_MESSAGE_CHARS, data=_deep(MAX_JSON_DEPTH))
    assert len(event.message) == MAX_EVENT_MESSAGE_CHARS
    assert unstorable_json({"k": "x" * (MAX_EVENT_DATA_BYTES - 10)}) is None


def test_unstorable_json_refuses_what_json_cannot_say() -> None:
    assert unstorable_json({"x": object()}) == "object is not a JSON value"
    assert unstorable_json({"x": [1, 2.5, True, None, "s", {"y": []}]}) is None


def test_a_command_issued_by_with_a_nul_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Command.model_validate({"command": "stop", "issued_by": "ana\x00"})
    assert caught.value.errors()[0]["loc"] == ("issued_by",)


@pytest.mark.parametrize(("raw", "value"), [('"41.5"', "41.5"), ("true", True), ("false", False), ('"NaN"', "NaN")])
def test_a_sensor_value_must_be_a_json_number_not_a_string_or_bool(raw: str, value: object) -> None:
    body = f'{{"machine_id": "mill-01", "ts": "2026-03-01T00:00:00Z", "values": {{"torque": {raw}}}}}'
    with pytest.raises(ValidationError) as caught:
        ReadingSet.model_validate_json(body)
    assert caught.value.errors()[0]["loc"] == ("values", "torque")
    with pytest.raises(ValidationError):  # the same from Python objects (MQTT ingest parses with json.loads)
        ReadingSet.model_validate({"machine_id": "mill-01", "ts": T0, "values": {"torque": value}})


def test_integers_are_still_numbers() -> None:
    body = '{"machine_id": "mill-01", "ts": "2026-03-01T00:00:00Z", "values": {"torque": 40}}'
    assert ReadingSet.model_validate_json(body).values == {"torque": 40.0}


class _Window(BaseModel):
    to: IsoDatetime


@pytest.mark.parametrize("raw", ["0.5", "1700000000", " 12 ", "1e9", "-3"])
def test_a_query_time_must_be_iso_8601_not_a_number(raw: str) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        _Window.model_validate({"to": raw})


def test_an_iso_query_time_is_read() -> None:
    assert _Window.model_validate({"to": "2026-03-01T00:00:00Z"}).to == T0


def test_the_command_schema_states_that_speed_goes_only_with_set_speed() -> None:
    schema = Command.model_json_schema()
    assert schema["if"]["properties"]["command"] == {"const": "set_speed"}
    assert schema["then"]["required"] == ["speed_pct"]
    assert schema["else"]["properties"]["speed_pct"] == {"type": "null"}
    assert Command(command="stop", speed_pct=None).speed_pct is None  # what the schema's else allows is accepted
