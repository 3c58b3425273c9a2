"""GET /kpis, /events and /exports/*: the guard, and bad input answered 422 naming the field (SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api.auth import route_guards
from tests.unit.api.viewer import viewer_headers

ROUTES = ["/kpis", "/events", "/exports/history", "/exports/alarms", "/exports/events", "/exports/kpis"]


@pytest.fixture
async def viewer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app holding a viewer token."""
    headers = await viewer_headers(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1", headers=headers) as c:
        yield c


def test_every_kpi_and_export_route_is_guarded_for_viewers(app: FastAPI) -> None:
    guards = route_guards(app)
    for route in ROUTES:
        assert guards[f"GET /api/v1{route}"] == "viewer"


async def test_without_a_credential_the_routes_answer_401(app: FastAPI, viewer: httpx.AsyncClient) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as anonymous:
        for route in ROUTES:
            assert (await anonymous.get(route)).status_code == 401, route


@pytest.mark.parametrize(
    ("route", "params", "loc"),
    [
        ("/kpis", {"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T09:00:00Z"}, ["query", "from"]),
        ("/kpis", {"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T10:00:00Z"}, ["query", "from"]),
        ("/kpis", {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "group": "hour"}, ["query", "group"]),
        ("/kpis", {"scope": "machine", "id": "no-such-mill"}, ["query", "id"]),
        ("/kpis", {"scope": "line", "id": "line-z"}, ["query", "id"]),
        ("/kpis", {"scope": "line"}, ["query", "id"]),
        ("/kpis", {"scope": "shop"}, ["query", "scope"]),
        ("/kpis", {"group": "week"}, ["query", "group"]),
        ("/kpis", {"from": "0.5"}, ["query", "from"]),
        ("/events", {"machine_id": "no-such-mill"}, ["query", "machine_id"]),
        ("/events", {"cursor": "yesterday"}, ["query", "cursor"]),
        ("/events", {"cursor": "1.99999999999999999999"}, ["query", "cursor"]),
        ("/events", {"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T09:00:00Z"}, ["query", "from"]),
        ("/events", {"kind": "gossip"}, ["query", "kind", 0]),
        ("/exports/history", {"machine_id": "no-such-mill"}, ["query", "machine_id"]),
        ("/exports/history", {"machine_id": "pump-01", "sensor": "torque"}, ["query", "sensor"]),
        ("/exports/history", {"points": "0"}, ["query", "points"]),
        ("/exports/alarms", {"format": "xlsx"}, ["query", "format"]),
        ("/exports/events", {"machine_id": "nope"}, ["query", "machine_id"]),
        ("/exports/kpis", {"scope": "machine", "id": "nope"}, ["query", "id"]),
        ("/exports/kpis", {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, ["query", "group"]),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    viewer: httpx.AsyncClient, route: str, params: dict[str, str], loc: list[str | int]
) -> None:
    r = await viewer.get(route, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


async def test_an_empty_store_has_kpis_of_unknown_status_not_invented_ones(viewer: httpx.AsyncClient) -> None:
    r = await viewer.get("/kpis", params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"})
    assert r.status_code == 200
    total = r.json()["total"]
    assert total["unknown_s"] == 16 * 86_400
    assert total["planned_s"] == 0
    assert total["availability"] is None
    assert total["oee"] is None
    assert total["mtbf_s"] is None
    assert [c["id"] for c in r.json()["children"]] == ["line-a", "line-b", "line-c"]
