"""Work orders in real headless Chromium: opened from an alarm in the console, assigned, started and done with who
and when; opened by hand from the work-order view, filtered; a viewer reads but cannot change them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e


def test_a_work_order_from_an_alarm_goes_to_done(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/overview")  # olga, an operator
    row = page.locator("[data-testid=alarm-row]").first
    expect(row).to_be_visible(timeout=45_000)
    alarm_id = int(row.get_attribute("data-alarm-id") or "0")
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
