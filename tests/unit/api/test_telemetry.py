"""POST /api/v1/telemetry: single reading sets and batches, idempotence, and every kind of bad input."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Scope

from factorytwin.api import Services
from factorytwin.auth import Role
from factorytwin.domain import (
    MAX_EVENT_DATA_BYTES,
    MAX_EVENT_MESSAGE_CHARS,
    Alarm,
    AlarmSeverity,
    AlarmState,
    Event,
    EventKind,
)
from factorytwin.errors import Overloaded, StoreRejected, StoreUnavailable
from factorytwin.store import ReadingColumns
from factorytwin.store.sqlite import SQLiteStore
from tests.credentials import bearer

URL = "/api/v1/telemetry"
NOW = datetime.now(UTC).replace(microsecond=0)
TS = NOW.isoformat()


def rs(machine: str = "mill-01", ts: str = TS, **values: Any) -> dict[str, Any]:
    return {"machine_id": machine, "ts": ts, "values": values or {"torque": 40.0, "power": 6.0}}


def ev(**fields: Any) -> dict[str, Any]:
    return {"machine_id": "mill-01", "ts": TS, "kind": "note", **fields}


async def stored(services: Services) -> int:
    return (await services.store.stats()).readings


async def test_a_single_reading_set_is_stored(client: httpx.AsyncClient, services: Services) -> None:
    r = await client.post(URL, json=rs())
    assert r.status_code == 200
    assert r.json() == {"readings": 2, "new_readings": 2, "events": 0}
    assert await stored(services) == 2


async def test_a_batch_of_readings_and_events_is_stored(client: httpx.AsyncClient, services: Services) -> None:
    body = {
        "readings": [rs(), rs("pump-01", flow_rate=90.5, vibration=1.2)],
        "events": [{"machine_id": "pump-01", "ts": TS, "kind": "status", "status": "running"}],
    }
    r = await client.post(URL, json=body)
    assert r.status_code == 200
    assert r.json() == {"readings": 4, "new_readings": 4, "events": 1}
    events = (await client.get("/api/v1/machines/pump-01/events")).json()
    assert [e["status"] for e in events] == ["running"]


async def test_a_resent_batch_is_accepted_and_stores_nothing_twice(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = {"readings": [rs(), rs(ts=(NOW - timedelta(seconds=1)).isoformat())]}
    assert (await client.post(URL, json=body)).json()["new_readings"] == 4
    again = await client.post(URL, json=body)
    assert again.status_code == 200
    assert again.json()["new_readings"] == 0
    assert await stored(services) == 4


def _raw(text: str) -> bytes:
    return text.encode()


BAD_INPUTS: list[tuple[str, Any, list[Any], str]] = [
    # (case, body, expected loc of the first problem, words of its message)
    ("malformed JSON", _raw('{"readings": [ {"machine_id": '), ["body"], "Invalid JSON"),
    ("not an object", _raw("[1, 2]"), ["body"], "object"),
    ("empty batch", {"readings": []}, ["body"], "at least one"),
    ("missing ts in a batch", {"readings": [rs(), {"machine_id": "mill-01", "values": {"torque": 1}}]},
     ["readings", 1, "ts"], "Field required"),
    ("ts without offset", rs(ts="2026-01-01T00:00:00"), ["ts"], "timezone"),
    ("ts not a date", rs(ts="yesterday"), ["ts"], "datetime"),
    ("value not a number", rs(torque="hot"), ["values", "torque"], "number"),
    ("values not an object", {"machine_id": "mill-01", "ts": TS, "values": [1]}, ["values"], "object"),
    ("no values", {"machine_id": "mill-01", "ts": TS, "values": {}}, ["values"], "at least 1"),
    ("unexpected field", {**rs(), "temperature": 3}, ["temperature"], "Extra inputs"),
    ("bad machine id", rs(machine="mill 01!"), ["machine_id"], "pattern"),
    ("unknown machine", rs(machine="mill-99"), ["machine_id"], "unknown machine 'mill-99'"),
    ("sensor of another kind", rs(flow_rate=50.0), ["values", "flow_rate"], "no sensor 'flow_rate'"),
    ("a sensor named like a batch key", rs(readings=1.0), ["values", "readings"], "no sensor 'readings'"),
    ("value out of range", rs(torque=1e6), ["values", "torque"], "physical range"),
    ("value NaN", _raw(json.dumps(rs(torque=float("nan")))), ["values", "torque"], "finite"),
    ("value Infinity", _raw(json.dumps(rs(torque=float("inf")))), ["values", "torque"], "finite"),
    ("in the future", rs(ts=(NOW + timedelta(hours=2)).isoformat()), ["ts"], "future"),
    ("one bad item among good ones", {"readings": [rs(), rs("pump-01", flow_rate=-5.0)]},
     ["readings", 1, "values", "flow_rate"], "physical range"),
    ("event of an unknown machine", {"readings": [rs()], "events": [{"machine_id": "x", "ts": TS, "kind": "note"}]},
     ["events", 0, "machine_id"], "unknown machine"),
    ("event of an unknown kind", {"events": [{"machine_id": "mill-01", "ts": TS, "kind": "party"}]},
     ["events", 0, "kind"], "Input should be"),
    ("value a numeric string", rs(torque="41.5"), ["values", "torque"], "number"),
    ("value a boolean", rs(torque=True), ["values", "torque"], "number"),
    ("ts before year 1 in UTC", rs(ts="0001-01-01T00:00:00+14:00"), ["ts"], "before 1970"),
    ("ts before 1970", rs(ts="1969-12-31T23:59:59Z"), ["ts"], "before 1970"),
    ("event ts before year 1", {"events": [ev(ts="0001-01-01T00:00:00+14:00")]}, ["events", 0, "ts"], "before"),
    ("NUL in an event message", {"events": [ev(message="a\x00b")]}, ["events", 0, "message"], "NUL"),
    ("NUL in event data", {"events": [ev(data={"k": "a\x00b"})]}, ["events", 0, "data"], "NUL"),
    ("event message too long", {"events": [ev(message="x" * (MAX_EVENT_MESSAGE_CHARS + 1))]},
     ["events", 0, "message"], "at most"),
    ("event data too large", {"events": [ev(data={"k": "x" * MAX_EVENT_DATA_BYTES})]}, ["events", 0, "data"],
     "limit"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "loc", "words"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
async def test_bad_input_gets_422_naming_the_item_and_field_and_stores_nothing(
    client: httpx.AsyncClient, services: Services, body: Any, loc: list[Any], words: str
) -> None:
    if isinstance(body, bytes):
        r = await client.post(URL, content=body, headers={"content-type": "application/json"})
    else:
        r = await client.post(URL, json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"] == loc, detail
    assert words.lower() in detail[0]["msg"].lower(), detail
    assert await stored(services) == 0
    assert services.ingest.counters.accepted_batches == 0


async def test_a_batch_over_the_value_limit_gets_422(client: httpx.AsyncClient, services: Services) -> None:
    services.settings.max_batch_readings = 3
    r = await client.post(URL, json={"readings": [rs(), rs(ts=(NOW - timedelta(seconds=1)).isoformat())]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["readings"]
    assert "limit of 3" in r.json()["detail"][0]["msg"]


async def test_a_body_over_the_size_cap_gets_413(client: httpx.AsyncClient, services: Services) -> None:
    services.settings.max_body_bytes = 2048
    body = {"readings": [rs(ts=(NOW - timedelta(seconds=i)).isoformat()) for i in range(40)]}
    r = await client.post(URL, json=body)
    assert r.status_code == 413
    assert "2048 bytes" in r.json()["detail"][0]["msg"]

    async def chunks() -> Any:  # no Content-Length: the cap holds on the streamed body too
        data = json.dumps(body).encode()
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    r = await client.post(URL, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert await stored(services) == 0


async def test_an_overloaded_writer_gets_503_with_retry_after(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(batch: Any, validated: Any = None) -> Any:
        raise Overloaded("queue full")

    monkeypatch.setattr(services.ingest, "ingest", refuse)
    r = await client.post(URL, json=rs())
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.json()["detail"][0]["msg"] == "queue full"


async def test_errors_of_many_items_are_capped_with_a_count(client: httpx.AsyncClient) -> None:
    body = {"readings": [rs(ts=(NOW - timedelta(seconds=i)).isoformat(), torque=-1.0) for i in range(150)]}
    detail = (await client.post(URL, json=body)).json()["detail"]
    assert len(detail) == 101
    assert "50 more" in detail[-1]["msg"]


async def test_a_batch_with_events_sent_three_times_stores_each_event_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = {"readings": [rs()], "events": [ev(message="spindle warm", data={"t": 1}), ev(kind="fault")]}
    for _ in range(3):
        assert (await client.post(URL, json=body)).status_code == 200
    events = (await client.get("/api/v1/machines/mill-01/events")).json()
    assert sorted(e["kind"] for e in events) == ["fault", "note"]
    assert (await services.store.stats()).events == 2


async def test_the_event_log_pages_with_before_and_before_id(client: httpx.AsyncClient) -> None:
    body = {"events": [ev(message=f"n{i}", ts=(NOW - timedelta(seconds=i // 2)).isoformat()) for i in range(7)]}
    assert (await client.post(URL, json=body)).status_code == 200
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while page := (await client.get("/api/v1/machines/mill-01/events", params=params)).json():
        seen += [e["message"] for e in page]
        params = {"limit": 3, "before": page[-1]["ts"], "before_id": page[-1]["id"]}
    assert sorted(seen) == [f"n{i}" for i in range(7)]
    assert len(seen) == 7


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"to": "0.5"}, ["query", "to"]),
        ({"from": "1700000000"}, ["query", "from"]),
        ({"limit": 1001}, ["query", "limit"]),
    ],
)
async def test_bad_event_log_parameters_get_422_naming_them(
    client: httpx.AsyncClient, params: dict[str, Any], loc: list[str]
) -> None:
    r = await client.get("/api/v1/machines/mill-01/events", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(loc)] == loc


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/api/v1/machines/mill-01/history", {"sensor": "torque", "to": "0.5"}, ["query", "to"]),
        ("/api/v1/machines/mill-01/history", {"sensor": "torque", "from": "1700000000"}, ["query", "from"]),
        ("/api/v1/alarms", {"limit": 1001}, ["query", "limit"]),
        ("/api/v1/alarms", {"before": "0.5"}, ["query", "before"]),
    ],
)
async def test_bad_history_and_alarm_parameters_get_422_naming_them(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], loc: list[str]
) -> None:
    r = await client.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(loc)] == loc


@pytest.mark.parametrize("path", ["/api/v1/alarms", "/api/v1/machines/mill-01/events"])
async def test_a_cursor_id_without_its_time_is_ignored(client: httpx.AsyncClient, path: str) -> None:
    body = {"events": [ev(message=f"n{i}") for i in range(3)]}
    assert (await client.post(URL, json=body)).status_code == 200
    first = await client.get(path, params={"limit": 2})
    alone = await client.get(path, params={"limit": 2, "before_id": 0})
    assert alone.status_code == 200, alone.text
    assert alone.json() == first.json()


async def test_text_no_store_can_hold_in_a_query_is_a_4xx_never_a_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/alarms", params={"machine_id": "a\x00b"})
    assert r.status_code == 422, r.text
    assert "machine_id" in r.json()["detail"][0]["loc"]
    assert (await client.get("/api/v1/machines/a%00b")).status_code == 404
    assert (await client.get("/api/v1/machines/a%00b/events")).status_code == 404


async def test_values_stored_around_ingest_never_break_the_read_routes(
    client: httpx.AsyncClient, services: Services
) -> None:
    ancient = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # refused by ingest, written directly here
    ancient_ms = int((ancient - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    cols = ReadingColumns(["pump-01"], ["flow_rate"], [ancient_ms], [80.0])
    await services.store.write_batch(cols, [Event(machine_id="pump-01", ts=ancient, kind=EventKind.NOTE)])
    alarm = Alarm(
        machine_id="pump-01",
        type="high:flow_rate",
        severity=AlarmSeverity.MINOR,
        state=AlarmState.CLEARED_UNACK,
        message="old",
        raised_at=ancient,
        updated_at=ancient,
    )
    await services.store.save_alarm(alarm)
    for path in ("/machines", "/machines/pump-01", "/machines/pump-01/events", "/alarms"):
        r = await client.get(f"/api/v1{path}")
        assert r.status_code == 200, (path, r.text)
    assert (await client.get("/api/v1/machines/pump-01")).json()["latest"] == {}
    assert (await client.get("/api/v1/machines/pump-01/events")).json() == []


async def test_a_client_that_disconnects_mid_body_makes_one_log_line_and_no_traceback(
    app: FastAPI, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    authorization = (await bearer(app, Role.OPERATOR))["Authorization"].encode()
    body = json.dumps({"readings": [rs()]}).encode()
    incoming: list[Message] = [
        {"type": "http.request", "body": body[:20], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", authorization),
        ],
        "client": ("10.0.0.7", 50000),
        "server": ("test", 80),
    }
    with caplog.at_level(logging.DEBUG):
        await app(scope, receive, send)
    assert [r.exc_info for r in caplog.records if r.exc_info] == []
    mine = [r for r in caplog.records if r.name == "factorytwin.api.routers.telemetry"]
    assert len(mine) == 1
    assert "10.0.0.7 went away after 20 bytes" in mine[0].getMessage()
    assert sent[0]["status"] == 400
    assert await stored(services) == 0


@pytest.mark.parametrize(
    ("error", "status"), [(StoreRejected("event message: NUL"), 422), (StoreUnavailable("connection lost"), 503)]
)
async def test_store_errors_reach_the_client_as_422_or_503_with_retry_after(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    async def fail(batches: Any) -> list[int | Exception]:
        return [error for _ in batches]

    monkeypatch.setattr(services.store, "write_batches", fail)
    r = await client.post(URL, json=rs())
    assert r.status_code == status, r.text
    assert (r.headers.get("retry-after") == "1") is (status == 503)
    assert str(error) in r.json()["detail"][0]["msg"]


async def test_a_full_sqlite_disk_gets_503_and_ingest_recovers(client: httpx.AsyncClient, services: Services) -> None:
    store = services.store
    assert isinstance(store, SQLiteStore)

    def cap(pages: int | None) -> None:
        conn = store._w()
        count = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages or count}")

    await store._on_writer(cap, None)
    body = {"readings": [rs(ts=(NOW - timedelta(milliseconds=i)).isoformat()) for i in range(3000)]}
    r = await client.post(URL, json=body)
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1"
    await store._on_writer(cap, 1_000_000_000)
    r = await client.post(URL, json=body)
    assert r.status_code == 200
    assert r.json()["new_readings"] == 6000


async def test_a_gateway_batch_of_many_machines_is_stored_whole(client: httpx.AsyncClient, services: Services) -> None:
    machines = [m.id for m in services.machines.values() if m.profile == "cnc_mill"]
    assert len(machines) >= 2
    r = await client.post(URL, json={"readings": [rs(m) for m in machines]})
    assert r.status_code == 200
    assert r.json()["readings"] == 2 * len(machines)
    assert await stored(services) == 2 * len(machines)


@pytest.mark.parametrize(
    ("bad", "loc", "words"),
    [
        (rs("mill-9999"), ["machine_id"], "unknown machine 'mill-9999'"),
        (rs(flow_rate=50.0), ["values", "flow_rate"], "machine 'mill-01' has no sensor 'flow_rate'"),
    ],
    ids=["unknown machine", "sensor its machine lacks"],
)
async def test_one_bad_machine_or_sensor_in_a_gateway_batch_is_named_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, bad: dict[str, Any], loc: list[Any], words: str
) -> None:
    machines = [m.id for m in services.machines.values() if m.profile == "cnc_mill"]
    sets = [rs(m) for m in machines]
    sets.insert(1, bad)
    r = await client.post(URL, json={"readings": sets})
    assert r.status_code == 422, r.text
    (problem,) = r.json()["detail"]
    assert problem["loc"] == ["readings", 1, *loc]
    assert words in problem["msg"]
    assert await stored(services) == 0
