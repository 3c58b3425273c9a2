"""A command posted to the API reaches the real simulator over MQTT, which obeys and reports back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from factorytwin.config import Settings
from factorytwin.layout import load_layout
from factorytwin.sim.realtime import run_realtime
from tests.credentials import admin_headers
from tests.integration.twin.conftest import Mosquitto, serve, wait_until

pytestmark = pytest.mark.integration


async def test_stop_command_reaches_the_simulated_machine_which_stops_and_logs_the_outcome(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/twin.db",
        mqtt_url=mosquitto.url,
        mqtt_client_id="ft-test-sim",
        stream_interval_s=0.05,
    )
    stop = asyncio.Event()
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http:
        sim = asyncio.create_task(
            run_realtime(load_layout(), mqtt_url=mosquitto.url, speed=5.0, tick_s=0.2, seed=3, stop=stop)
        )
        try:

            async def state() -> dict[str, Any]:
                body: dict[str, Any] = (await http.get("/api/v1/machines/mill-01")).json()["state"]
                return body

            async def reporting() -> bool:
                return (await state())["last_seen"] is not None

            await wait_until(reporting, timeout_s=20)
            response = await http.post("/api/v1/machines/mill-01/commands", json={"command": "stop"})
            assert response.status_code == 202, response.text
            assert response.json()["delivered"] is True
            assert response.json()["state"] == "delivered"  # applied once the machine answers
            command_id = response.json()["command"]["id"]

            async def stopped() -> bool:
                s = await state()
                return bool(s["status"] == "stopped" and s["values"]["spindle_speed"] == 0.0)

            await wait_until(stopped, timeout_s=20)
            events = (await http.get("/api/v1/machines/mill-01/events", params={"limit": 50})).json()
            commands = [e for e in events if e["kind"] == "command"]
            (answer,) = [e for e in commands if e["data"].get("command_id") == command_id]  # one event per command
            assert answer["data"]["accepted"] is True  # the machine's answer
        finally:
            stop.set()
            await asyncio.wait_for(sim, 20)
