"""The Node-RED flow (nodered/flows.json) run by the real, pinned node-red against the running API."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from factorytwin.config import Settings
from tests.credentials import TEST_CTX, admin_headers
from tests.integration.twin.conftest import Mosquitto, free_port, serve_app, wait_until

pytestmark = pytest.mark.integration

NODERED_DIR = Path(__file__).resolve().parents[3] / "nodered"
NODE_RED = NODERED_DIR / "node_modules" / ".bin" / "node-red"
MACHINE = "mill-02"


@pytest.fixture(scope="module")
def node_red_installed() -> Path:
    """The pinned node-red (``npm ci`` in nodered/ when ``make`` has not installed it yet)."""
    if not NODE_RED.exists():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to install node-red for this test (Node 20)")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODERED_DIR, check=True, timeout=600
        )
    return NODE_RED


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    (tmp_path / "broker").mkdir()
    mosquitto = Mosquitto(tmp_path / "broker")
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()


def start_node_red(
    node_red: Path, user_dir: Path, api_url: str, broker: Mosquitto, api_token: str
) -> subprocess.Popen[bytes]:
    user_dir.mkdir()
    flow = user_dir / "flows.json"
    shutil.copy(NODERED_DIR / "flows.json", flow)  # node-red may write beside its flow file: keep the repo clean
    env = {
        **os.environ,
        "FT_NODERED_PORT": str(free_port()),
        "FT_NODERED_LOG": "warn",
        "FT_API_URL": api_url,
        "FT_API_TOKEN": api_token,
        "FT_MQTT_HOST": "127.0.0.1",
        "FT_MQTT_PORT": str(broker.port),
        "FT_MACHINE_ID": MACHINE,
    }
    command = [str(node_red), "--settings", str(NODERED_DIR / "settings.js"), "--userDir", str(user_dir), str(flow)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def test_node_red_flow_feeds_the_api_over_mqtt_and_http_and_obeys_commands(
    tmp_path: Path, broker: Mosquitto, node_red_installed: Path
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/twin.db", mqtt_url=broker.url, mqtt_client_id="ft-test-nodered"
    )
    async with (
        serve_app(settings) as (base, app),
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        # The flow posts with the machine's own device key, as a gateway in the plant would.
        key, _ = await app.state.services.auth.issue_device_key(MACHINE, TEST_CTX)
        node_red = start_node_red(node_red_installed, tmp_path / "node-red", base, broker, key)
        try:

            async def health() -> dict[str, Any]:
                body: dict[str, Any] = (await http.get("/api/v1/health")).json()
                return body

            async def both_paths_delivered() -> bool:
                assert node_red.poll() is None, node_red.stdout.read().decode() if node_red.stdout else ""
                h = await health()
                mqtt_batches = h["sections"]["mqtt"]["batches"]
                return bool(mqtt_batches > 0 and h["ingest"]["accepted_batches"] > mqtt_batches)

            await wait_until(both_paths_delivered, timeout_s=60, every_s=0.2)
            latest = (await http.get(f"/api/v1/machines/{MACHINE}")).json()["latest"]
            assert set(latest) >= {"spindle_speed", "torque", "process_temp", "tool_wear"}
            assert 1700 < latest["spindle_speed"]["value"] < 1900

            command = {"command": "set_speed", "speed_pct": 50}
            response = await http.post(f"/api/v1/machines/{MACHINE}/commands", json=command)
            assert response.json()["delivered"] is True

            async def slowed_down() -> bool:
                state = (await http.get(f"/api/v1/machines/{MACHINE}")).json()["state"]
                return bool(800 < state["values"]["spindle_speed"] < 1000)

            await wait_until(slowed_down, timeout_s=20, every_s=0.2)
            assert (await health())["ingest"]["rejected_batches"] == 0
        finally:
            node_red.terminate()
            await asyncio.to_thread(node_red.wait, 10)
