"""Work orders in real headless Chromium: opened from an alarm in the console, assigned, started and done with who
and when; opened by hand from the work-order view, filtered; opened from a visit of the maintenance schedule and
downloaded as CSV with the list's filters; a viewer reads but cannot change them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Route, expect

from tests.e2e.conftest import BrowserPage, Twin, downloaded_text

pytestmark = pytest.mark.e2e


def test_a_work_order_from_an_alarm_goes_to_done(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/overview")  # olga, an operator
    row = page.locator("[data-testid=alarm-row]").first
    expect(row).to_be_visible(timeout=45_000)
    alarm_id = int(row.get_attribute("data-alarm-id") or "0")
    csv_href = re.compile(r"^/api/v1/exports/alarms\?state=active_unack&state=active_ack&from=[^&]+&format=csv$")
    expect(page.locator("[data-testid=alarms-csv]")).to_have_attribute("href", csv_href)  # the table's filter
    row.locator("[data-testid=alarm-work-order]").click()
    expect(page).to_have_url(re.compile(r"#/workorders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    detail = page.locator("[data-testid=wo-detail]")
    expect(detail).to_have_attribute("data-state", "open")
    expect(detail).to_contain_text(f"from alarm #{alarm_id}")

    page.fill("[data-testid=wo-assignee]", "bo")
    page.click("[data-testid=wo-move-assigned]")
    expect(detail).to_have_attribute("data-state", "assigned")
    page.click("[data-testid=wo-move-in_progress]")
    expect(detail).to_have_attribute("data-state", "in_progress")
    page.fill("[data-testid=wo-note]", "bearing replaced")
    page.click("[data-testid=wo-note-submit]")
    expect(page.locator("[data-testid=wo-notes]")).to_contain_text("bearing replaced")
    page.click("[data-testid=wo-move-done]")
    expect(detail).to_have_attribute("data-state", "done")
    expect(detail.locator("[data-testid=wo-steps] li")).to_have_count(4)
    expect(detail.locator("[data-testid=wo-steps]")).to_contain_text("olga")
    expect(detail.locator("[data-testid^=wo-move-]")).to_have_count(0)  # done is final: no move is offered

    stored = twin.api(f"/work-orders/{order_id}").json()
    assert [s["state"] for s in stored["steps"]] == ["open", "assigned", "in_progress", "done"]
    assert stored["assignee"] == "bo"
    assert stored["alarm_id"] == alarm_id
    events = twin.api(f"/machines/{stored['machine_id']}/events?limit=200").json()
    assert any(e["kind"] == "maintenance" and e["data"].get("work_order") == order_id for e in events)
    assert bpage.errors == []


def test_a_work_order_by_hand_and_the_filters(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/workorders")
    expect(page.locator("[data-testid=nav-workorders]")).to_have_class(re.compile(r"\bactive\b"))
    page.select_option("[data-testid=wo-new-machine]", "lathe-02")
    page.fill("[data-testid=wo-new-title]", "Check coolant level")
    page.click("[data-testid=wo-new-submit]")
    expect(page).to_have_url(re.compile(r"#/workorders/\d+$"))
    order_id = page.url.rsplit("/", 1)[1]
    row = page.locator(f"[data-testid=wo-row][data-id='{order_id}']")
    expect(row).to_contain_text("Check coolant level")
    expect(row).to_have_attribute("data-state", "open")
    page.click("[data-testid=wo-move-cancelled]")
    expect(page.locator("[data-testid=wo-detail]")).to_have_attribute("data-state", "cancelled")
    # the default filter shows the unfinished ones: the cancelled order leaves the list, "cancelled" brings it back
    expect(row).to_have_count(0)
    page.select_option("[data-testid=wo-filter-state]", "cancelled")
    expect(row).to_have_attribute("data-state", "cancelled")
    page.select_option("[data-testid=wo-filter-machine]", "mill-01")
    expect(row).to_have_count(0)
    assert bpage.errors == []


def test_a_viewer_reads_work_orders_but_cannot_change_them(twin: Twin, bpage: BrowserPage) -> None:
    created = twin.post("/work-orders", {"machine_id": "mill-02", "title": "Inspect guard"})
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    page = bpage.page
    bpage.goto(twin, f"#/workorders/{order_id}", user="vera")
    expect(page.locator(f"[data-testid=wo-row][data-id='{order_id}']")).to_contain_text("Inspect guard")
    expect(page.locator("[data-testid=wo-new]")).to_have_count(0)
    expect(page.locator("[data-testid=wo-refused]")).to_contain_text("operator")
    expect(page.locator("[data-testid^=wo-move-]")).to_have_count(0)
    assert bpage.errors == []


def test_a_work_order_from_a_schedule_visit_and_the_csv(twin: Twin, bpage: BrowserPage) -> None:
    # the e2e twin trains no model, so its schedule has no plan: the page gets one with a visit (the rest is real)
    now = datetime.now(UTC).replace(microsecond=0)
    shift = (now + timedelta(hours=3)).replace(minute=0, second=0)
    task = {
        "machine_id": "lathe-01",
        "shift_start": shift.isoformat(),
        "shift_index": 1,
        "hours": 3.0,
        "probability": 0.4,
        "risk_if_deferred": 1200.0,
        "reason": "tool wear rising",
    }
    plan = {
        "status": "ok",
        "generated_at": now.isoformat(),
        "model_version": "e2e",
        "horizon_h": 72.0,
        "shift_hours": 8.0,
        "technician_hours_per_shift": 8.0,
        "tasks": [task],
        "policies": [],
        "message": "",
    }
    page = bpage.page

    def one_visit(route: Route) -> None:
        route.fulfill(json=plan)

    page.route(re.compile(r"/api/v1/maintenance/schedule"), one_visit)
    bpage.goto(twin, "#/overview")  # olga, an operator
    visit = page.locator("[data-testid=schedule-visit][data-machine=lathe-01]")
    visit.locator("[data-testid=schedule-work-order]").click()
    link = visit.locator("[data-testid=schedule-wo-link]")
    expect(link).to_contain_text("open")
    order_id = int(link.get_attribute("data-id") or "0")
    stored = twin.api(f"/work-orders/{order_id}").json()
    assert (stored["machine_id"], stored["source"]) == ("lathe-01", "schedule")
    assert datetime.fromisoformat(stored["planned_for"]) == shift
    assert "shift of" in stored["title"]

    link.click()
    expect(page.locator("[data-testid=wo-detail]")).to_contain_text("from the maintenance schedule")
    page.select_option("[data-testid=wo-filter-machine]", "lathe-01")
    csv_link = page.locator("[data-testid=wo-csv]")
    expect(csv_link).to_have_attribute("href", re.compile(r"/api/v1/exports/work-orders\?machine_id=lathe-01&"))
    rows = list(csv.DictReader(io.StringIO(downloaded_text(page, csv_link))))
    assert {r["machine_id"] for r in rows} == {"lathe-01"}
    mine = next(r for r in rows if r["id"] == str(order_id))
    assert (mine["source"], mine["state"], mine["created_by"]) == ("schedule", "open", "olga")
    assert datetime.fromisoformat(mine["planned_for"]) == shift
    assert bpage.errors == []
