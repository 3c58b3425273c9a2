"""Two API processes on one broker and one PostgreSQL database: the MQTT bus lets each see every event."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from factorytwin.config import Settings
from factorytwin.mqtt import MqttEndpoint
from factorytwin.prediction import Prediction
from factorytwin.twin.bus import BusEvent, BusHandler, MqttBus, new_origin
from tests.credentials import admin_headers
from tests.integration.twin.conftest import Mosquitto, serve, wait_until
from tests.integration.twin.test_mqtt_live import counted, reading_set
from tests.unit.api.test_machine_routes import BOILER, BOILER_01
from tests.unit.twin.helpers import IMMEDIATE

pytestmark = pytest.mark.integration


def settings_for(postgres_url: str, broker: Mosquitto, client_id: str) -> Settings:
    return Settings(
        database_url=postgres_url,
        mqtt_url=broker.url,
        mqtt_client_id=client_id,
        mqtt_shared_subscription=True,
        stream_interval_s=0.05,
        **IMMEDIATE,  # alarms without their on-delay: this test is about who sees them, not when
    )


SHARED_BROKER = MqttEndpoint("127.0.0.1", 1883)


async def _pair_exchange(protocol: aiomqtt.ProtocolVersion) -> tuple[MqttBus, MqttBus, dict[str, list[str]]]:
    """Two buses on the shared broker: each publishes its events, then the other one's; what each handler saw (by
    origin, of these two buses only: other tests may use the broker's bus topics too)."""
    a = MqttBus(SHARED_BROKER, f"a{new_origin()}", protocol=protocol)
    b = MqttBus(SHARED_BROKER, f"b{new_origin()}", protocol=protocol)
    seen: dict[str, list[str]] = {a.origin: [], b.origin: []}
    done = {a.origin: asyncio.Event(), b.origin: asyncio.Event()}

    def handler_for(me: str) -> BusHandler:
        async def handler(event: BusEvent) -> None:
            if event.origin in seen:
                seen[me].append(event.origin)
                if isinstance(event.payload, Prediction) and event.payload.machine_id == "last":
                    done[me].set()

        return handler

    for bus in (a, b):
        bus.subscribe(handler_for(bus.origin))
        await bus.start()
    try:
        # QoS 1, one after the other: by the time a bus gets the other's last event, the broker has long had
        # (and would have sent back) every one of its own.
        for bus in (a, b, a, b):
            for i in range(5):
                await bus.publish(BusEvent("prediction", bus.origin, Prediction(machine_id=f"m{i}")))
        for bus in (a, b):
            await bus.publish(BusEvent("prediction", bus.origin, Prediction(machine_id="last")))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in done.values())), 10)
    finally:
        await a.stop()
        await b.stop()
    return a, b, seen


async def test_two_buses_get_each_others_events_and_the_broker_keeps_their_own_from_them() -> None:
    a, b, seen = await _pair_exchange(aiomqtt.ProtocolVersion.V5)
    assert seen == {a.origin: [b.origin] * 11, b.origin: [a.origin] * 11}
    assert (a.link.no_local_in_force, b.link.no_local_in_force) == (True, True)
    assert (a.echoes, b.echoes) == (0, 0)  # No Local: not one own message came back to be decoded and dropped


async def test_over_mqtt_3_1_1_the_buses_drop_their_own_echo_by_origin() -> None:
    a, b, seen = await _pair_exchange(aiomqtt.ProtocolVersion.V311)
    assert seen == {a.origin: [b.origin] * 11, b.origin: [a.origin] * 11}
    assert (a.link.no_local_in_force, b.link.no_local_in_force) == (False, False)
    # Each got its own 11 back from the broker before the other's last one (published after them all).
    assert (a.echoes, b.echoes) == (11, 11)


async def _state(http: httpx.AsyncClient, machine_id: str) -> dict[str, Any]:
    state: dict[str, Any] = (await http.get(f"/api/v1/machines/{machine_id}")).json()["state"]
    return state


async def test_two_instances_split_the_mqtt_load_and_both_see_every_reading_and_alarm(
    tmp_path: Path, mosquitto: Mosquitto, postgres_url: str
) -> None:
    async with (
        serve(settings_for(postgres_url, mosquitto, "ft-test-a")) as base_a,
        serve(settings_for(postgres_url, mosquitto, "ft-test-b")) as base_b,
        httpx.AsyncClient(base_url=base_a, headers=admin_headers(base_a)) as http_a,
        httpx.AsyncClient(base_url=base_b, headers=admin_headers(base_b)) as http_b,
        ws_connect(
            base_b.replace("http", "ws") + "/api/v1/stream?machines=mill-03", additional_headers=admin_headers(base_b)
        ) as ws_b,
    ):
        assert json.loads(await ws_b.recv())["type"] == "snapshot"
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="pub-bus") as client:
            for i in range(40):
                await client.publish("ft/mill-03/telemetry", json.dumps(reading_set(i, "mill-03", torque=10.0 + i)), 1)
            await client.publish("ft/mill-03/telemetry", json.dumps(reading_set(40, "mill-03", process_temp=330.0)), 1)

        async def ingested(http: httpx.AsyncClient) -> int:
            return int((await http.get("/api/v1/health")).json()["sections"]["mqtt"]["ingested_messages"])

        async def all_ingested() -> bool:
            return await ingested(http_a) + await ingested(http_b) == 41

        await wait_until(all_ingested)
        assert await ingested(http_a) > 0
        assert await ingested(http_b) > 0  # the shared subscription split the load

        async def both_show_the_last_values() -> bool:
            states = [await _state(http_a, "mill-03"), await _state(http_b, "mill-03")]
            return all(s["values"].get("process_temp") == 330.0 for s in states)

        await wait_until(both_show_the_last_values)

        async def high_alarm_on_stream() -> dict[str, Any]:
            while True:
                message = json.loads(await asyncio.wait_for(ws_b.recv(), 10))
                if message["type"] == "alarm" and message["alarm"]["type"] == "high:process_temp":
                    alarm: dict[str, Any] = message["alarm"]
                    return alarm

        alarm = await high_alarm_on_stream()  # B sees it, whichever instance raised it
        assert alarm["id"] is not None
        # Both twins know the alarm: it weighs on the machine's health in each.
        assert (await _state(http_a, "mill-03"))["health"] < 100
        assert (await _state(http_b, "mill-03"))["health"] < 100
        stored = (await http_a.get("/api/v1/alarms", params={"machine_id": "mill-03"})).json()
        types = [a["type"] for a in stored]  # the 20 K jump also trips rate:process_temp
        assert "high:process_temp" in types
        assert len(types) == len(set(types))  # each raised once, by one instance


