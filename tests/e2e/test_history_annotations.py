"""The annotated History view in real headless Chromium: a work order and a command become markers on the charts
(counted per category, toggleable, listed), the picked sensors share one chart with an axis per unit and download
as CSV; a
sensor of another machine joins them on one normalised chart, the view is saved, and its link opened elsewhere
(by a viewer, who may not save) draws the same series."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import BrowserPage, Twin, downloaded_text

pytestmark = pytest.mark.e2e
MACHINE = "mill-03"
OTHER = "press-02"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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

    # the chart's readings as CSV: the machine, the sensors shown, the chart's range
    rows = list(csv.reader(io.StringIO(downloaded_text(page, page.locator("[data-testid=history-csv]")))))
    assert rows[0] == ["machine_id", "ts", "sensor", "value"], rows[0]
    assert len(rows) > 1
    assert {r[0] for r in rows[1:]} == {MACHINE}
    assert {r[2] for r in rows[1:]} <= {s["key"] for s in picked}

    # on a phone the controls fit the screen: the range buttons keep their labels on one line ("15 min" wrapped
    # into two before) and the machine-time note wraps instead of running off the right edge
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{twin.url}/#/history/{MACHINE}?range=24h")
    note = page.locator("[data-testid=history-machine-time]")
    expect(note).to_be_visible()
    heights = page.eval_on_selector_all("[data-testid=history-range] button", "bs => bs.map(b => b.clientHeight)")
    assert heights, "no range buttons"
    assert max(heights) <= 30, heights
    width = page.evaluate("() => document.documentElement.clientWidth")
    box = note.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= width, (box, width)
    assert page.evaluate("() => document.documentElement.scrollWidth") == width
    assert bpage.errors == []


def test_a_two_machine_normalised_view_is_saved_and_its_link_reproduces_it(
    twin: Twin, bpage: BrowserPage, browser: Browser
) -> None:
    page = bpage.page
    bpage.goto(twin, f"#/history/{MACHINE}?range=15m")  # 15 min of machine time: 15 s of the 60x clock
    page.select_option("[data-testid=history-add-machine]", OTHER)
    sensor = "hydraulic_pressure"
    page.select_option("[data-testid=history-add-sensor]", sensor)
    page.click("[data-testid=history-add]")
    expect(page.locator(f"[data-testid='history-extra-{OTHER}:{sensor}']")).to_be_visible()
    page.click("[data-testid=history-mode-normal]")
    combined = page.locator("[data-testid=history-combined]")
    expect(combined).to_have_attribute("data-mode", "normal")
    expect(combined).to_have_attribute("data-machines", "2")
    expect(combined).to_have_attribute("data-axes", "1")
    expect(combined).not_to_have_attribute("data-points", "0", timeout=15_000)
    ids = combined.get_attribute("data-series-ids") or ""
    assert f"{OTHER}:{sensor}" in ids.split(","), ids
    assert len(ids.split(",")) == 3, ids  # the mill's two default sensors and the press's one
    expect(combined.locator(".u-legend")).to_contain_text(f"{OTHER} · ")
    hash_ = page.evaluate("location.hash")
    assert "mode=normal" in hash_
    assert f"add={OTHER}:{sensor}" in hash_

    page.click("[data-testid=history-save-view]")
    page.fill("[data-testid=history-view-name]", "Mill vs press, normalised")
    page.click("[data-testid=history-view-submit]")
    expect(page.locator("[data-testid=history-view-state]")).to_have_text("Saved “Mill vs press, normalised” (shared).")
    expect(page.locator("[data-testid=history-view-list]")).to_have_attribute("data-count", "1")
    page.wait_for_timeout(500)  # the chart's last frame
    page.screenshot(path=str(SCREENSHOTS / "history-two-machines-normalised.png"))

    # a fresh browser (another user, a viewer) opens the shared view from the list: the same series, the same mode
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    try:
        other = BrowserPage(context.new_page())
        other.page.on("pageerror", lambda exc: other.errors.append(f"pageerror: {exc}"))
        other.goto(twin, f"#/history/{MACHINE}", user="vera")
        save = other.page.locator("[data-testid=history-save-view]")
        expect(save).to_be_disabled()
        assert "needs the operator role" in (save.get_attribute("title") or "")
        other.page.locator("[data-testid=history-view-list] summary").click()
        other.page.locator("[data-testid=history-view-open]", has_text="Mill vs press, normalised").click()
        again = other.page.locator("[data-testid=history-combined]")
        expect(again).to_have_attribute("data-series-ids", ids)
        expect(again).to_have_attribute("data-mode", "normal")
        expect(again).not_to_have_attribute("data-points", "0", timeout=15_000)
        assert other.errors == []
    finally:
        context.close()
    assert bpage.errors == []
