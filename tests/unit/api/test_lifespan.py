"""The KPI warm-up of the start-up hooks: it fills the store's day tallies, reports in ``/health``, and a failing
store is logged, never raised."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services, lifespan
from factorytwin.api.lifespan import KpiWarmState, warm_kpis
from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.errors import StoreUnavailable
from factorytwin.kpi import KpiQuery, KpiReport
from factorytwin.kpi.cache import cache_of
from factorytwin.kpi.service import LOOKBACK_EVENTS, KpiService


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


async def test_the_warm_up_goes_a_few_machines_at_a_time_and_lets_the_loop_run_between(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifespan, "KPI_WARM_MACHINES_PER_STEP", 2)
    seen: list[object] = []
    real = KpiService.report

    async def report(self: KpiService, query: KpiQuery) -> KpiReport:
        seen.append(sorted(self.machines))
        return await real(self, query)

    monkeypatch.setattr(KpiService, "report", report)

    async def the_rest_of_the_server() -> None:
        while True:
            seen.append("loop")
            await asyncio.sleep(0)

    other = asyncio.create_task(the_rest_of_the_server())
    state = fresh()
    await warm_kpis(services, state, idle_factor=0.0)
    other.cancel()
    steps = [(i, s) for i, s in enumerate(seen) if isinstance(s, list)]
    assert all(len(s) <= 2 for _, s in steps)
    assert sorted(m for _, s in steps for m in s) == sorted(services.machines)
    assert len(steps) > 1
    for (a, _), (b, _) in itertools.pairwise(steps):
        assert "loop" in seen[a + 1 : b]  # the rest of the server ran between two steps
    assert state["warmed"] is True
