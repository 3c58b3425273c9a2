"""Twin your own plant, end to end through the real app: a profile and a machine created over the API, fed by a
connector configured over the API from a real server started by the test — OPC UA (plain with a password, and
Basic256Sha256 SignAndEncrypt), a pymodbus TCP device, a gateway publishing its own JSON to Mosquitto — alarming
on its own bands, obeying a command over OPC UA, and coming back after a restart. Secrets are never returned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services, create_app
from factorytwin.auth import Context, PrincipalKind, Role
from factorytwin.config import Settings
from tests.integration.connectors.conftest import FAST_BACKOFF, free_port
from tests.integration.connectors.test_modbus import HOLDING, Device
from tests.integration.connectors.test_mqttjson import SHARED_BROKER, now_ms, publish
from tests.integration.connectors.uaserver import CLIENT_URI, SERVER_URI, PumpServer, make_certificate
from tests.waiting import DEADLINE_S

pytestmark = pytest.mark.integration
CTX = Context("tests", PrincipalKind.CLI, "cli")
Api = tuple[httpx.AsyncClient, Services]

BOOSTER = {
    "id": "booster-pump",
    "name": "Booster pump",
    "sensors": [
        {
            "key": "flow",
            "label": "Flow",
            "unit": "m3/h",
            "low": 0.0,
            "high": 200.0,
            "normal_low": 20.0,
            "normal_high": 120.0,
        },
        {
            "key": "speed",
            "label": "Shaft speed",
            "unit": "rpm",
            "low": 0.0,
            "high": 4000.0,
            "normal_low": 500.0,
            "normal_high": 3500.0,
            "activity": True,
        },
    ],
    "commands": [{"key": "stop", "label": "Stop"}],
    "appearance": {"kind": "primitive", "shape": "cylinder", "width": 0.8, "height": 1.2, "depth": 0.8},
}
MACHINE = {
    "id": "booster-01",
    "name": "Booster 1",
    "profile": "booster-pump",
    "line": "line-c",
    "x": 50.0,
    "y": 6.0,
    "bands": {"flow": {"normal_low": 60.0, "normal_high": 100.0}},
}


@pytest.fixture
def settings(backend_url: str) -> Settings:
    return Settings(database_url=backend_url, mqtt_url=None, layout_path=None, alarm_on_delay_s=0.0)


async def _open(settings: Settings, token: str) -> AsyncIterator[Api]:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        secret, _ = await services.auth.create_token(token, Role.ENGINEER, CTX)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1/", headers=headers) as c:
            yield c, services


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async for pair in _open(settings, "erin"):
        yield pair


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after the tests' deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not within {DEADLINE_S:g} s: {what}")
        await asyncio.sleep(0.05)


async def value(client: httpx.AsyncClient, machine_id: str, sensor: str) -> float | None:
    latest = (await client.get(f"machines/{machine_id}")).json()["latest"]
    return latest[sensor]["value"] if sensor in latest else None


async def _provision(client: httpx.AsyncClient) -> None:
    assert (await client.post("profiles", json=BOOSTER)).status_code == 201
    assert (await client.post("machines", json=MACHINE)).status_code == 201


def opcua_config(server: PumpServer, **over: Any) -> dict[str, Any]:
    ids = server.node_ids
    return {
        "kind": "opcua",
        "id": "booster-plc",
        "endpoint": server.endpoint,
        "username": "operator",
        "password": "s3cret",
        "publishing_interval_ms": 50,
        "mappings": [
            {"node_id": ids["Flow"], "machine_id": "booster-01", "sensor": "flow"},
            {"node_id": ids["Speed"], "machine_id": "booster-01", "sensor": "speed"},
        ],
        "commands": {
            "stop": {"kind": "method", "object_node_id": ids["Pump01"], "method_node_id": ids["Stop"]},
            "set_speed": {
                "kind": "method",
                "object_node_id": ids["Pump01"],
                "method_node_id": ids["SetSpeed"],
                "arg_types": ["Double"],
            },
        },
        "backoff": FAST_BACKOFF,
    } | over


async def test_an_opcua_machine_of_a_new_profile_reports_alarms_obeys_and_survives_a_restart(
    settings: Settings,
) -> None:
    server = PumpServer(free_port(), passwords={"operator": "s3cret"})
    await server.start(flow=80.0)
    try:
        async for client, services in _open(settings, "erin"):
            await _provision(client)
            created = await client.post("connectors", json=opcua_config(server))
            assert created.status_code == 201, created.text
            assert created.json()["config"]["password"] == "**********"
            assert "s3cret" not in created.text
            await arrives(client, "booster-01", "flow", 80.0, "the first flow value stored")

            view = (await client.get("connectors/booster-plc")).json()
            assert view["status"]["state"] == "connected"
            assert view["status"]["values_total"] >= 2
            fed = (await client.get("machines/booster-01/connectors")).json()
            assert [c["config"]["id"] for c in fed] == ["booster-plc"]
            health = (await client.get("health")).json()
            assert health["sections"]["connectors"]["connectors_connected"] == 1

            # 50 m3/h is normal for the profile but under this machine's own band (60-100): alarmed.
            await server.write("Flow", 50.0)
            await arrives(client, "booster-01", "flow", 50.0, "the low flow stored")
            assert services.twin is not None
            await services.twin.idle()
            alarms = (await client.get("alarms", params={"machine_id": "booster-01"})).json()
            assert "low:flow" in {a["type"] for a in alarms}

            # A command to the machine goes over OPC UA: a method call on the PLC.
            sent = await client.post("machines/booster-01/commands", json={"command": "stop"})
            assert sent.status_code == 202
            assert sent.json()["state"] == "applied"
            assert "OPC UA" in sent.json()["outcome"]
            assert server.calls == [("Stop", [])]
            direct = await client.post("connectors/booster-plc/commands", json={"name": "set_speed", "args": [1500]})
            assert direct.json()["outputs"] == [True]
            await arrives(client, "booster-01", "speed", 1500.0, "the new speed stored")

            children = (await client.post("connectors/booster-plc/browse", json={})).json()
            pump = next(c for c in children if c["display_name"] == "Pump01")
            below = (await client.post("connectors/booster-plc/browse", json={"node_id": pump["node_id"]})).json()
            assert {"Flow", "Speed", "SetSpeed"} <= {c["display_name"] for c in below}

            # Written back as read (password masked): the stored secret stays; the connector reconnects with it.
            again = {**view["config"], "publishing_interval_ms": 100}
            assert (await client.put("connectors/booster-plc", json=again)).status_code == 200
            await reaches(client, "booster-plc", "connected", "reconnected with the kept password")
            stopped = await client.post("connectors/booster-plc/stop")
            assert stopped.json()["status"]["state"] == "stopped"
            assert (await client.post("connectors/booster-plc/start")).json()["enabled"] is True
        async for client, _ in _open(settings, "erin-again"):  # a restart: the connector comes back by itself
            await reaches(client, "booster-plc", "connected", "connected again after a restart")
            await server.write("Flow", 90.0)
            await arrives(client, "booster-01", "flow", 90.0, "values after the restart")
            assert (await client.delete("connectors/booster-plc")).status_code == 204
            assert (await client.get("connectors/booster-plc")).status_code == 404
    finally:
        await server.stop()


async def test_bad_connector_configurations_are_refused_naming_the_field(api: Api) -> None:
    client, _ = api
    await _provision(client)
    server = PumpServer(free_port())  # never started: nothing is reached while refusing
    server.node_ids = {k: f"ns=2;s=Pump01.{k}" for k in ("Flow", "Speed", "Pump01", "Stop", "SetSpeed")}
    cases: list[tuple[dict[str, Any], list[str | int]]] = [
        (opcua_config(server, endpoint="http://x"), ["body", "opcua", "endpoint"]),
        (
            opcua_config(server, mappings=[{"node_id": "ns=2;s=X", "machine_id": "nope", "sensor": "flow"}]),
            ["body", "mappings", 0, "machine_id"],
        ),
        (
            opcua_config(server, mappings=[{"node_id": "ns=2;s=X", "machine_id": "booster-01", "sensor": "torque"}]),
            ["body", "mappings", 0, "sensor"],
        ),
    ]
    for body, loc in cases:
        answer = await client.post("connectors", json=body)
        assert answer.status_code == 422, answer.text
        assert loc in [p["loc"] for p in answer.json()["detail"]], answer.text
    assert (await client.get("connectors")).json() == []
    assert (await client.post("connectors/nope/start")).status_code == 404


async def test_basic256sha256_modbus_and_a_gateways_json_feed_machines_of_a_new_profile(
    api: Api, tmp_path: Path
) -> None:
    client, _ = api
    await _provision(client)
    (tmp_path / "pki").mkdir()
    server_pair = make_certificate(tmp_path / "pki", "server", SERVER_URI, server=True)
    client_pair = make_certificate(tmp_path / "pki", "client", CLIENT_URI, server=False)
    secure = PumpServer(free_port(), security=server_pair)
    await secure.start(flow=70.0)
    device = Device(free_port())
    await device.start()
    await device.set(HOLDING, 0, [880])  # tenths of m3/h
    try:
        security = {
            "policy": "Basic256Sha256",
            "mode": "SignAndEncrypt",
            "client_certificate": str(client_pair.certificate),
            "client_private_key": str(client_pair.private_key),
            "server_certificate": str(server_pair.certificate),
            "application_uri": CLIENT_URI,
        }
        plc = opcua_config(secure, id="secure-plc", security=security, username=None, password=None)
        plc["mappings"] = plc["mappings"][:1]
        assert (await client.post("connectors", json=plc)).status_code == 201
        await arrives(client, "booster-01", "flow", 70.0, "a value over SignAndEncrypt")

        await client.post("machines", json={**MACHINE, "id": "booster-02", "bands": {}})
        modbus = {
            "kind": "modbus",
            "id": "booster-rtu",
            "host": "127.0.0.1",
            "port": device.port,
            "unit_id": 3,
            "poll_interval_s": 0.1,
            "backoff": FAST_BACKOFF,
            "registers": [
                {"address": 0, "data_type": "uint16", "scale": 0.1, "machine_id": "booster-02", "sensor": "flow"}
            ],
        }
        assert (await client.post("connectors", json=modbus)).status_code == 201, "modbus"
        await arrives(client, "booster-01", "flow", 70.0, "still the PLC's")
        await arrives(client, "booster-02", "flow", 88.0, "a polled register stored")

        await client.post("machines", json={**MACHINE, "id": "booster-03", "bands": {}})
        prefix = f"gw-{now_ms()}"
        gateway = {
            "kind": "mqtt_json",
            "id": "site-gateway",
            "broker_url": SHARED_BROKER,
            "topic_filters": [f"{prefix}/+/data"],
            "machine_id_topic_segment": 1,
            "timestamp_pointer": "/t",
            "timestamp_format": "epoch_ms",
            "values": [{"pointer": "/flow_l_min", "sensor": "flow", "scale": 0.06}],
            "backoff": FAST_BACKOFF,
        }
        assert (await client.post("connectors", json=gateway)).status_code == 201
        await reaches(client, "site-gateway", "connected", "the gateway connector subscribed")
        await publish(SHARED_BROKER, f"{prefix}/booster-03/data", {"t": now_ms(), "flow_l_min": 1000})
        await arrives(client, "booster-03", "flow", 60.0, "a gateway's JSON stored")
    finally:
        await device.stop()
        await secure.stop()


async def arrives(client: httpx.AsyncClient, machine_id: str, sensor: str, want: float, what: str) -> None:
    """Wait until the machine's newest stored ``sensor`` value is ``want``."""

    async def check() -> bool:
        found = await value(client, machine_id, sensor)
        return found is not None and abs(found - want) < 1e-6

    await eventually(check, what)


async def reaches(client: httpx.AsyncClient, connector_id: str, state: str, what: str) -> None:
    """Wait until the connector's status is ``state``."""

    async def check() -> bool:
        view = (await client.get(f"connectors/{connector_id}")).json()
        return view.get("status") is not None and view["status"]["state"] == state

    await eventually(check, what)
