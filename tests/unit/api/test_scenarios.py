"""/api/v1/scenarios: plans in, a job out (202), results when done, 422 naming the item, 429 beyond the queue,
engineers write and viewers read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services, create_app
from factorytwin.api.auth import install_auth
from factorytwin.auth import AuthService, Context, PrincipalKind, Role
from factorytwin.config import Settings
from factorytwin.store.auth import auth_store_for
from tests.unit.auth.conftest import cheap_passwords

CLI = Context("t", PrincipalKind.CLI, "cli")
SMALL = {"horizon_h": 6, "runs": 4}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with what-if jobs in-process (no worker processes) and an auth service."""
    application = create_app(settings.model_copy(update={"whatif_workers": 0, "whatif_max_queued": 1}))
    async with application.router.lifespan_context(application):
        services: Services = application.state.services
        install_auth(application, AuthService(auth_store_for(services.store), cheap_passwords()))
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def _bearer(app: FastAPI, role: Role) -> dict[str, str]:
    service: AuthService = app.state.auth
    secret, _ = await service.create_token(f"t-{role}", role, CLI)
    return {"Authorization": f"Bearer {secret}"}


async def _finish(app: FastAPI, job_id: str) -> None:
    task = app.state.services.scenarios.entries[job_id].task
    assert task is not None
    await task


async def test_a_scenario_runs_and_reports_results_against_the_baseline(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    engineer, viewer = await _bearer(app, Role.ENGINEER), await _bearer(app, Role.VIEWER)
    plan = {"name": "press-01 off", "out_of_service": [{"machine_id": "press-01"}]}
    r = await client.post("/api/v1/scenarios", json={"scenarios": [plan], **SMALL}, headers=engineer)
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["state"], job["names"], job["result"]) == ("queued", ["press-01 off"], None)
    await _finish(app, job["id"])
    done = (await client.get(f"/api/v1/scenarios/{job['id']}", headers=viewer)).json()
    assert done["state"] == "done", done["message"]
    assert done["progress"] == 1.0
    result = done["result"]
    press = next(m for m in result["scenarios"][0]["machines"] if m["machine_id"] == "press-01")
    assert press["failures"]["high"] == 0.0
    assert press["running_h"]["high"] == 0.0
    assert result["comparisons"][0]["name"] == "press-01 off"
    assert len(done["fork"]) == 16
    assert {n["wear_source"] for n in done["fork"]} == {"default"}  # nothing ingested: nothing to fit
    listed = (await client.get("/api/v1/scenarios", headers=viewer)).json()
    assert [j["id"] for j in listed] == [job["id"]]
    assert "result" not in listed[0]
    forgotten = await client.delete(f"/api/v1/scenarios/{job['id']}", headers=engineer)
    assert forgotten.status_code == 200
    assert (await client.get(f"/api/v1/scenarios/{job['id']}", headers=viewer)).status_code == 404


async def test_bad_plans_are_422_naming_the_item(app: FastAPI, client: httpx.AsyncClient) -> None:
    engineer = await _bearer(app, Role.ENGINEER)
    bad = {
        "speeds": [{"machine_id": "mill-99", "speed_pct": 80}],
        "visits": [{"action": "add", "machine_id": "mill-01", "at": "2020-01-01T00:00:00Z"}],
    }
    r = await client.post("/api/v1/scenarios", json={"scenarios": [bad], **SMALL}, headers=engineer)
    assert r.status_code == 422
    locs = {".".join(str(p) for p in d["loc"]) for d in r.json()["detail"]}
    assert locs == {"body.scenarios.0.speeds.0.machine_id", "body.scenarios.0.visits.0.at"}
    capped = await client.post("/api/v1/scenarios", json={"scenarios": [{}], "horizon_h": 24 * 365}, headers=engineer)
    assert capped.status_code == 422
    assert capped.json()["detail"][0]["loc"][-1] == "horizon_h"


async def test_beyond_the_queue_is_429_and_a_queued_job_can_be_cancelled(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    engineer = await _bearer(app, Role.ENGINEER)
    body = {"scenarios": [{}], **SMALL}
    first = (await client.post("/api/v1/scenarios", json=body, headers=engineer)).json()
    second = (await client.post("/api/v1/scenarios", json=body, headers=engineer)).json()
    refused = await client.post("/api/v1/scenarios", json=body, headers=engineer)
    assert refused.status_code == 429
    assert refused.headers["retry-after"]
    cancelled = await client.delete(f"/api/v1/scenarios/{second['id']}", headers=engineer)
    assert cancelled.json()["state"] == "cancelled"
    await _finish(app, first["id"])
    await _finish(app, second["id"])
    states = {j["id"]: j["state"] for j in (await client.get("/api/v1/scenarios", headers=engineer)).json()}
    assert states == {first["id"]: "done", second["id"]: "cancelled"}


async def test_viewers_read_engineers_write_and_strangers_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    viewer = await _bearer(app, Role.VIEWER)
    assert (await client.post("/api/v1/scenarios", json={"scenarios": [{}]}, headers=viewer)).status_code == 403
    assert (await client.get("/api/v1/scenarios", headers=viewer)).status_code == 200
    assert (await client.get("/api/v1/scenarios")).status_code == 401
    assert (await client.get("/api/v1/scenarios/0123456789ab", headers=viewer)).status_code == 404
    assert (await client.delete("/api/v1/scenarios/0123456789ab", headers=viewer)).status_code == 403


async def test_every_stream_client_is_told_the_job_s_progress(app: FastAPI, client: httpx.AsyncClient) -> None:
    services: Services = app.state.services
    assert services.twin is not None
    stream = services.twin.hub.connect(["mill-01"])  # follows one machine: still told of every job
    engineer = await _bearer(app, Role.ENGINEER)
    job = (await client.post("/api/v1/scenarios", json={"scenarios": [{}], **SMALL}, headers=engineer)).json()
    await _finish(app, job["id"])
    told = []
    while (text := await stream.get()) is not None:
        message = json.loads(text)
        if message["type"] == "scenario":
            told.append(message)
            if message["state"] in {"done", "failed", "cancelled"}:
                break
    assert {m["job_id"] for m in told} == {job["id"]}
    assert [told[0]["state"], told[-1]["state"]] == ["queued", "done"]
    assert "running" in {m["state"] for m in told}
    assert told[-1]["progress"] == 1.0