async def test_forged_bus_messages_are_dropped_and_counted_not_applied(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/twin.db", mqtt_url=mosquitto.url, mqtt_client_id="ft-forge")
    now = datetime.now(UTC).isoformat()
    fake_alarm = {
        "id": 1,
        "machine_id": "mill-01",
        "severity": "critical",
        "state": "active_unack",
        "message": "forged",
        "raised_at": now,
        "updated_at": now,
    }
    forged_batch = {"readings": [reading_set(0, "mill-01", torque=99999.0)], "events": []}
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="forger") as client:
            for i in range(500):
                body = {"type": "alarm", "origin": "evil", "payload": {**fake_alarm, "type": f"fake:{i}"}}
                await client.publish("ft/_bus/events/alarm", json.dumps(body), qos=1)
            body = {"type": "telemetry", "origin": "evil", "payload": forged_batch}
            await client.publish("ft/_bus/events/telemetry", json.dumps(body), qos=1)
            await client.publish("ft/_bus/events/alarm", b"[" * 5000, qos=1)

        async def all_refused() -> dict[str, Any] | None:
            twin: dict[str, Any] = (await http.get("/api/v1/health")).json()["sections"]["twin"]
            return twin if sum(counted(twin, "bus_refused.").values()) == 502 else None

        twin = await wait_until(all_refused)
        assert twin is not None
        assert counted(twin, "bus_refused.") == {"invalid_alarm": 500, "invalid_telemetry": 1, "malformed": 1}
        assert twin["active_alarms"] == 0
        assert "torque" not in (await _state(http, "mill-01"))["values"]


async def test_a_machine_provisioned_on_one_instance_is_live_on_the_other(
    mosquitto: Mosquitto, postgres_url: str
) -> None:
    async with (
        serve(settings_for(postgres_url, mosquitto, "ft-plant-a")) as base_a,
        serve(settings_for(postgres_url, mosquitto, "ft-plant-b")) as base_b,
        httpx.AsyncClient(base_url=base_a, headers=admin_headers(base_a)) as http_a,
        httpx.AsyncClient(base_url=base_b, headers=admin_headers(base_b)) as http_b,
    ):
        assert (await http_a.post("/api/v1/profiles", json=BOILER)).status_code == 201
        assert (await http_a.post("/api/v1/machines", json=BOILER_01)).status_code == 201

        async def b_knows_it() -> bool:  # told over the bus, read from the store: no restart, no poll interval
            machines = (await http_b.get("/api/v1/layout")).json()["machines"]
            return "boiler-01" in {m["id"] for m in machines}

        await wait_until(b_knows_it)
        sync = (await http_b.get("/api/v1/health")).json()["sections"]["plant_sync"]
        assert sync["changes"] >= 2  # the profile and the machine
        assert sync["failures"] == 0

        # Both instances take the new machine's telemetry, whichever of them the share group hands it to.
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="pub-plant") as client:
            for i in range(20):
                ts = datetime.fromtimestamp(datetime.now(UTC).timestamp() - 30 + i, UTC).isoformat()
                body = {"machine_id": "boiler-01", "ts": ts, "values": {"steam_pressure": 10.0 + i / 10}}
                await client.publish("ft/boiler-01/telemetry", json.dumps(body), 1)

        async def stored_everywhere() -> bool:
            health = [(await h.get("/api/v1/health")).json()["sections"]["mqtt"] for h in (http_a, http_b)]
            settled = sum(int(s["ingested_messages"]) + int(s["rejected_messages"]) for s in health)
            return settled == 20

        await wait_until(stored_everywhere)
        for h in (http_a, http_b):
            assert (await h.get("/api/v1/health")).json()["sections"]["mqtt"]["rejected_messages"] == 0

        async def both_show_the_last_value() -> bool:  # the other instance's share arrives over the bus
            states = [await _state(http_a, "boiler-01"), await _state(http_b, "boiler-01")]
            return all(s["values"].get("steam_pressure") == 11.9 for s in states)

        await wait_until(both_show_the_last_value)
