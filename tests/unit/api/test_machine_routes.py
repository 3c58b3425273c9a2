"""POST/PUT/DELETE /machines: machines of any profile provisioned live, on SQLite and PostgreSQL.

A machine of a profile created over the API takes readings of its own sensors at once, alarms on its own bands
(with its band overrides), is pushed to stream clients as ``machine_changed``, logged as ``config`` events, kept
across a restart, and, deleted, refused by ingest while its history stays.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services, create_app
from factorytwin.auth import Context, PrincipalKind, Role
from factorytwin.config import Settings
from factorytwin.store.base import EventQuery
from tests.unit.profiles.conftest import profile_doc, sensor_doc

CTX = Context("tests", PrincipalKind.CLI, "cli")
BOILER = profile_doc(
    id="boiler",
    name="Steam boiler",
    sensors=[
        sensor_doc(
            "steam_pressure", label="Steam pressure", unit="bar", low=0.0, high=40.0, normal_low=8.0, normal_high=12.0
        ),
        sensor_doc(
            "flue_temp",
            label="Flue gas temperature",
            unit="°C",
            low=0.0,
            high=600.0,
            normal_low=120.0,
            normal_high=250.0,
            max_rate=None,
            activity=True,
        ),
    ],
    commands=[],
    appearance={
        "kind": "primitive",
        "shape": "cylinder",
        "width": 2.0,
        "height": 3.0,
        "depth": 2.0,
        "color": "#aa3322",
    },
)
BOILER_01: dict[str, Any] = {
    "id": "boiler-01",
    "name": "Boiler 1",
    "profile": "boiler",
    "line": "utilities",
    "x": 50.0,
    "y": 5.0,
    "bands": {"steam_pressure": {"normal_low": 15.0, "normal_high": 20.0}},  # rated for more than the profile's
}


@pytest.fixture
def settings(backend_url: str) -> Settings:
    return Settings(database_url=backend_url, mqtt_url=None, layout_path=None, alarm_on_delay_s=0.0)


async def _client(settings: Settings, token: str = "erin") -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        secret, _ = await services.auth.create_token(token, Role.ENGINEER, CTX)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1/", headers=headers) as c:
            yield c, services


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    async for pair in _client(settings):
        yield pair


def _locs(response: httpx.Response) -> list[list[str | int]]:
    return [p["loc"] for p in response.json()["detail"]]


def _reading(values: dict[str, float], machine_id: str = "boiler-01") -> dict[str, Any]:
    ts = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return {"readings": [{"machine_id": machine_id, "ts": ts, "values": values}]}


async def test_a_machine_of_a_new_profile_is_provisioned_live_and_takes_its_own_readings(
    api: tuple[httpx.AsyncClient, Services],
) -> None:
    client, services = api
    assert services.twin is not None
    stream = services.twin.hub.connect(["mill-01"])  # follows another machine: still told of the plant's change
    assert (await client.post("profiles", json=BOILER)).status_code == 201
    created = await client.post("machines", json=BOILER_01)
    assert created.status_code == 201, created.text
    assert created.json()["profile"] == "boiler"

    messages = []
    while (text := await stream.get()) is not None:
        messages.append(json.loads(text))
        if messages[-1]["type"] == "machine_changed":
            break
    assert messages[-1]["op"] == "created"
    assert messages[-1]["machine"]["id"] == "boiler-01"

    layout = (await client.get("layout")).json()
    assert "boiler-01" in {m["id"] for m in layout["machines"]}
    assert "utilities" in {line["id"] for line in layout["lines"]}
    assert layout["footprints"]["boiler"]["shape"] == "cylinder"
    assert layout["profile_names"]["boiler"] == "Steam boiler"
    catalogue = (await client.get("catalogue")).json()
    assert [s["key"] for s in catalogue["boiler"]] == ["steam_pressure", "flue_temp"]

    # Its own sensors are accepted; another kind's are refused, naming the sensor; so is a value off its range.
    ok = await client.post("telemetry", json=_reading({"steam_pressure": 10.0, "flue_temp": 200.0}))
    assert ok.status_code == 200, ok.text
    wrong = await client.post("telemetry", json=_reading({"spindle_speed": 1000.0}))
    assert wrong.status_code == 422
    assert _locs(wrong) == [["readings", 0, "values", "spindle_speed"]]
    off = await client.post("telemetry", json=_reading({"steam_pressure": 41.0}))
    assert off.status_code == 422

    # 10 bar is normal for the profile but below this machine's own band (15-20 bar): alarmed.
    await services.twin.idle()
    state = (await client.get("machines/boiler-01")).json()
    assert state["state"]["status"] == "running"
    assert state["state"]["values"]["steam_pressure"] == 10.0
    alarms = (await client.get("alarms", params={"machine_id": "boiler-01"})).json()
    assert "low:steam_pressure" in {a["type"] for a in alarms}


async def test_bad_machines_are_refused_naming_the_field(api: tuple[httpx.AsyncClient, Services]) -> None:
    client, _ = api
    await client.post("profiles", json=BOILER)
    cases: list[tuple[dict[str, Any], list[str | int]]] = [
        ({**BOILER_01, "profile": "nope"}, ["body", "profile"]),
        ({**BOILER_01, "id": "mill-01"}, ["body", "id"]),
        ({**BOILER_01, "bands": {"torque": {"normal_low": 1.0, "normal_high": 2.0}}}, ["body", "bands", "torque"]),
        (
            {**BOILER_01, "bands": {"steam_pressure": {"normal_low": 30.0, "normal_high": 50.0}}},
            ["body", "bands", "steam_pressure"],
        ),
        (
            {**BOILER_01, "bands": {"steam_pressure": {"normal_low": 5.0, "normal_high": 4.0}}},
            ["body", "bands", "steam_pressure"],
        ),
        ({**BOILER_01, "id": "bad id!"}, ["body", "id"]),
    ]
    for body, loc in cases:
        response = await client.post("machines", json=body)
        assert response.status_code == 422, (body, response.text)
        assert loc in _locs(response) or [*loc] == _locs(response)[0][: len(loc)], (loc, response.text)
    assert (await client.get("machines/boiler-01")).status_code == 404


async def test_a_machine_is_moved_then_deleted_and_its_history_stays(
    api: tuple[httpx.AsyncClient, Services],
) -> None:
    client, services = api
    await client.post("profiles", json=BOILER)
    await client.post("machines", json=BOILER_01)
    assert (await client.post("telemetry", json=_reading({"steam_pressure": 16.0}))).status_code == 200

    moved = await client.put("machines/boiler-01", json={**BOILER_01, "x": 40.0, "rotation": 90.0})
    assert moved.status_code == 200
    assert moved.json()["x"] == 40.0
    renamed = await client.put("machines/boiler-01", json={**BOILER_01, "id": "boiler-02"})
    assert renamed.status_code == 422
    assert _locs(renamed) == [["body", "id"]]
    assert (await client.put("machines/nope", json={**BOILER_01, "id": "nope"})).status_code == 404

    in_use = await client.delete("profiles/boiler")
    assert in_use.status_code == 409
    assert "boiler-01" in in_use.text

    assert (await client.delete("machines/boiler-01")).status_code == 204
    assert (await client.get("machines/boiler-01")).status_code == 404
    refused = await client.post("telemetry", json=_reading({"steam_pressure": 16.0}))
    assert refused.status_code == 422
    assert _locs(refused) == [["readings", 0, "machine_id"]]
    assert (await client.delete("machines/boiler-01")).status_code == 404

    events = await services.store.events(EventQuery(machine_id="boiler-01", kind="config"))
    assert sorted(e.data["op"] for e in events) == ["created", "deleted", "updated"]
    assert all(e.data["by"] == "erin" for e in events)
    latest = await services.store.latest("boiler-01")
    assert latest["steam_pressure"].value == 16.0  # the history is kept
    assert (await client.delete("profiles/boiler")).status_code == 204  # no machine uses it any more


async def test_provisioned_machines_survive_a_restart_and_deleted_ones_stay_deleted(settings: Settings) -> None:
    async for client, _ in _client(settings):
        await client.post("profiles", json=BOILER)
        assert (await client.post("machines", json=BOILER_01)).status_code == 201
        assert (await client.delete("machines/mill-01")).status_code == 204
    async for client, services in _client(settings, "erin-again"):
        ids = {m["id"] for m in (await client.get("machines")).json()}
        assert "boiler-01" in ids
        assert "mill-01" not in ids
        assert services.machines["boiler-01"].bands["steam_pressure"].normal_low == 15.0
        ok = await client.post("telemetry", json=_reading({"steam_pressure": 16.0}))
        assert ok.status_code == 200, ok.text


async def test_only_engineers_provision(api: tuple[httpx.AsyncClient, Services]) -> None:
    client, services = api
    secret, _ = await services.auth.create_token("olga", Role.OPERATOR, CTX)
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.post("machines", json=BOILER_01, headers=headers)).status_code == 403
    assert (await client.delete("machines/mill-01", headers=headers)).status_code == 403


async def test_a_new_profile_version_is_in_force_at_once_and_the_history_of_kept_sensors_stays(
    api: tuple[httpx.AsyncClient, Services],
) -> None:
    client, _ = api
    await client.post("profiles", json=BOILER)
    await client.post("machines", json=BOILER_01)
    assert (await client.post("telemetry", json=_reading({"steam_pressure": 16.0, "flue_temp": 200.0}))).is_success
    # Version 2: the flue sensor goes, a feed-water flow comes, the pressure's physical range widens to 60 bar.
    pressure = {**BOILER["sensors"][0], "high": 60.0}
    flow = sensor_doc(
        "feed_flow",
        label="Feed water",
        unit="m3/h",
        low=0.0,
        high=50.0,
        normal_low=2.0,
        normal_high=20.0,
        max_rate=None,
    )
    updated = await client.put("profiles/boiler", json={**BOILER, "sensors": [pressure, flow]})
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert (await client.post("telemetry", json=_reading({"steam_pressure": 55.0, "feed_flow": 5.0}))).is_success
    gone = await client.post("telemetry", json=_reading({"flue_temp": 200.0}))
    assert gone.status_code == 422
    history = await client.get("machines/boiler-01/history", params={"sensor": "steam_pressure", "points": 1})
    assert history.status_code == 200
    assert history.json()["buckets"][0]["count"] == 2  # before and after the new version
    catalogue = (await client.get("catalogue")).json()
    assert [s["key"] for s in catalogue["boiler"]] == ["steam_pressure", "feed_flow"]
