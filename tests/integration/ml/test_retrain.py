"""Retraining from the twin's stored history on PostgreSQL: POST /models/train runs off the event loop, stores a
version, and the API serves it for a known machine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest

from factorytwin.api import create_app
from factorytwin.config import Settings
from factorytwin.ml.synthetic import synthetic_history
from tests.credentials import bearer

pytestmark = pytest.mark.integration

SENSORS = ("air_temp", "process_temp", "spindle_speed", "torque", "tool_wear", "vibration")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def _batches(readings: pd.DataFrame, events: pd.DataFrame, shift_ms: int) -> list[dict[str, object]]:
    """The synthetic history as telemetry batches (fault/maintenance events included), moved to end now."""
    sets = [
        {
            "machine_id": r.machine_id,
            "ts": _iso(int(r.ts) + shift_ms),
            "values": {k: float(getattr(r, k)) for k in SENSORS},
        }
        for r in readings.itertuples()
    ]
    evs = []
    for e in events.itertuples():
        failure = e.event == "failure"
        evs.append(
            {
                "machine_id": e.machine_id,
                "ts": _iso(int(e.ts) + shift_ms),
                "kind": "fault" if failure else "maintenance",
                "status": "failed" if failure else "running",
                "message": e.event,
                "data": {"mode": e.mode} if failure else {"event": "repair"},
            }
        )
    chunks: list[dict[str, object]] = [{"readings": sets[i : i + 2000]} for i in range(0, len(sets), 2000)]
    chunks.append({"events": evs})
    return chunks


async def test_retrain_from_stored_history_then_predict(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=postgres_url, model_dir=tmp_path / "models", mqtt_url=None)
    readings, events = synthetic_history(machines=2, days=30, seed=3)
    shift = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp() * 1000) - int(readings["ts"].max())
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await bearer(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", timeout=60, headers=headers
        ) as client:
            for batch in _batches(readings, events, shift):
                r = await client.post("/api/v1/telemetry", json=batch)
                assert r.status_code < 300, r.text
            r = await client.post("/api/v1/models/train", json={"days": 40, "horizon_h": 24})
            assert r.status_code == 202, r.text
            job = r.json()
            for _ in range(240):
                job = (await client.get(f"/api/v1/models/train/{job['id']}")).json()
                if job["state"] in {"done", "failed"}:
                    break
                await asyncio.sleep(0.5)
            assert job["state"] == "done", job
            assert job["version"] == "v0001"
            body = (await client.get("/api/v1/machines/mill-01/prediction")).json()
            assert body["status"] == "ok"
            assert body["model_version"] == "v0001"
            assert 0.0 <= body["probability"] <= 1.0
            assert body["rul"] is not None
            assert body["hours_since_service"] is not None
            card = (await client.get("/api/v1/models/active")).json()
            assert card["shape"] == "history"
            assert card["training_data"]["failures"] == int((events["event"] == "failure").sum())
