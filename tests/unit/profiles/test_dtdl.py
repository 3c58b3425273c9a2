"""DTDL v3 import and export: a realistic Interface becomes a profile, a profile exports and imports back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from factorytwin.errors import InvalidInput
from factorytwin.profiles import BuiltinAppearance, Profile, bundled_profiles
from factorytwin.profiles.dtdl import DEFAULT_APPEARANCE, DtdlImport, SensorBand, profile_from_dtdl, profile_to_dtdl

# A centrifugal pump as a vendor would describe it: QuantitativeTypes units, a language map, a Property (skipped),
# a Command with a numeric request and one without a request, a Relationship (skipped).
PUMP_DTDL: dict[str, Any] = json.loads(
    """
{
  "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
  "@id": "dtmi:com:acme:pumps:CentrifugalPump;2",
  "@type": "Interface",
  "displayName": {"en": "Centrifugal pump CP-200", "de": "Kreiselpumpe CP-200"},
  "description": "Single-stage end-suction pump with bearing and motor monitoring.",
  "contents": [
    {"@type": ["Telemetry", "Temperature"], "name": "bearingTemperature", "displayName": "Bearing temperature",
     "schema": "double", "unit": "degreeCelsius"},
    {"@type": ["Telemetry", "Pressure"], "name": "dischargePressure", "schema": "float", "unit": "bar"},
    {"@type": ["Telemetry", "VolumeFlowRate"], "name": "flow", "displayName": "Flow rate", "schema": "double",
     "unit": "cubicMetrePerHour"},
    {"@type": ["Telemetry", "AngularVelocity"], "name": "shaftSpeed", "schema": "integer",
     "unit": "revolutionPerMinute"},
    {"@type": ["Telemetry", "Current"], "name": "motorCurrent", "schema": "double", "unit": "ampere"},
    {"@type": "Telemetry", "name": "starts", "schema": "long"},
    {"@type": "Property", "name": "serialNumber", "schema": "string"},
    {"@type": "Command", "name": "setSpeed", "displayName": "Set speed",
     "request": {"@type": ["CommandRequest", "AngularVelocity"], "name": "rpm", "schema": "double",
                 "unit": "revolutionPerMinute"}},
    {"@type": "Command", "name": "stop"},
    {"@type": "Relationship", "name": "feeds", "target": "dtmi:com:acme:Tank;1"}
  ]
}
"""
)

BANDS = {
    "bearingTemperature": SensorBand(low=-40, high=150, normal_low=20, normal_high=80, max_rate=1.0),
    "dischargePressure": SensorBand(low=0, high=25, normal_low=4, normal_high=10),
    "flow": SensorBand(low=0, high=300, normal_low=40, normal_high=200),
    "shaftSpeed": SensorBand(low=0, high=3600, normal_low=1400, normal_high=3000, activity=True),
    "motorCurrent": SensorBand(low=0, high=120, normal_low=5, normal_high=60),
    "starts": SensorBand(low=0, high=1e9, normal_low=0, normal_high=1e6),
}


def problems_of(request: DtdlImport) -> dict[tuple[str | int, ...], str]:
    """loc -> msg of every problem ``profile_from_dtdl`` finds."""
    with pytest.raises(InvalidInput) as caught:
        profile_from_dtdl(request)
    return {p.loc: p.msg for p in caught.value.problems}


def test_a_vendor_interface_becomes_a_profile() -> None:
    body = profile_from_dtdl(DtdlImport(interface=PUMP_DTDL, bands=BANDS))
    assert body.id == "centrifugal_pump"
    assert body.name == "Centrifugal pump CP-200"
    assert body.description.startswith("Single-stage")
    assert [(s.key, s.label, s.unit) for s in body.sensors] == [
        ("bearingTemperature", "Bearing temperature", "°C"),
        ("dischargePressure", "dischargePressure", "bar"),
        ("flow", "Flow rate", "m3/h"),
        ("shaftSpeed", "shaftSpeed", "rpm"),
        ("motorCurrent", "motorCurrent", "A"),
        ("starts", "starts", "1"),
    ]
    bearing = body.sensor("bearingTemperature")
    assert bearing is not None
    assert (bearing.low, bearing.high, bearing.normal_low, bearing.normal_high, bearing.max_rate) == (
        -40,
        150,
        20,
        80,
        1.0,
    )
    assert body.activity_sensor is not None
    assert body.activity_sensor.key == "shaftSpeed"
    [set_speed, stop] = body.commands
    assert (set_speed.key, set_speed.label, stop.key, stop.parameter) == ("setSpeed", "Set speed", "stop", None)
    assert set_speed.parameter is not None
    assert (set_speed.parameter.key, set_speed.parameter.unit) == ("rpm", "rpm")
    assert body.appearance == DEFAULT_APPEARANCE


def test_the_request_may_name_the_id_and_appearance() -> None:
    appearance = BuiltinAppearance(kind="builtin", model="pump")
    body = profile_from_dtdl(DtdlImport(interface=PUMP_DTDL, bands=BANDS, id="cp-200", appearance=appearance))
    assert (body.id, body.appearance) == ("cp-200", appearance)


def test_an_unmapped_unit_is_refused_naming_the_content() -> None:
    doc = copy.deepcopy(PUMP_DTDL)
    doc["contents"][1]["unit"] = "inchesOfWaterColumn"
    doc["contents"][7]["request"]["unit"] = "furlongPerFortnight"
    found = problems_of(DtdlImport(interface=doc, bands=BANDS))
    assert set(found) == {("interface", "contents", 1, "unit"), ("interface", "contents", 7, "request", "unit")}
    assert "'inchesOfWaterColumn' has no counterpart" in found[("interface", "contents", 1, "unit")]


def test_telemetry_without_bands_is_refused_naming_it_and_the_field_to_give() -> None:
    bands = {k: v for k, v in BANDS.items() if k != "flow"}
    found = problems_of(DtdlImport(interface=PUMP_DTDL, bands=bands))
    assert list(found) == [("interface", "contents", 2)]
    assert "bands.flow" in found[("interface", "contents", 2)]


def test_a_bad_band_is_refused_at_its_field_and_an_unknown_band_name_too() -> None:
    bands = BANDS | {
        "flow": SensorBand(low=0, high=300, normal_low=40, normal_high=400),
        "vibration": SensorBand(low=0, high=1, normal_low=0, normal_high=1),
    }
    found = problems_of(DtdlImport(interface=PUMP_DTDL, bands=bands))
    assert set(found) == {("bands", "flow", "normal_high"), ("bands", "vibration")}
    assert "above the physical range" in found[("bands", "flow", "normal_high")]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda d: d.update({"@context": "dtmi:dtdl:context;2"}), ("interface", "@context")),
        (lambda d: d.update({"@type": "Telemetry"}), ("interface", "@type")),
        (lambda d: d.update({"@id": "urn:acme:pump"}), ("interface", "@id")),
        (lambda d: d.update({"extends": "dtmi:com:acme:Base;1"}), ("interface", "extends")),
        (lambda d: d["contents"][0].update({"schema": "string"}), ("interface", "contents", 0, "schema")),
        (lambda d: d["contents"][0].update({"name": "9x"}), ("interface", "contents", 0, "name")),
        (
            lambda d: d["contents"].append({"@type": "Component", "name": "motor", "schema": "dtmi:com:acme:M;1"}),
            ("interface", "contents", 10, "@type"),
        ),
        (
            lambda d: d["contents"][7]["request"].update({"schema": "boolean"}),
            ("interface", "contents", 7, "request", "schema"),
        ),
        (
            lambda d: d["contents"].append({"@type": "Telemetry", "name": "flow", "schema": "double"}),
            ("interface", "contents", 10, "name"),
        ),
    ],
)
def test_what_cannot_be_mapped_is_refused_naming_where(change: Any, loc: tuple[str | int, ...]) -> None:
    doc = copy.deepcopy(PUMP_DTDL)
    change(doc)
    bands = BANDS | {"flow": BANDS["flow"]}
    found = problems_of(DtdlImport(interface=doc, bands=bands))
    assert any(where[: len(loc)] == loc for where in found), found


@pytest.mark.parametrize("profile", bundled_profiles(), ids=lambda p: p.id)
def test_every_bundled_profile_exports_and_imports_back_unchanged(profile: Profile) -> None:
    doc = profile_to_dtdl(profile)
    assert doc["@context"] == ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"]
    assert doc["@id"] == f"dtmi:factorytwin:profile:{profile.id};1"
    body = profile_from_dtdl(DtdlImport(interface=json.loads(json.dumps(doc)), appearance=profile.appearance))
    assert Profile(**body.model_dump(), version=1) == profile


def test_the_export_uses_quantitative_types_where_dtdl_has_the_unit() -> None:
    [mill] = [p for p in bundled_profiles() if p.id == "cnc_mill"]
    contents = {c["name"]: c for c in profile_to_dtdl(mill)["contents"]}
    assert contents["spindle_speed"]["@type"] == ["Telemetry", "AngularVelocity", "ftSensor"]
    assert contents["spindle_speed"]["unit"] == "revolutionPerMinute"
    assert contents["air_temp"]["unit"] == "kelvin"
    assert "unit" not in contents["vibration"]  # mm/s: DTDL has no such unit; ftUnit carries it
    assert contents["vibration"]["ftUnit"] == "mm/s"
    assert contents["set_speed"]["request"]["ftHigh"] == 120.0
    assert contents["stop"] == {"@type": "Command", "name": "stop", "displayName": "Stop"}


def test_an_export_with_edited_bands_imports_with_the_request_bands_winning() -> None:
    [pump] = [p for p in bundled_profiles() if p.id == "pump"]
    doc = profile_to_dtdl(pump)
    band = SensorBand(low=0, high=40, normal_low=5, normal_high=12)
    body = profile_from_dtdl(DtdlImport(interface=doc, bands={"outlet_pressure": band}, id="pump-b"))
    outlet = body.sensor("outlet_pressure")
    assert outlet is not None
    assert (outlet.normal_low, outlet.normal_high) == (5, 12)
    assert body.id == "pump-b"
