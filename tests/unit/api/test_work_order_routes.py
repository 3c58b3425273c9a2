"""/work-orders over HTTP on the real app (fresh SQLite): create by hand and from an alarm, the state machine with
who/when, notes, 404/409/422 naming the field, the events written to the machine's log, the roles."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from factorytwin.api import Services
from factorytwin.auth import Role
from factorytwin.domain import Alarm, AlarmSeverity, AlarmState
from factorytwin.store.base import EventQuery
from factorytwin.store.workorders import work_order_store_for
from factorytwin.workorders.service import WorkOrderService

BASE = "/api/v1/work-orders"


async def test_a_work_order_by_hand_goes_open_assigned_in_progress_done(
    client: httpx.AsyncClient, services: Services
) -> None:
    r = await client.post(BASE, json={"machine_id": "mill-01", "title": "Spindle noise"})
    assert r.status_code == 201, r.text
    wo = r.json()
    assert (wo["state"], wo["source"], wo["version"]) == ("open", "manual", 1)
    steps: list[tuple[str, dict[str, object]]] = [
        ("assigned", {"assignee": "bo"}),
        ("in_progress", {}),
        ("done", {"note": "bearing", "parts": ["6204"]}),
    ]
    for state, extra in steps:
        r = await client.post(f"{BASE}/{wo['id']}/transition", json={"state": state, **extra})
        assert r.status_code == 200, r.text
    done = r.json()
    assert [s["state"] for s in done["steps"]] == ["open", "assigned", "in_progress", "done"]
    assert all(s["by"] == "test-admin" for s in done["steps"])
    assert (done["assignee"], done["parts"], done["notes"][0]["text"]) == ("bo", ["6204"], "bearing")
    events = await services.store.events(EventQuery(machine_id="mill-01", limit=50))
    ours = [e for e in events if e.data.get("work_order") == wo["id"]]
    assert sorted(e.kind.value for e in ours) == ["maintenance", "note", "note", "note", "note"]
    assert all(e.status is None for e in ours)  # the events never set the machine's status
    listed = (await client.get(BASE, params={"machine_id": "mill-01", "state": "done"})).json()
    assert [o["id"] for o in listed] == [wo["id"]]
    assert (await client.get(f"{BASE}/{wo['id']}")).json() == done


async def test_a_finished_work_order_cannot_reopen_409_naming_state(client: httpx.AsyncClient) -> None:
    wo = (await client.post(BASE, json={"machine_id": "mill-01", "title": "x"})).json()
    assert (await client.post(f"{BASE}/{wo['id']}/transition", json={"state": "cancelled"})).status_code == 200
    r = await client.post(f"{BASE}/{wo['id']}/transition", json={"state": "open"})
    assert r.status_code == 409
    assert "state" in r.text
    r = await client.post(f"{BASE}/{wo['id']}/notes", json={"text": "found later"})
    assert r.status_code == 200
    assert r.json()["notes"][0]["text"] == "found later"


async def test_bad_input_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post(BASE, json={"machine_id": "nope-9", "title": "x"})
    assert r.status_code == 422
    assert "machine_id" in r.text
    r = await client.post(BASE, json={"alarm_id": 999999})
    assert r.status_code == 422
    assert "alarm_id" in r.text
    r = await client.post(BASE, json={"title": "x"})
    assert r.status_code == 422
    wo = (await client.post(BASE, json={"machine_id": "mill-01", "title": "x"})).json()
    r = await client.post(f"{BASE}/{wo['id']}/transition", json={"state": "assigned"})
    assert r.status_code == 422
    assert "assignee" in r.text
    r = await client.post(f"{BASE}/{wo['id']}/transition", json={"state": "flying"})
    assert r.status_code == 422
    assert "state" in r.text
    assert (await client.get(f"{BASE}/123456")).status_code == 404
    assert (await client.get(f"{BASE}/{2**70}")).status_code in (404, 422)


async def test_from_an_alarm_takes_its_machine_and_message(client: httpx.AsyncClient, services: Services) -> None:
    alarm = await services.store.save_alarm(
        Alarm(
            machine_id="lathe-01",
            type="high:spindle_temp",
            severity=AlarmSeverity.MAJOR,
            state=AlarmState.ACTIVE_UNACK,
            message="Spindle temperature high",
            raised_at=datetime(2026, 3, 1, tzinfo=UTC),
            updated_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
    )
    r = await client.post(BASE, json={"alarm_id": alarm.id, "assignee": "bo"})
    assert r.status_code == 201, r.text
    wo = r.json()
    assert (wo["machine_id"], wo["title"], wo["source"], wo["state"]) == (
        "lathe-01",
        "Spindle temperature high",
        "alarm",
        "assigned",
    )
    r = await client.post(BASE, json={"alarm_id": alarm.id, "machine_id": "mill-01"})
    assert r.status_code == 422
    assert "machine_id" in r.text


async def test_a_viewer_reads_but_does_not_write(app: FastAPI, tokens: dict[Role, str]) -> None:
    transport = httpx.ASGITransport(app=app)
    for role, code in ((Role.VIEWER, 403), (Role.OPERATOR, 201)):
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
            assert (await c.get(BASE)).status_code == 200
            r = await c.post(BASE, json={"machine_id": "mill-01", "title": "x"})
            assert r.status_code == code, r.text


async def test_from_a_schedule_visit_keeps_its_source_and_planned_shift(client: httpx.AsyncClient) -> None:
    body = {"machine_id": "mill-02", "title": "Visit planned by the schedule", "source": "schedule"}
    r = await client.post(BASE, json={**body, "planned_for": "2026-03-02T14:00:00+00:00"})
    assert r.status_code == 201, r.text
    wo = r.json()
    assert (wo["source"], wo["planned_for"], wo["state"]) == ("schedule", "2026-03-02T14:00:00Z", "open")
    assert (await client.get(f"{BASE}/{wo['id']}")).json()["planned_for"] == "2026-03-02T14:00:00Z"
    for bad, field in (
        (body, "planned_for"),  # from the schedule, but which visit?
        ({**body, "source": "manual", "planned_for": "2026-03-02T14:00:00Z"}, "planned_for"),
        ({**body, "planned_for": "2026-03-02T14:00:00"}, "planned_for"),  # no zone
        ({**body, "planned_for": "2026-03-02T14:00:00Z", "alarm_id": 1}, "source"),
        ({**body, "source": "alarm", "planned_for": "2026-03-02T14:00:00Z"}, "source"),
    ):
        r = await client.post(BASE, json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert any(field in p["loc"] for p in r.json()["detail"]), (bad, r.text)


async def test_pages_read_every_order_a_page_at_a_time(client: httpx.AsyncClient, services: Services) -> None:
    made = [
        (await client.post(BASE, json={"machine_id": "mill-01", "title": f"job {i}"})).json()["id"] for i in range(5)
    ]
    orders = WorkOrderService(work_order_store_for(services.store), services.store, lambda: set(services.machines))
    pages = [[o.id for o in page] async for page in orders.pages(None, None, None, None, page=2)]
    assert pages == [[made[4], made[3]], [made[2], made[1]], [made[0]]]


async def test_times_are_kept_in_utc_and_one_out_of_its_range_is_422(client: httpx.AsyncClient) -> None:
    body = {"machine_id": "mill-02", "title": "Visit", "source": "schedule", "planned_for": "2026-03-02T15:00:00+01:00"}
    r = await client.post(BASE, json={**body, "downtime_start": "2026-03-02T08:00:00-05:00"})
    assert r.status_code == 201, r.text
    assert (r.json()["planned_for"], r.json()["downtime_start"]) == ("2026-03-02T14:00:00Z", "2026-03-02T13:00:00Z")
    r = await client.post(BASE, json={**body, "planned_for": "0001-01-01T00:00:00+14:00"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "planned_for"]
