"""The KPI warm-up of the start-up hooks: it fills the store's day tallies, reports in ``/health``, and a failing
store is logged, never raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services
from factorytwin.api.lifespan import KpiWarmState, warm_kpis
from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.errors import StoreUnavailable
from factorytwin.kpi.cache import cache_of
from factorytwin.kpi.service import LOOKBACK_EVENTS


def fresh() -> KpiWarmState:
    return {"warm_days": 366, "warmed": False, "seconds": None, "error": None}


async def test_the_warm_up_keeps_the_days_of_every_machine(services: Services) -> None:
    now = datetime.now(UTC)
    events = [
        Event(machine_id=m, ts=now - timedelta(days=5), kind=EventKind.STATUS, status=MachineStatus.RUNNING, data={})
        for m in services.machines
    ]
    await services.store.write_events(events)
    state = fresh()
    await warm_kpis(services, state)
    assert state["warmed"] is True
    assert state["error"] is None
    chains = cache_of(services.store, LOOKBACK_EVENTS).chains
    assert set(chains) == set(services.machines)
    assert all(c.end_ms - c.first_ms >= 5 * 86_400_000 for c in chains.values())


async def test_a_failing_store_is_reported_not_raised(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    async def down(*_: object) -> object:
        raise StoreUnavailable("the database is down")

    monkeypatch.setattr(services.store, "kpi_rows", down)
    state = fresh()
    await warm_kpis(services, state)
    assert state["warmed"] is False
    assert state["error"] == "StoreUnavailable: the database is down"


async def test_health_has_the_warm_up_section(app: FastAPI, client: httpx.AsyncClient) -> None:
    section = (await client.get("/api/v1/health")).json()["sections"]["kpi"]
    assert section["warm_days"] == 366
    assert set(section) == {"warm_days", "warmed", "seconds", "error"}
