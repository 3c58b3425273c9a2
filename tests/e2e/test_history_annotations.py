"""The annotated History view in real headless Chromium: a work order and a command become markers on the charts
(counted per category, toggleable, listed), and the picked sensors share one chart with an axis per unit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e
MACHINE = "mill-03"


def test_markers_and_one_chart_of_several_sensors(twin: Twin, bpage: BrowserPage) -> None:
    created = twin.post("/work-orders", {"machine_id": MACHINE, "title": "Annotated visit"})
    assert created.status_code == 201, created.text
    page = bpage.page
    bpage.goto(twin, f"#/history/{MACHINE}")
    chip = page.locator("[data-testid=history-marker-workorder]")
    expect(chip).not_to_have_attribute("data-count", "0", timeout=15_000)
    bar = page.locator("[data-testid=history-markers]")
    total = int(bar.get_attribute("data-count") or "0")
    assert total >= 1
    page.locator("summary", has_text="What the markers are").click()
    expect(page.locator("[data-testid=history-marker-list] li[data-kind=workorder]").first).to_contain_text(
        "Annotated visit"
    )
    # toggled off, the work-order markers leave every chart (the bar counts only what is drawn)
    n = int(chip.get_attribute("data-count") or "0")
    chip.click()
    expect(bar).to_have_attribute("data-count", str(total - n))
    chip.click()
    expect(bar).to_have_attribute("data-count", str(total))

    # two sensors of different units on one chart: two series, two axes
    layout = twin.api("/layout").json()
    profile = next(m["profile"] for m in layout["machines"] if m["id"] == MACHINE)
    specs = twin.api("/catalogue").json()[profile]
    picked = [s for s in specs[:3] if s["key"] != "air_temp"][:2]
    units = {s["unit"] for s in picked}
    expect(page.locator(f"[data-testid=history-chart-{picked[0]['key']}]")).to_be_visible()
    page.click("[data-testid=history-combine]")
    combined = page.locator("[data-testid=history-combined]")
    expect(combined).to_have_attribute("data-series", str(len(picked)))
    expect(combined).to_have_attribute("data-axes", str(len(units)))
    expect(combined).not_to_have_attribute("data-points", "0", timeout=15_000)
    expect(page.locator("[data-testid^=history-chart-]")).to_have_count(0)
    assert bpage.errors == []
