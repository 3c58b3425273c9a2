"""Retraining jobs: one at a time (a second request is refused while one runs), in a worker process, a bounded
history read and a bounded job list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import create_app
from factorytwin.config import Settings
from factorytwin.domain import Machine
from factorytwin.layout import load_layout
from factorytwin.ml.jobs import TrainingBusy, TrainingJobs, bounded_history
from factorytwin.ml.schema import TrainJob, TrainRequest
from factorytwin.store import open_store
from factorytwin.store.base import ReadingColumns, Store
from tests.credentials import bearer

END = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def machines() -> list[Machine]:
    return list(load_layout(None).machines)


@pytest.fixture
async def store(sqlite_url: str, machines: list[Machine]) -> AsyncIterator[Store]:
    s = open_store(sqlite_url)
    await s.open()
    await s.register_machines(machines)
    try:
        yield s
    finally:
        await s.close()


def _minutely(machine_id: str, hours: int) -> ReadingColumns:
    """Two sensors of one machine, one value each per minute, for ``hours`` up to END."""
    cols = ReadingColumns()
    start = END - timedelta(hours=hours)
    for i in range(hours * 60):
        ts = int((start + timedelta(minutes=i)).timestamp() * 1000)
        for sensor in ("torque", "tool_wear"):
            cols.machine_ids.append(machine_id)
            cols.sensors.append(sensor)
            cols.ts_ms.append(ts)
            cols.values.append(float(i))
    return cols


async def test_the_history_read_is_capped_newest_first(store: Store, machines: list[Machine]) -> None:
    mill = next(m for m in machines if m.id == "mill-01")
    await store.write_batch(_minutely("mill-01", 48))  # 5760 values
    readings, _, info = await bounded_history(store, [mill], days=30, max_rows=2000)
    # Read backwards in 6 h chunks (720 values each) until the cap: 3 chunks = 2160 values, the newest 18 hours.
    assert info["values_read"] == 2160
    assert info["capped_machines"] == ["mill-01"]
    assert len(readings) == 1080
    newest = int((END - timedelta(minutes=1)).timestamp() * 1000)
    assert int(readings["ts"].max()) == newest
    assert int(readings["ts"].min()) == newest - (1080 - 1) * 60_000

    whole, _, info = await bounded_history(store, [mill], days=30, max_rows=1_000_000)
    assert len(whole) == 48 * 60
    assert "capped_machines" not in info


async def _finished(jobs: TrainingJobs, job_id: str) -> TrainJob:
    for _ in range(600):  # at most 60 s: a spawned interpreter imports pandas and the store
        job = jobs.get(job_id)
        assert job is not None
        if job.state in {"done", "failed"}:
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


async def test_one_job_at_a_time_in_a_worker_process(sqlite_url: str, store: Store, tmp_path: Path) -> None:
    jobs = TrainingJobs(sqlite_url, tmp_path / "models", [], max_rows=10_000)
    first = jobs.start(TrainRequest())
    with pytest.raises(TrainingBusy, match=first.id) as busy:
        jobs.start(TrainRequest())
    assert busy.value.job_id == first.id
    assert jobs.unfinished() == 1
    done = await _finished(jobs, first.id)
    # No machines given: the worker process opened the store, found nothing to learn from and said so.
    assert done.state == "failed"
    assert "no readings" in done.message
    assert done.finished_at is not None
    assert jobs.unfinished() == 0
    again = jobs.start(TrainRequest())  # free again once the first ended
    await _finished(jobs, again.id)
    jobs.close()


def test_the_job_list_keeps_the_newest_finished_jobs(tmp_path: Path) -> None:
    jobs = TrainingJobs("sqlite:///unused.db", tmp_path, [], max_rows=1000, keep=3)
    now = datetime.now(UTC)
    for i in range(10):
        jobs.jobs[f"j{i}"] = TrainJob(id=f"j{i}", state="done", started_at=now, finished_at=now)
    jobs.jobs["running"] = TrainJob(id="running", state="running", started_at=now)
    jobs._forget_old()
    assert list(jobs.jobs) == ["j7", "j8", "j9", "running"]


async def test_the_api_answers_409_while_a_job_runs(settings: Settings, tmp_path: Path) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"model_dir": tmp_path / "models"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await bearer(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
            answers = await asyncio.gather(*(client.post("/api/v1/models/train", json={}) for _ in range(10)))
            codes = sorted(r.status_code for r in answers)
            assert codes == [202] + [409] * 9
            refused = next(r for r in answers if r.status_code == 409).json()
            accepted = next(r for r in answers if r.status_code == 202).json()
            assert refused["job_id"] == accepted["id"]
            assert "already running" in refused["detail"][0]["msg"]
            health = (await client.get("/api/v1/health")).json()
            assert health["sections"]["ml"]["training_jobs"] == 1
            assert isinstance(health["sections"]["ml"]["ready"], bool)  # the numeric stack warmed up yet or not


async def test_activate_must_be_a_json_boolean(settings: Settings, tmp_path: Path) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"model_dir": tmp_path / "models"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await bearer(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
            r = await client.post("/api/v1/models/train", json={"activate": 0})
            assert r.status_code == 422
            assert "activate" in r.text
