"""The real server (uvicorn on a free port) over SQLite and PostgreSQL: ingest, resend, history, bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from factorytwin.api.serve import BackgroundServer
from factorytwin.config import Settings
from tests.credentials import bearer

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    return url


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        BackgroundServer(Settings(database_url=database_url)) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30, headers=await bearer(server.app)) as c,
    ):
        yield c


def batch(start: int, n: int) -> dict[str, list[dict[str, Any]]]:
    readings = [
        {
            "machine_id": machine,
            "ts": (T0 + timedelta(seconds=i)).isoformat(),
            "values": {"vibration": 1.0 + (i % 10) / 10, "motor_current": 20.0},
        }
        for i in range(start, start + n)
        for machine in ("pump-01", "conveyor-a")
    ]
    return {"readings": readings}


async def test_concurrent_batches_are_all_stored_once_and_resends_change_nothing(client: httpx.AsyncClient) -> None:
    bodies = [batch(k * 100, 100) for k in range(8)]
    results = await asyncio.gather(*(client.post("/api/v1/telemetry", json=b) for b in bodies))
    assert [r.status_code for r in results] == [200] * 8
    assert sum(r.json()["new_readings"] for r in results) == 8 * 100 * 2 * 2
    resent = await client.post("/api/v1/telemetry", json=bodies[3])
    assert resent.json() == {"readings": 400, "new_readings": 0, "events": 0}
    health = (await client.get("/api/v1/health")).json()
    assert health["store"]["readings"] == 3200
    assert health["ingest"]["accepted_batches"] == 9

    params: dict[str, str | int] = {
        "sensor": "vibration",
        "from": T0.isoformat(),
        "to": (T0 + timedelta(seconds=800)).isoformat(),
        "points": 8,
        "bucketing": "exact",  # 8 equal buckets of 100 s (aligned ones would be 2 min wide, from the epoch)
    }
    history = (await client.get("/api/v1/machines/pump-01/history", params=params)).json()
    assert [b["count"] for b in history["buckets"]] == [100] * 8
    assert all(b["min"] == 1.0 and b["max"] == 1.9 for b in history["buckets"])
    assert history["buckets"][0]["avg"] == pytest.approx(1.45)


async def test_a_bad_batch_stores_nothing_and_names_the_item(client: httpx.AsyncClient) -> None:
    body = batch(0, 10)
    body["readings"][13]["values"]["vibration"] = 1000.0
    r = await client.post("/api/v1/telemetry", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["readings", 13, "values", "vibration"]
    assert (await client.get("/api/v1/health")).json()["store"]["readings"] == 0
    latest = (await client.get("/api/v1/machines/pump-01")).json()["latest"]
    assert latest == {}
