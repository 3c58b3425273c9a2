"""Profile validation: every broken rule is refused with the path of the field that breaks it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from factorytwin.profiles import GltfAppearance, Profile, ProfileBody, StoredProfile
from tests.unit.profiles.conftest import profile_doc, sensor_doc


def errors_of(doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(loc, msg) of each error ``ProfileBody`` finds in ``doc`` (fails when it finds none)."""
    with pytest.raises(ValidationError) as caught:
        ProfileBody.model_validate(doc)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def test_a_valid_profile_is_read_with_defaults() -> None:
    body = ProfileBody.model_validate(profile_doc())
    assert body.activity_sensor is not None
    assert body.activity_sensor.key == "speed"
    assert body.sensor("bearing_temp") is not None
    assert body.sensor("nope") is None
    assert body.appearance.kind == "primitive"
    assert Profile.model_validate(profile_doc()).version == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"normal_low": -50.0}, "normal_low", "below the physical range"),
        ({"normal_high": 151.0}, "normal_high", "above the physical range"),
        ({"normal_low": 90.0, "normal_high": 80.0}, "normal_high", "must be above normal_low"),
        ({"low": 10.0, "high": 5.0, "normal_low": 10.5, "normal_high": 11.0}, "high", "must be above low"),
        ({"unit": "furlong/fortnight"}, "unit", "unknown unit"),
        ({"max_rate": 0.0}, "max_rate", "greater than 0"),
        ({"key": "9lives"}, "key", "pattern"),
    ],
)
def test_a_broken_sensor_is_refused_naming_its_field(changes: dict[str, Any], field: str, words: str) -> None:
    doc = profile_doc(sensors=[sensor_doc(), sensor_doc(**({"key": "other"} | changes))])
    [(loc, msg)] = errors_of(doc)
    assert loc == ("sensors", 1, field)
    assert words in msg


def test_an_unknown_unit_gets_a_hint() -> None:
    [(_, msg)] = errors_of(profile_doc(sensors=[sensor_doc(unit="Bar")]))
    assert "'bar'" in msg
    assert "docs/PROFILES.md" in msg


def test_aliases_are_stored_as_the_canonical_symbol() -> None:
    body = ProfileBody.model_validate(profile_doc(sensors=[sensor_doc(unit="degC"), sensor_doc("flow", unit="m³/h")]))
    assert [s.unit for s in body.sensors] == ["°C", "m3/h"]


def test_duplicate_sensor_and_command_keys_are_refused() -> None:
    [(loc, msg)] = errors_of(profile_doc(sensors=[sensor_doc(), sensor_doc()]))
    assert loc == ("sensors",)
    assert "duplicate sensor key 'bearing_temp'" in msg
    assert "items 0 and 1" in msg
    [(loc, msg)] = errors_of(profile_doc(commands=[{"key": "stop", "label": "a"}, {"key": "stop", "label": "b"}]))
    assert loc == ("commands",)
    assert "duplicate command key 'stop'" in msg


def test_only_one_sensor_may_be_the_activity_sensor() -> None:
    doc = profile_doc(sensors=[sensor_doc(activity=True), sensor_doc("b", activity=True)])
    [(loc, msg)] = errors_of(doc)
    assert loc == ("sensors",)
    assert "activity" in msg


def test_a_command_parameter_range_must_be_ordered_and_its_unit_known() -> None:
    param = {"key": "speed_pct", "label": "Speed", "unit": "%", "low": 10.0, "high": 5.0}
    [(loc, msg)] = errors_of(profile_doc(commands=[{"key": "set_speed", "label": "Set", "parameter": param}]))
    assert loc == ("commands", 0, "parameter", "high")
    assert "below low" in msg
    param = {"key": "speed_pct", "label": "Speed", "unit": "parsecs"}
    [(loc, _)] = errors_of(profile_doc(commands=[{"key": "set_speed", "label": "Set", "parameter": param}]))
    assert loc == ("commands", 0, "parameter", "unit")


@pytest.mark.parametrize(
    ("appearance", "loc_tail"),
    [
        ({"kind": "builtin", "model": "spaceship"}, ("builtin", "model")),
        ({"kind": "primitive", "shape": "cone", "width": 1, "height": 1, "depth": 1}, ("primitive", "shape")),
        ({"kind": "primitive", "shape": "box", "width": 0, "height": 1, "depth": 1}, ("primitive", "width")),
        (
            {"kind": "primitive", "shape": "box", "width": 1, "height": 1, "depth": 1, "color": "red"},
            ("primitive", "color"),
        ),
        ({"kind": "gltf", "asset_id": "../etc/passwd"}, ("gltf", "asset_id")),
        ({"kind": "hologram"}, ()),
    ],
)
def test_a_broken_appearance_is_refused_naming_its_field(appearance: dict[str, Any], loc_tail: tuple[str, ...]) -> None:
    [(loc, _)] = errors_of(profile_doc(appearance=appearance))
    assert loc == ("appearance", *loc_tail)


def test_every_appearance_kind_is_accepted() -> None:
    for appearance in ({"kind": "builtin", "model": "pump"}, {"kind": "gltf", "asset_id": "press-v2.glb"}):
        ProfileBody.model_validate(profile_doc(appearance=appearance))
    assert isinstance(
        ProfileBody.model_validate(profile_doc(appearance={"kind": "gltf", "asset_id": "a"})).appearance, GltfAppearance
    )


def test_non_finite_numbers_unknown_fields_and_bad_ids_are_refused() -> None:
    [(loc, _)] = errors_of(profile_doc(sensors=[sensor_doc(high=float("inf"))]))
    assert loc == ("sensors", 0, "high")
    [(loc, _)] = errors_of(profile_doc(colour="blue"))
    assert loc == ("colour",)
    [(loc, _)] = errors_of(profile_doc(id="has space"))
    assert loc == ("id",)
    [(loc, _)] = errors_of(profile_doc(sensors=[]))
    assert loc == ("sensors",)


def test_a_stored_profile_gives_back_the_profile_alone() -> None:
    stored = StoredProfile.model_validate(
        profile_doc(version=3, bundled=False, saved_at="2026-03-01T12:00:00Z", saved_by="erin")
    )
    assert stored.profile() == Profile.model_validate(profile_doc(version=3))


def test_a_command_key_may_not_repeat_a_sensor_key() -> None:
    [(loc, msg)] = errors_of(profile_doc(commands=[{"key": "speed", "label": "Speed"}]))
    assert loc == ("commands",)
    assert "also a sensor key" in msg


def test_numbers_and_flags_are_not_coerced_and_import_is_no_id() -> None:
    [(loc, _)] = errors_of(profile_doc(sensors=[sensor_doc(high=True)]))
    assert loc == ("sensors", 0, "high")
    [(loc, _)] = errors_of(profile_doc(sensors=[sensor_doc(low="1")]))
    assert loc == ("sensors", 0, "low")
    [(loc, _)] = errors_of(profile_doc(sensors=[sensor_doc(activity="yes")]))
    assert loc == ("sensors", 0, "activity")
    [(loc, msg)] = errors_of(profile_doc(id="import"))
    assert loc == ("id",)
    assert "reserved" in msg
    assert ProfileBody.model_validate(profile_doc(sensors=[sensor_doc(low=-40, high=150)])).sensors[0].low == -40.0
