"""GET /kpis, /events and /exports/* over SQLite and PostgreSQL (the real service), on the default factory."""

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
from factorytwin.config import Settings
from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind
from factorytwin.store.base import ReadingColumns
from tests.unit.api.viewer import viewer_headers
from tests.unit.kpi.events import at, fault, parts, running

pytestmark = pytest.mark.integration
RANGE = {"from": at("10:00").isoformat(), "to": at("18:00").isoformat()}
MANY = 2500  # production reports of press-01 over the range: more than two pages of the store's list limit


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    return url


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    """The started app on the backend, with a shift of events, 2 h of readings and two alarms stored."""
    application = create_app(Settings(database_url=database_url, mqtt_url=None, layout_path=None))
    async with application.router.lifespan_context(application):
        services: Services = application.state.services
        store = services.store
        step = (at("18:00") - at("10:00")) / MANY
        await store.write_events(
            [
                running("06:00", "mill-01"),
                fault("12:00", "bearing", "mill-01"),
                running("14:00", "mill-01"),
                parts("18:00", 240, 12, machine="mill-01"),
                running("10:00", "mill-02"),
                parts("18:00", 480, 0, machine="mill-02"),
                *(
                    Event(
                        machine_id="press-01",
                        ts=at("10:00") + step * (i + 1),
                        kind=EventKind.PRODUCTION,
                        data={"parts_total": 2, "parts_bad": 0},
                    )
                    for i in range(MANY)
                ),
            ]
        )
        ts = [int((at("10:00") + timedelta(seconds=s)).timestamp() * 1000) for s in range(7200)]
        await store.write_batch(
            ReadingColumns(["mill-01"] * 7200, ["vibration"] * 7200, ts, [1.0 + (s % 60) / 100 for s in range(7200)])
        )
        for hhmm in ("11:00", "12:01"):
            await store.save_alarm(
                Alarm(
                    machine_id="mill-01",
                    type="high:vibration",
                    severity=AlarmSeverity.MAJOR,
                    state=AlarmState.ACTIVE_UNACK,
                    message="vibration high",
                    raised_at=at(hhmm),
                    updated_at=at(hhmm),
                )
            )
        yield application


@pytest.fixture
async def viewer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A viewer's client of the app."""
    headers = await viewer_headers(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1", headers=headers, timeout=60) as c:
        yield c


async def test_kpis_of_a_machine_a_line_and_the_plant(viewer: httpx.AsyncClient) -> None:
    r = await viewer.get("/kpis", params={**RANGE, "scope": "machine", "id": "mill-01", "group": "hour"})
    assert r.status_code == 200, r.text
    mill = r.json()
    total = mill["total"]
    assert total["planned_s"] == 28_800
    assert total["run_s"] == 21_600
    assert total["availability"] == pytest.approx(0.75)
    assert total["performance"] == pytest.approx(60 * 240 / 21_600)
    assert total["quality"] == pytest.approx(228 / 240)
    assert total["oee"] == pytest.approx(60 * 228 / 28_800)
    assert total["failures"] == 1
    assert total["alarms"] == 2
    assert total["mtbf_s"] == 21_600
    assert total["mttr_s"] == 7_200
    assert total["downtime"] == [{"cause": "failure:bearing", "category": "failure", "seconds": 7200.0, "stops": 1}]
    assert len(mill["buckets"]) == 8
    assert [b["availability"] for b in mill["buckets"]][1:5] == [1.0, 0.0, 0.0, 1.0]
    line = (await viewer.get("/kpis", params={**RANGE, "scope": "line", "id": "line-a"})).json()
    assert [c["id"] for c in line["children"]][:2] == ["conveyor-a", "lathe-01"]
    assert line["total"]["parts_total"] == 720
    plant = (await viewer.get("/kpis", params={**RANGE, "group": "shift"})).json()
    assert [b["start"][11:16] for b in plant["buckets"]] == ["10:00", "14:00"]
    assert plant["total"]["parts_total"] == 720 + 2 * MANY
    assert plant["total"]["failures"] == 1


async def test_the_event_log_pages_with_its_cursor_through_every_event(viewer: httpx.AsyncClient) -> None:
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "1000", "from": at("00:00").isoformat(), **({"cursor": cursor} if cursor else {})}
        page = (await viewer.get("/events", params=params)).json()
        seen += [e["id"] for e in page["events"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == MANY + 6
    assert pages == 3
    faults = (await viewer.get("/events", params={"kind": "fault", "machine_id": "mill-02"})).json()
    assert faults["events"] == []
    faults = (await viewer.get("/events", params={"kind": "fault", "from": at("00:00").isoformat()})).json()
    assert [e["data"]["mode"] for e in faults["events"]] == ["bearing"]
    assert faults["next_cursor"] is None


async def test_history_exports_raw_and_bucketed_as_csv_and_parquet(viewer: httpx.AsyncClient) -> None:
    r = await viewer.get("/exports/history", params={**RANGE, "machine_id": "mill-01"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="history.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 7200
    assert rows[0] == {"machine_id": "mill-01", "ts": "2026-03-02T10:00:00Z", "sensor": "vibration", "value": "1.0"}
    assert [row["ts"] for row in rows] == sorted(row["ts"] for row in rows)
    r = await viewer.get("/exports/history", params={**RANGE, "machine_id": "mill-01", "format": "parquet"})
    table = pq.read_table(io.BytesIO(r.content))
    assert table.num_rows == 7200
    assert table.column("value").to_pylist()[:2] == [1.0, 1.01]
    assert table.schema.field("ts").type.tz == "UTC"
    r = await viewer.get(
        "/exports/history", params={**RANGE, "machine_id": "mill-01", "sensor": "vibration", "points": "8"}
    )
    buckets = list(csv.DictReader(io.StringIO(r.text)))
    assert [b["count"] for b in buckets] == ["3600", "3600"]  # 10:00-11:00 and 11:00-12:00; empty ones left out
    assert float(buckets[0]["max"]) == pytest.approx(1.59)


async def test_events_alarms_and_kpis_export(viewer: httpx.AsyncClient) -> None:
    r = await viewer.get("/exports/events", params={**RANGE, "format": "parquet"})
    table = pq.read_table(io.BytesIO(r.content))
    assert table.num_rows == MANY - 1 + 3  # [10:00, 18:00): not the events at 06:00 or at 18:00
    assert set(table.column("kind").to_pylist()) == {"production", "fault", "status"}
    r = await viewer.get("/exports/alarms", params={**RANGE})
    alarms = list(csv.DictReader(io.StringIO(r.text)))
    assert [a["raised_at"] for a in alarms] == ["2026-03-02T12:01:00Z", "2026-03-02T11:00:00Z"]
    assert alarms[0]["acked_at"] == ""
    r = await viewer.get("/exports/kpis", params={**RANGE, "scope": "line", "id": "line-a", "group": "hour"})
    kpis = list(csv.DictReader(io.StringIO(r.text)))
    assert [k["scope"] for k in kpis] == ["line"] * 8 + ["machine"] * 8
    mill = next(k for k in kpis if k["id"] == "mill-01")
    assert float(mill["mtbf_s"]) == 21_600
    assert mill["downtime"] == '{"failure:bearing":7200.0}'
    r = await viewer.get("/exports/kpis", params={**RANGE, "format": "parquet", "group": "none"})
    assert pq.read_table(io.BytesIO(r.content)).column("scope").to_pylist() == ["plant", "line", "line", "line"]


def test_the_range_is_in_the_past() -> None:
    assert at("18:00") < datetime.now(UTC)
