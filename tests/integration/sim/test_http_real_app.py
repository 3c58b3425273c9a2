"""The simulator's HTTP publisher against the real factorytwin API (SQLite store, a free port)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from factorytwin.api.serve import BackgroundServer
from factorytwin.auth import Role
from factorytwin.config import Settings
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.sim.publish import HttpPublisher
from factorytwin.sim.realtime import run_realtime
from tests.credentials import token_for
from tests.waiting import until

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_realtime_run_reaches_the_api_even_when_it_starts_later(tmp_path: Path) -> None:
    port = _free_port()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/twin.db", mqtt_url=None, port=port)
    stop = asyncio.Event()
    engine = Engine(load_layout(), seed=2, demo_faults=True)
    token = await token_for(settings.database_url, Role.OPERATOR)  # the server reads the same database
    publisher = HttpPublisher(f"http://127.0.0.1:{port}", token=token)
    sim = asyncio.create_task(
        run_realtime(load_layout(), speed=600.0, tick_s=0.1, engine=engine, stop=stop, publishers=[publisher])
    )
    # The API is not up yet: the publisher buffers and retries.
    await until(lambda: publisher.stats.retries >= 2, "two retries while the API is down")
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        BackgroundServer(settings, port=port) as server,
        httpx.AsyncClient(base_url=server.url, headers=headers) as http,
    ):
        # 45 simulated minutes (enough for the demo faults' first events), everything buffered delivered.
        await until(
            lambda: engine.t >= 2700.0 and publisher.stats.sent_readings > 0 and publisher.pending() == 0,
            "45 simulated minutes published",
        )
        stop.set()
        stats = await asyncio.wait_for(sim, 20)
        machines: list[dict[str, Any]] = (await http.get("/api/v1/machines")).json()
        seen = {m["id"] if "id" in m else m["machine_id"]: m for m in machines}
        assert len(seen) == 16
        body = (await http.get("/api/v1/machines/mill-01")).json()
        assert body["state"]["last_seen"] is not None
        assert "spindle_speed" in body["state"]["values"]
        history = (await http.get("/api/v1/machines/mill-01/history", params={"sensor": "air_temp"})).json()
        stored = sum(b["count"] for b in history["buckets"])
        events = (await http.get("/api/v1/machines/mill-01/events", params={"limit": 200})).json()
        assert any(e["kind"] in ("fault", "maintenance") for e in events), events[:5]
    assert stats.readings >= 16 * 10
    assert stats.unsent == 0
    assert stored == stats.readings // 16  # every reading set of mill-01, those sent before the API was up too
