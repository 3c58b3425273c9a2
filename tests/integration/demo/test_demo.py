"""``factorytwin demo``: a first model is trained when none exists; the twin serves live data and obeys commands."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from factorytwin.config import Settings
from factorytwin.demo import DemoAccess, ensure_model, run_demo
from factorytwin.layout import load_layout
from factorytwin.ml.registry import ModelRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _until(
    url: str, check: Callable[[dict[str, Any]], bool], client: httpx.AsyncClient, timeout_s: float = 20.0
) -> dict[str, Any]:
    """Poll ``url`` until its JSON satisfies ``check``; return that JSON."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await client.get(url)
        if response.status_code == 200 and check(response.json()):
            body: dict[str, Any] = response.json()
            return body
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting on {url}: {response.text}"
        await asyncio.sleep(0.2)


def test_first_start_trains_a_model_and_a_second_start_reuses_it(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", model_dir=tmp_path / "models")
    layout = load_layout()
    version = ensure_model(settings, layout, days=2, seed=1)
    assert ModelRegistry(settings.model_dir).active_version() == version
    assert ensure_model(settings, layout, days=2, seed=1) == version  # reused, not retrained


async def test_demo_serves_live_data_and_a_stop_command_stops_the_machine(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", model_dir=tmp_path / "models", port=0)
    stop = asyncio.Event()
    ready: asyncio.Future[tuple[str, DemoAccess]] = asyncio.get_running_loop().create_future()
    demo = asyncio.create_task(
        run_demo(settings, load_layout(), speed=60, seed=3, stop=stop, on_ready=lambda *args: ready.set_result(args))
    )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            url, access = await asyncio.wait_for(ready, timeout=30)
            assert access.new_password is not None  # the first start created the admin
            assert (await client.get(f"{url}/api/v1/machines")).status_code == 401  # nothing without a session
            printed = urlsplit(access.login_url)  # printed for localhost; this client talks to 127.0.0.1
            login_url = f"{url}{printed.path}?{printed.query}"
            link = await client.get(login_url)  # what the printed one-time link does in a browser
            assert link.status_code == 303, link.text
            assert (await client.get(login_url)).status_code == 401  # ... once only
            csrf = {"X-CSRF-Token": client.cookies["ft_csrf"]}
            running = await _until(
                f"{url}/api/v1/machines/mill-02", lambda m: m["state"] and m["state"]["status"] == "running", client
            )
            assert running["latest"]
            refused = await client.post(f"{url}/api/v1/machines/mill-02/commands", json={"command": "stop"})
            assert refused.status_code == 403, refused.text  # a cookie write without the CSRF token
            response = await client.post(
                f"{url}/api/v1/machines/mill-02/commands", json={"command": "stop"}, headers=csrf
            )
            assert response.status_code == 202, response.text
            assert response.json()["delivered"] is True
            stopped = await _until(
                f"{url}/api/v1/machines/mill-02",
                lambda m: m["state"]["status"] == "stopped" and m["state"]["values"]["spindle_speed"] == 0,
                client,
            )
            assert stopped["state"]["values"]["power"] < 0.5  # kW: the sensor noise floor, no cutting power
    finally:
        stop.set()
        await asyncio.wait_for(demo, timeout=30)


async def test_demo_over_opcua_reads_the_simulator_through_a_connector_and_commands_over_opcua(tmp_path: Path) -> None:
    from tests.integration.connectors.conftest import free_port

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", model_dir=tmp_path / "models", port=0)
    stop = asyncio.Event()
    ready: asyncio.Future[tuple[str, DemoAccess]] = asyncio.get_running_loop().create_future()
    demo = asyncio.create_task(
        run_demo(
            settings,
            load_layout(),
            speed=60,
            seed=3,
            stop=stop,
            on_ready=lambda *args: ready.set_result(args),
            opcua_port=free_port(),
        )
    )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            url, access = await asyncio.wait_for(ready, timeout=30)
            printed = urlsplit(access.login_url)
            assert (await client.get(f"{url}{printed.path}?{printed.query}")).status_code == 303
            csrf = {"X-CSRF-Token": client.cookies["ft_csrf"]}
            connector = await _until(
                f"{url}/api/v1/connectors/simulator-opcua",
                lambda c: c["status"] is not None and c["status"]["values_total"] > 100,
                client,
                timeout_s=60,
            )
            assert connector["status"]["state"] == "connected"
            running = await _until(
                f"{url}/api/v1/machines/mill-02", lambda m: "spindle_speed" in m["latest"], client, timeout_s=30
            )
            assert running["latest"]["spindle_speed"]["value"] > 0
            response = await client.post(
                f"{url}/api/v1/machines/mill-02/commands", json={"command": "stop"}, headers=csrf
            )
            assert response.status_code == 202, response.text
            assert response.json()["state"] == "applied", response.text
            assert "OPC UA" in response.json()["outcome"]
            await _until(
                f"{url}/api/v1/machines/mill-02",
                lambda m: m["state"]["values"].get("spindle_speed") == 0,
                client,
                timeout_s=30,
            )
    finally:
        stop.set()
        await asyncio.wait_for(demo, timeout=30)
