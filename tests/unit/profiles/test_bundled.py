"""The bundled profiles equal the sensor catalogue of domain.py, so the two cannot drift apart."""

from __future__ import annotations

import json
from pathlib import Path

from factorytwin.domain import ACTIVITY_SENSOR, CATALOGUE, MachineKind
from factorytwin.profiles import BUILTIN_MODELS, bundled_ids, bundled_profiles
from tests.unit.profiles.bundled_source import BUNDLED_DIR, catalogue_profiles, profile_json


def test_there_is_one_bundled_profile_per_machine_kind() -> None:
    assert bundled_ids() == {kind.value for kind in MachineKind}
    assert set(BUILTIN_MODELS) == {kind.value for kind in MachineKind}


def test_the_bundled_files_are_what_the_catalogue_generates() -> None:
    expected = {p.id: profile_json(p) for p in catalogue_profiles()}
    files = {path.stem: path.read_text(encoding="utf-8") for path in BUNDLED_DIR.glob("*.json")}
    assert files == expected, "run `python -m tests.unit.profiles.bundled_source` and commit the files"


def test_each_bundled_sensor_equals_its_catalogue_spec() -> None:
    by_id = {p.id: p for p in bundled_profiles()}
    for kind, specs in CATALOGUE.items():
        profile = by_id[kind.value]
        assert [s.key for s in profile.sensors] == [spec.key for spec in specs]
        for sensor, spec in zip(profile.sensors, specs, strict=True):
            assert (sensor.label, sensor.unit, sensor.low, sensor.high, sensor.normal_low, sensor.normal_high) == (
                spec.label,
                spec.unit,
                spec.low,
                spec.high,
                spec.normal_low,
                spec.normal_high,
            )
            assert sensor.max_rate == spec.max_rate
        assert profile.activity_sensor is not None
        assert profile.activity_sensor.key == ACTIVITY_SENSOR[kind]
        assert profile.appearance.kind == "builtin"
        assert profile.appearance.model == kind.value
        assert profile.version == 1


def test_the_bundled_files_are_plain_profile_json() -> None:
    for path in BUNDLED_DIR.glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["id"] == path.stem
        assert set(doc) == {"id", "name", "description", "sensors", "commands", "appearance", "version"}
    assert Path(BUNDLED_DIR / "__init__.py").is_file()
