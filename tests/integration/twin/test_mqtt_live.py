"""The live twin against a real Mosquitto: MQTT ingest to store and WebSocket, commands, no loss on restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from factorytwin.config import Settings
from factorytwin.mqtt import payload_bytes
from tests.credentials import admin_headers
from tests.integration.twin.conftest import Mosquitto, serve, wait_until

pytestmark = pytest.mark.integration

MILL = {
    "air_temp": 300.0,
    "process_temp": 310.0,
    "spindle_speed": 1500.0,
    "torque": 40.0,
    "power": 6.0,
    "tool_wear": 50.0,
    "vibration": 2.0,
    "motor_current": 20.0,
}
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def reading_set(i: int, machine_id: str = "mill-01", **values: float) -> dict[str, Any]:
    ts = (T0 + timedelta(milliseconds=100 * i)).isoformat()
    return {"machine_id": machine_id, "ts": ts, "values": {**MILL, **values}}


def settings_for(tmp_path: Path, broker: Mosquitto, client_id: str = "ft-test-ingest", **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/twin.db",
        mqtt_url=broker.url,
        mqtt_client_id=client_id,
        stream_interval_s=0.05,
        **extra,
    )


@contextlib.asynccontextmanager
async def publisher(broker: Mosquitto, name: str) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=name) as client:
        yield client


async def publish_readings(broker: Mosquitto, start: int, count: int, machine_id: str = "mill-01") -> None:
    async with publisher(broker, f"pub-{start}") as client:
        for i in range(start, start + count):
            await client.publish(f"ft/{machine_id}/telemetry", json.dumps(reading_set(i, machine_id)), qos=1)


def counted(section: dict[str, Any], prefix: str) -> dict[str, int]:
    """The non-zero ``<prefix><reason>`` counters of a /health section, by reason."""
    return {k.removeprefix(prefix): int(v) for k, v in section.items() if k.startswith(prefix) and v}


async def health(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/api/v1/health")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def stored_readings(http: httpx.AsyncClient) -> int:
    return int((await health(http))["store"]["readings"])


async def test_readings_published_over_mqtt_reach_the_store_and_a_websocket_client(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    async with (
        serve(settings_for(tmp_path, mosquitto)) as base,
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        async with ws_connect(
            base.replace("http", "ws") + "/api/v1/stream?machines=mill-01", additional_headers=admin_headers(base)
        ) as ws:
            snapshot = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            async with publisher(mosquitto, "pub-ws") as client:
                await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(1, torque=42.5)), qos=1)
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            while message["type"] != "reading":
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["machine_id"] == "mill-01"
            assert message["values"]["torque"] == 42.5
        await wait_until(lambda: _equals(stored_readings(http), len(MILL)))
        latest = (await http.get("/api/v1/machines/mill-01")).json()["latest"]
        assert latest["torque"]["value"] == 42.5
        mqtt = (await health(http))["sections"]["mqtt"]
        assert mqtt["connected"] is True
        assert mqtt["ingested_messages"] == 1


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def test_malformed_messages_are_counted_and_never_block_good_ones(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with (
        serve(settings_for(tmp_path, mosquitto)) as base,
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        async with publisher(mosquitto, "pub-bad") as client:
            await client.publish("ft/mill-01/telemetry", b"{not json", qos=1)
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(1, "mill-02")), qos=1)
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(2, torque=999.0)), qos=1)
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(3)), qos=1)
            await client.publish("ft/ghost/telemetry", json.dumps(reading_set(4, "ghost")), qos=1)
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(5)), qos=1)
        await wait_until(lambda: _equals(stored_readings(http), 2 * len(MILL)))
        await wait_until(lambda: _settled(http, 4))
        mqtt = (await health(http))["sections"]["mqtt"]
        # torque beyond the physical range and an unknown machine are "invalid"
        assert counted(mqtt, "rejected.") == {"not_json": 1, "topic_mismatch": 1, "invalid": 2}
        assert mqtt["rejected_messages"] == 4
        assert mqtt["dead_lettered"] == 4
        assert mqtt["ingested_messages"] == 2
        assert mqtt["reconnects"] == 0


async def _settled(http: httpx.AsyncClient, rejected: int) -> bool:
    mqtt = (await health(http))["sections"]["mqtt"]
    return bool(mqtt["rejected_messages"] == rejected and mqtt["dead_lettered"] == rejected)


async def _fake_machine(broker: Mosquitto, stop: asyncio.Event) -> None:
    """A mill that obeys set_speed on ft/mill-01/commands and reports its spindle speed every 50 ms."""
    speed_pct = 100.0
    i = 0
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="fake-mill-01") as client:
        await client.subscribe("ft/mill-01/commands", qos=1)

        async def obey() -> None:
            nonlocal speed_pct
            async for message in client.messages:
                command = json.loads(payload_bytes(message))
                if command["command"] == "set_speed":
                    speed_pct = command["speed_pct"]

        listener = asyncio.create_task(obey())
        try:
            while not stop.is_set():
                i += 1
                values = reading_set(1000 + i, spindle_speed=1500.0 * speed_pct / 100.0)
                values["ts"] = datetime.now(UTC).isoformat()
                await client.publish("ft/mill-01/telemetry", json.dumps(values), qos=1)
                await asyncio.sleep(0.05)
        finally:
            listener.cancel()


async def test_command_reaches_the_machine_over_mqtt_and_changes_its_readings(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    stop = asyncio.Event()
    async with (
        serve(settings_for(tmp_path, mosquitto, command_timeout_s=0.5)) as base,
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        machine = asyncio.create_task(_fake_machine(mosquitto, stop))
        try:

            async def spindle() -> float | None:
                state = (await http.get("/api/v1/machines/mill-01")).json()["state"]
                value = state["values"].get("spindle_speed")
                return float(value) if value is not None else None

            assert await wait_until(lambda: _equals(spindle(), 1500.0))
            response = await http.post(
                "/api/v1/machines/mill-01/commands", json={"command": "set_speed", "speed_pct": 50, "issued_by": "t"}
            )
            assert response.status_code == 202, response.text
            result = response.json()
            assert result["delivered"] is True
            assert result["outcome"].startswith("published to ft/mill-01/commands")
            assert await wait_until(lambda: _equals(spindle(), 750.0))
            # One event per command: this machine does not answer, so the twin writes it once the answer is overdue.

            async def logged() -> bool:
                events = (await http.get("/api/v1/machines/mill-01/events")).json()
                answers = [e["data"] for e in events if e["kind"] == "command"]
                return any(d.get("command", {}).get("speed_pct") == 50 for d in answers)

            assert await wait_until(logged)
        finally:
            stop.set()
            await machine


async def test_no_qos1_reading_is_lost_when_the_broker_goes_away_and_the_subscriber_restarts(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    # The default (no share group): the session keeps its subscription while the API is away, and across a broker
    # restart. The shared mode's restarts are in test_mqtt_reliability.py.
    settings = settings_for(tmp_path, mosquitto, client_id="ft-test-durable")
    per_set = len(MILL)
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http:
        await publish_readings(mosquitto, 0, 50)
        await wait_until(lambda: _equals(stored_readings(http), 50 * per_set))
    # The subscriber is away; the broker keeps its persistent session's messages, and then restarts.
    await publish_readings(mosquitto, 50, 50)
    mosquitto.stop()
    mosquitto.start()
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http:
        await wait_until(lambda: _equals(stored_readings(http), 100 * per_set), timeout_s=20)
        # The broker goes away under a running subscriber, which reconnects with back-off; what is published
        # before it is back is queued for its session all the same.
        mosquitto.stop()
        await wait_until(lambda: _not_connected(http))
        mosquitto.start()
        await publish_readings(mosquitto, 100, 50)
        await wait_until(lambda: _equals(stored_readings(http), 150 * per_set), timeout_s=20)
        assert (await health(http))["sections"]["mqtt"]["connects"] >= 2


async def _not_connected(http: httpx.AsyncClient) -> bool:
    return not (await health(http))["sections"]["mqtt"]["connected"]
