"""GET routes: health, catalogue, layout, machines, history, events; OpenAPI; error shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from factorytwin.api import Services, create_app
from factorytwin.auth import Role
from factorytwin.config import Settings
from factorytwin.domain import CATALOGUE, MachineKind
from tests.credentials import bearer

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


async def post_series(client: httpx.AsyncClient, machine: str = "mill-01", n: int = 60, start: datetime = T0) -> None:
    """``n`` readings of torque, one per minute from ``start``, valued 0..n-1."""
    readings = [
        {"machine_id": machine, "ts": (start + timedelta(minutes=i)).isoformat(), "values": {"torque": float(i)}}
        for i in range(n)
    ]
    assert (await client.post("/api/v1/telemetry", json={"readings": readings})).status_code == 200


async def test_health_reports_backend_store_sizes_and_ingest_counters(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.health_sections["extra"] = lambda: {"answer": 42}
    await post_series(client, n=3)
    health = (await client.get("/api/v1/health")).json()
    assert health["status"] == "ok"
    assert health["backend"] == "sqlite"
    assert health["machines"] == 16
    assert health["store"]["readings"] == 3
    assert health["ingest"]["accepted_batches"] == 1
    assert health["ingest"]["queue_depth"] == 0
    assert health["sections"]["extra"] == {"answer": 42}


async def test_catalogue_lists_every_kind_with_units_and_ranges(client: httpx.AsyncClient) -> None:
    catalogue = (await client.get("/api/v1/catalogue")).json()
    assert set(catalogue) == {k.value for k in MachineKind}
    torque = next(s for s in catalogue["cnc_mill"] if s["key"] == "torque")
    assert torque["unit"] == "Nm"
    assert (torque["low"], torque["high"]) == (0.0, 200.0)
    assert len(catalogue["pump"]) == len(CATALOGUE[MachineKind.PUMP])


async def test_the_plant_says_its_time_zone_clock_and_currency(settings: Settings) -> None:
    plant = settings.model_copy(update={"plant_timezone": "Europe/Berlin", "time_scale": 60.0, "currency": "CHF"})
    app = create_app(plant)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            headers = await bearer(app, Role.VIEWER)
            answer = (await c.get("/api/v1/plant", headers=headers)).json()
    assert answer == {"name": "Demo Works", "timezone": "Europe/Berlin", "time_scale": 60.0, "currency": "CHF"}


def test_a_time_zone_or_currency_that_is_not_one_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Settings(plant_timezone="Europe/Atlantis")
    with pytest.raises(ValidationError, match="currency"):
        Settings(currency="euro")


async def test_layout_is_the_factory(client: httpx.AsyncClient) -> None:
    layout = (await client.get("/api/v1/layout")).json()
    assert layout["name"] == "Demo Works"
    assert len(layout["machines"]) == 16


async def test_machines_lists_every_machine_and_detail_has_latest_values(client: httpx.AsyncClient) -> None:
    machines = (await client.get("/api/v1/machines")).json()
    assert len(machines) == 16
    assert {"id", "profile", "x", "y", "bands", "state"} <= set(machines[0])
    await post_series(client, n=5)
    detail = (await client.get("/api/v1/machines/mill-01")).json()
    assert detail["profile"] == "cnc_mill"
    assert detail["latest"]["torque"]["value"] == 4.0


async def test_an_unknown_machine_is_404_on_every_machine_route(client: httpx.AsyncClient) -> None:
    for path in ["", "/history?sensor=torque", "/events"]:
        r = await client.get(f"/api/v1/machines/mill-77{path}")
        assert r.status_code == 404, path
        assert "mill-77" in r.json()["detail"][0]["msg"]


async def test_history_gives_buckets_of_min_max_avg_count(client: httpx.AsyncClient) -> None:
    await post_series(client, n=60)
    params: dict[str, str | int] = {
        "sensor": "torque",
        "from": T0.isoformat(),
        "to": (T0 + timedelta(hours=1)).isoformat(),
        "points": 6,
        "bucketing": "exact",
    }
    history = (await client.get("/api/v1/machines/mill-01/history", params=params)).json()
    assert history["unit"] == "Nm"
    assert history["bucketing"] == "exact"
    assert history["bucket_ms"] == 600_000
    assert [(b["min"], b["max"], b["avg"], b["count"]) for b in history["buckets"]] == [
        (10.0 * i, 10.0 * i + 9, 10.0 * i + 4.5, 10) for i in range(6)
    ]
    assert history["buckets"][1]["ts"].startswith((T0 + timedelta(minutes=10)).isoformat()[:19])


async def test_history_buckets_are_aligned_by_default_and_say_their_width(client: httpx.AsyncClient) -> None:
    start = datetime(2026, 3, 1, 12, 7, 30, tzinfo=UTC)
    await post_series(client, n=60, start=start)  # torque i at 12:07:30 + i min
    params = {"sensor": "torque", "from": start.isoformat(), "to": (start + timedelta(hours=1)).isoformat()}
    history = (await client.get("/api/v1/machines/mill-01/history", params={**params, "points": 6})).json()
    assert history["bucketing"] == "aligned"
    assert history["points"] == 6
    assert history["bucket_ms"] == 15 * 60_000  # 10 min could give 7 buckets: one partial at each end
    assert [b["ts"][11:19] for b in history["buckets"]] == ["12:00:00", "12:15:00", "12:30:00", "12:45:00", "13:00:00"]
    assert [b["count"] for b in history["buckets"]] == [8, 15, 15, 15, 7]  # 12:07:30 .. 12:14:30, ...
    assert history["buckets"][0]["min"] == 0.0
    assert history["buckets"][-1]["max"] == 59.0
    one = (await client.get("/api/v1/machines/mill-01/history", params={**params, "points": 1})).json()
    assert (one["bucketing"], one["bucket_ms"], one["buckets"][0]["count"]) == ("exact", 3_600_000, 60)


async def test_history_defaults_to_the_last_hour(client: httpx.AsyncClient) -> None:
    # From now, not from T0 (taken when the module was imported, maybe minutes ago in a long run): the newest
    # reading is 30 s old, so the oldest leaves the default window only if the request comes 30 s later.
    await post_series(client, n=60, start=datetime.now(UTC) - timedelta(minutes=59, seconds=30))
    history = (await client.get("/api/v1/machines/mill-01/history", params={"sensor": "torque"})).json()
    assert history["points"] == 500
    assert sum(b["count"] for b in history["buckets"]) >= 59


async def test_history_refuses_a_sensor_of_another_kind_and_bad_ranges(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/machines/mill-01/history", params={"sensor": "flow_rate"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "sensor"]
    assert "torque" in r.json()["detail"][0]["msg"]  # it lists the sensors there are
    backwards = {"sensor": "torque", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    r = await client.get("/api/v1/machines/mill-01/history", params=backwards)
    assert r.status_code == 422
    assert "after" in r.json()["detail"][0]["msg"]
    for points in ("0", "5001", "many"):
        r = await client.get("/api/v1/machines/mill-01/history", params={"sensor": "torque", "points": points})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["query", "points"]
    r = await client.get("/api/v1/machines/mill-01/history", params={"sensor": "torque", "bucketing": "nice"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "bucketing"]
    assert "aligned" in r.json()["detail"][0]["msg"]
    r = await client.get("/api/v1/machines/mill-01/history", params={"sensor": "torque", "from": "soon"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "from"]


async def test_events_are_newest_first_and_filter_by_kind(client: httpx.AsyncClient) -> None:
    events = [
        {"machine_id": "press-01", "ts": (T0 + timedelta(minutes=i)).isoformat(), "kind": kind, "message": str(i)}
        for i, kind in enumerate(["status", "fault", "maintenance", "note"])
    ]
    assert (await client.post("/api/v1/telemetry", json={"events": events})).status_code == 200
    got = (await client.get("/api/v1/machines/press-01/events")).json()
    assert [e["message"] for e in got] == ["3", "2", "1", "0"]
    faults = (await client.get("/api/v1/machines/press-01/events", params={"kind": ["fault", "note"]})).json()
    assert [e["kind"] for e in faults] == ["note", "fault"]
    assert len((await client.get("/api/v1/machines/press-01/events", params={"limit": 1})).json()) == 1
    assert (await client.get("/api/v1/machines/press-01/events", params={"limit": 0})).status_code == 422


async def test_openapi_documents_the_telemetry_body(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    body = doc["paths"]["/api/v1/telemetry"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    refs = {item["$ref"].rsplit("/", 1)[-1] for item in body["anyOf"]}
    assert refs == {"ReadingSet", "TelemetryBatch"}
    assert refs <= set(doc["components"]["schemas"])
    assert (await client.get("/docs")).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/telemetry", "/api/v1/machines/mill-01/commands"])
async def test_a_body_that_is_not_utf8_json_is_a_422_naming_the_body(client: httpx.AsyncClient, path: str) -> None:
    r = await client.post(path, content=b"\x02c\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body"]
