"""Several API processes on one store: they see one plant (what one provisions, the others take from the store),
and the connectors run in the one process that has them enabled.

``sync_plant`` is what a process runs when the bus says the plant changed (``api.lifespan.plant_sync_lifespan``);
here two apps share one database (SQLite file, PostgreSQL) and the second one syncs by hand, so the test is about
what is taken, not when (the bus part: tests/integration/twin/test_mqtt_bus.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from factorytwin.api import Services, create_app
from factorytwin.api.lifespan import sync_plant
from factorytwin.auth import Context, PrincipalKind, Role
from factorytwin.config import Settings
from factorytwin.plant.service import Op
from tests.unit.api.test_machine_routes import BOILER, BOILER_01

CTX = Context("tests", PrincipalKind.CLI, "cli")


@asynccontextmanager
async def process(backend_url: str, **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """One API process (an app with its own services) on the shared database, with an engineer's client."""
    app: FastAPI = create_app(Settings(database_url=backend_url, mqtt_url=None, layout_path=None, **settings))
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        secret, _ = await services.auth.create_token(f"erin-{id(app)}", Role.ENGINEER, CTX)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1/", headers=headers) as c:
            yield c, services


def _reading(values: dict[str, float]) -> dict[str, Any]:
    ts = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return {"readings": [{"machine_id": "boiler-01", "ts": ts, "values": values}]}


async def test_a_machine_and_profile_made_in_one_process_are_taken_by_the_other_from_the_store(
    backend_url: str,
) -> None:
    async with process(backend_url) as (a, services_a), process(backend_url) as (b, services_b):
        told: list[tuple[Op, str]] = []
        services_b.plant.add_listener(lambda op, machine_id, machine: told.append((op, machine_id)))
        assert await sync_plant(services_a) == 0  # each process is up to date with what it wrote itself
        assert await sync_plant(services_b) == 0

        assert (await a.post("profiles", json=BOILER)).status_code == 201
        assert (await a.post("machines", json=BOILER_01)).status_code == 201
        refused = await b.post("telemetry", json=_reading({"steam_pressure": 10.0}))
        assert refused.status_code == 422  # B does not know the machine yet

        assert await sync_plant(services_b) == 2  # the profile and the machine
        assert told == [("created", "boiler-01")]
        assert "boiler-01" in {m["id"] for m in (await b.get("layout")).json()["machines"]}
        assert [s["key"] for s in (await b.get("catalogue")).json()["boiler"]] == ["steam_pressure", "flue_temp"]
        taken = await b.post("telemetry", json=_reading({"steam_pressure": 10.0, "flue_temp": 200.0}))
        assert taken.status_code == 200, taken.text
        assert await sync_plant(services_b) == 0  # nothing more to take: the store's records equal B's
        assert await sync_plant(services_a) == 0

        moved = {**BOILER_01, "x": 60.0}
        assert (await a.put("machines/boiler-01", json=moved)).status_code == 200
        assert await sync_plant(services_b) == 1
        assert services_b.machines["boiler-01"].x == 60.0
        layout = (await b.get("layout")).json()
        assert next(m["x"] for m in layout["machines"] if m["id"] == "boiler-01") == 60.0

        assert (await a.delete("machines/boiler-01")).status_code == 204
        assert await sync_plant(services_b) == 1
        assert told[-2:] == [("updated", "boiler-01"), ("deleted", "boiler-01")]
        assert (await b.get("machines/boiler-01")).status_code == 404
        gone = await b.post("telemetry", json=_reading({"steam_pressure": 10.0}))
        assert gone.status_code == 422  # refused by B too, from the sync on


async def test_a_process_with_connectors_off_runs_none_and_says_where_they_are(backend_url: str) -> None:
    async with process(backend_url, connectors_enabled=False) as (client, services):
        assert services.connectors is None
        listed = await client.get("connectors")
        assert listed.status_code == 503
        assert "FT_CONNECTORS_ENABLED=false" in listed.json()["detail"][0]["msg"]
        health = (await client.get("health")).json()["sections"]
        assert health["connectors"] == {"enabled": False}
