"""GET /exports/work-orders over SQLite and PostgreSQL (the real app): the CMMS columns, the filters, CSV, Parquet
and JSON, 422 naming the field, and who may read it."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from factorytwin.api import Services, create_app
from factorytwin.auth import Context, PrincipalKind, Role
from factorytwin.config import Settings
from factorytwin.export.tables import WORK_ORDER_COLUMNS

pytestmark = pytest.mark.integration
CLI = Context("tests", PrincipalKind.CLI, "cli")
EXPORT = "/exports/work-orders"
PLANNED = "2026-03-02T14:00:00Z"


@pytest.fixture
async def app(backend_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=backend_url, mqtt_url=None, layout_path=None))
    async with application.router.lifespan_context(application):
        yield application


async def _client(app: FastAPI, role: Role | None) -> httpx.AsyncClient:
    headers: dict[str, str] = {}
    if role is not None:
        services: Services = app.state.services
        secret, _ = await services.auth.create_token(f"wo-{role}", role, CLI)
        headers["Authorization"] = f"Bearer {secret}"
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test/api/v1", headers=headers, timeout=60)


@pytest.fixture
async def orders(app: FastAPI) -> dict[str, int]:
    """Three work orders, opened by an operator: one done on mill-01 (assigned, started, with parts, downtime and a
    note), one from a schedule visit on lathe-01, one cancelled on mill-02 (in that order)."""
    async with await _client(app, Role.OPERATOR) as op:
        done = (await op.post("/work-orders", json={"machine_id": "mill-01", "title": "Spindle bearing"})).json()
        moves: list[dict[str, object]] = [
            {"state": "assigned", "assignee": "bo"},
            {"state": "in_progress", "note": 'noisy, "grinding", at 1500 rpm'},
            {
                "state": "done",
                "note": "bearing 6204 replaced",
                "parts": ["bearing 6204", "grease"],
                "downtime_start": "2026-03-02T10:00:00Z",
                "downtime_end": "2026-03-02T11:30:00Z",
            },
        ]
        for move in moves:
            r = await op.post(f"/work-orders/{done['id']}/transition", json=move)
            assert r.status_code == 200, r.text
        body = {"machine_id": "lathe-01", "title": "Visit (schedule)", "source": "schedule", "planned_for": PLANNED}
        r = await op.post("/work-orders", json=body)
        assert r.status_code == 201, r.text
        visit = r.json()
        cancelled = (await op.post("/work-orders", json={"machine_id": "mill-02", "title": "Guard"})).json()
        r = await op.post(f"/work-orders/{cancelled['id']}/transition", json={"state": "cancelled"})
        assert r.status_code == 200, r.text
    return {"done": done["id"], "visit": visit["id"], "cancelled": cancelled["id"]}


async def test_the_csv_has_the_cmms_columns_of_every_order_newest_first(app: FastAPI, orders: dict[str, int]) -> None:
    async with await _client(app, Role.VIEWER) as viewer:
        r = await viewer.get(EXPORT)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="work-orders.csv"' in r.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(r.text))
    assert reader.fieldnames == [c.name for c in WORK_ORDER_COLUMNS]
    rows = list(reader)
    assert [int(row["id"]) for row in rows] == [orders["cancelled"], orders["visit"], orders["done"]]
    done = rows[2]
    assert (done["machine_id"], done["machine_name"], done["line"]) == ("mill-01", "CNC Mill 1", "line-a")
    assert (done["state"], done["source"], done["assignee"], done["alarm_id"]) == ("done", "manual", "bo", "")
    assert done["parts"] == "bearing 6204; grease"
    assert (done["notes"], done["last_note"]) == ("2", "bearing 6204 replaced")
    assert (done["downtime_start"], done["downtime_end"]) == ("2026-03-02T10:00:00Z", "2026-03-02T11:30:00Z")
    assert float(done["downtime_s"]) == 5400
    assert done["created_at"] <= done["assigned_at"] <= done["started_at"] <= done["finished_at"]
    assert done["finished_at"].endswith("Z")
    assert done["created_by"] == "wo-operator"
    visit = rows[1]
    assert (visit["source"], visit["planned_for"], visit["state"]) == ("schedule", PLANNED, "open")
    assert (visit["started_at"], visit["finished_at"], visit["parts"], visit["notes"]) == ("", "", "", "0")
    assert rows[0]["state"] == "cancelled"
    assert rows[0]["started_at"] == ""
    assert rows[0]["finished_at"] != ""  # cancelled: finished, never started


async def test_the_filters_parquet_and_json(app: FastAPI, orders: dict[str, int]) -> None:
    async with await _client(app, Role.VIEWER) as viewer:
        r = await viewer.get(EXPORT, params={"machine_id": "mill-01", "format": "parquet"})
        table = pq.read_table(io.BytesIO(r.content))
        assert table.column("id").to_pylist() == [orders["done"]]
        assert table.schema.field("finished_at").type.tz == "UTC"
        assert table.column("downtime_s").to_pylist() == [5400.0]
        r = await viewer.get(EXPORT, params=[("state", "open"), ("state", "cancelled"), ("format", "json")])
        assert r.headers["content-type"].startswith("application/json")
        listed = r.json()
        assert [o["id"] for o in listed] == [orders["cancelled"], orders["visit"]]
        assert listed[1]["planned_for"] == PLANNED
        assert listed[1]["alarm_id"] is None
        now = datetime.now(UTC)
        past = {"from": (now - timedelta(days=2)).isoformat(), "to": (now - timedelta(days=1)).isoformat()}
        r = await viewer.get(EXPORT, params=past)
        assert r.text.splitlines()[1:] == []
        r = await viewer.get(EXPORT, params={"from": (now - timedelta(hours=1)).isoformat(), "format": "json"})
        assert len(r.json()) == 3


async def test_bad_input_is_422_naming_the_field(app: FastAPI) -> None:
    async with await _client(app, Role.VIEWER) as viewer:
        for params, field in (
            ({"machine_id": "nope-9"}, "machine_id"),
            ({"state": "flying"}, "state"),
            ({"from": "2026-03-02T12:00:00Z", "to": "2026-03-02T11:00:00Z"}, "from"),
            ({"from": "0.5"}, "from"),
            ({"format": "xlsx"}, "format"),
        ):
            r = await viewer.get(EXPORT, params=params)
            assert r.status_code == 422, (params, r.text)
            assert any(field in problem["loc"] for problem in r.json()["detail"]), (params, r.text)


async def test_it_needs_a_credential(app: FastAPI) -> None:
    async with await _client(app, None) as anonymous:
        assert (await anonymous.get(EXPORT)).status_code == 401
