"""The dashboard in real headless Chromium against the real API and simulator (see conftest.py)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BROWSER_ZONE, SPEED, BrowserPage, Twin, distinct_colours, lit_fraction

pytestmark = pytest.mark.e2e


def floor_positions(bp: BrowserPage) -> dict[str, list[float]]:
    """Screen positions of the machines as the 3D floor last projected them."""
    bp.page.wait_for_function("() => window.__ftFloor && Object.keys(window.__ftFloor.positions).length > 0")
    positions: dict[str, list[float]] = bp.page.evaluate("() => window.__ftFloor.positions")
    return positions


def test_every_view_loads_without_console_errors(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor")
    bpage.page.wait_for_selector("canvas")
    for view in ("overview", "history", "floor"):
        bpage.page.click(f"[data-testid=nav-{view}]")
        bpage.page.wait_for_timeout(1500)
    bpage.page.goto(f"{twin.url}/#/floor/mill-01")
    expect(bpage.page.locator("[data-testid=machine-panel]")).to_be_visible()
    # No model is trained: the panel says so, and asking must not have failed in the console.
    expect(bpage.page.locator("[data-testid=no-model]")).to_contain_text("no model")
    bpage.page.wait_for_timeout(2000)
    assert bpage.errors == []


def test_the_3d_floor_draws_every_machine(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor")
    canvas = bpage.page.locator("[data-testid=floor] canvas")
    expect(canvas).to_be_visible()
    positions = floor_positions(bpage)
    layout = twin.api("/layout").json()
    assert set(positions) == {m["id"] for m in layout["machines"]}
    # Software WebGL on a loaded box can take a few seconds to draw the first full frames: look until it has.
    deadline = time.monotonic() + 20
    png = canvas.screenshot()
    lit = lit_fraction(png)
    while lit <= 0.05 and time.monotonic() < deadline:
        bpage.page.wait_for_timeout(500)
        png = canvas.screenshot()
        lit = lit_fraction(png)
    # Machines, line tape, labels and beacons stand out from the dark floor in many colours.
    assert lit > 0.05, f"only {lit:.1%} of the canvas differs from the background"
    assert distinct_colours(png) >= 20
    box = canvas.bounding_box()
    assert box is not None
    on_screen = [p for p in positions.values() if box["x"] < p[0] < box["x"] + box["width"] and box["y"] < p[1]]
    assert len(on_screen) == len(positions)


def test_hovering_shows_a_tooltip_and_clicking_opens_the_panel(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor")
    x, y = floor_positions(bpage)["mill-02"]
    bpage.page.mouse.move(x, y)
    expect(bpage.page.locator("[data-testid=tooltip]")).to_contain_text("CNC Mill 2")
    bpage.page.mouse.click(x, y)
    panel = bpage.page.locator("[data-testid=machine-panel]")
    expect(panel).to_have_attribute("data-machine", "mill-02")
    expect(panel).to_contain_text("CNC Mill 2")
    expect(panel.locator("[data-testid=sensor-spindle_speed]")).to_contain_text("rpm")
    assert bpage.page.url.endswith("#/floor/mill-02")


def test_live_values_change_while_the_simulator_runs(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor/lathe-01")
    value = bpage.page.locator("[data-testid=sensor-motor_current] [data-testid=sensor-value]")
    expect(value).to_contain_text("A")
    first = value.inner_text()
    expect(value).not_to_have_text(first, timeout=15_000)


def test_stop_from_the_panel_shows_the_machine_stopped(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor/pump-02")
    badge = bpage.page.locator("[data-testid=machine-panel] [data-testid=status-badge]")
    expect(badge).not_to_have_attribute("data-status", "offline", timeout=15_000)
    bpage.page.click("[data-testid=cmd-stop]")
    # Stop asks first; only the confirmation sends it, and the panel says applied once the machine answered.
    bpage.page.click("[data-testid=confirm-stop] [data-testid=cmd-stop-confirm]")
    status = bpage.page.locator("[data-testid=command-status]")
    expect(status).to_have_attribute("data-phase", "applied", timeout=15_000)
    expect(status).to_contain_text("Stop: applied")
    expect(badge).to_have_attribute("data-status", "stopped", timeout=15_000)
    assert twin.api("/machines/pump-02").json()["state"]["status"] == "stopped"
    expect(bpage.page.locator("[data-testid=machine-events]")).to_contain_text("stop", timeout=10_000)
    bpage.page.click("[data-testid=cmd-start]")
    expect(badge).not_to_have_attribute("data-status", "stopped", timeout=15_000)
    assert bpage.errors == []


def test_an_alarm_appears_and_can_be_acknowledged(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/overview")
    row = bpage.page.locator("[data-testid=alarm-row][data-state=active_unack]").first
    expect(row).to_be_visible(timeout=45_000)
    alarm_id = row.get_attribute("data-alarm-id")
    assert alarm_id is not None
    row.locator("[data-testid=ack]").click()
    same = bpage.page.locator(f"[data-testid=alarm-row][data-alarm-id='{alarm_id}']")
    # Acknowledged: the row says so, or it left the active list because the alarm also cleared meanwhile.
    expect(same.and_(bpage.page.locator("[data-state$=_unack]"))).to_have_count(0, timeout=10_000)
    alarms = {a["id"]: a for a in twin.api("/alarms").json()}
    assert alarms[int(alarm_id)]["acked_at"] is not None
    assert alarms[int(alarm_id)]["acked_by"] == "olga"  # the logged-in user, not a name the page chose
    assert bpage.errors == []


def test_the_history_chart_draws_bucketed_points(twin: Twin, bpage: BrowserPage) -> None:
    with bpage.page.expect_response(re.compile(r"/api/v1/machines/mill-01/history\?.*points=")) as answer:
        bpage.goto(twin, "#/history/mill-01")
    body = answer.value.json()
    assert body["buckets"], "the server returned no buckets"
    assert {"min", "max", "avg", "count"} <= set(body["buckets"][0])
    chart = bpage.page.locator("[data-testid^=history-chart-]").first
    expect(chart).not_to_have_attribute("data-points", "0", timeout=10_000)
    # The band and line are drawn: the plot canvas is not blank against the card's background.
    lit = lit_fraction(chart.locator("canvas").screenshot(), background=(22, 27, 35), tolerance=30)
    assert lit > 0.005, f"the chart canvas looks blank ({lit:.2%} drawn)"
    bpage.page.click("[data-testid=history-range] >> text=15 min")
    expect(chart).not_to_have_attribute("data-points", "0")
    assert bpage.errors == []


def test_a_lost_stream_shows_reconnecting_and_recovers(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor/mill-03")
    connection = bpage.page.locator("[data-testid=connection]")
    # Make the server unreachable for the page (new sockets fail), then drop the open one.
    bpage.page.evaluate(
        """() => {
        window.__realWebSocket = window.WebSocket;
        window.WebSocket = function () { throw new Error('network down (test)'); };
        window.__ftStream.socket.close();
    }"""
    )
    expect(connection).to_have_attribute("data-status", "reconnecting")
    expect(connection).to_contain_text("Reconnecting")
    bpage.page.wait_for_timeout(2500)
    bpage.page.evaluate("() => { window.WebSocket = window.__realWebSocket; }")
    expect(connection).to_have_attribute("data-status", "open", timeout=15_000)
    value = bpage.page.locator("[data-testid=sensor-motor_current] [data-testid=sensor-value]")
    first = value.inner_text()
    expect(value).not_to_have_text(first, timeout=15_000)
    assert bpage.errors == []


def test_the_header_says_time_is_compressed_and_shows_the_plants_clock(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/overview")
    expect(bpage.page.locator("[data-testid=time-scale]")).to_have_text(f"simulated time \u00d7{SPEED:g}")
    clock = bpage.page.locator("[data-testid=clock]")
    expect(clock).to_contain_text("UTC")
    assert bpage.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == BROWSER_ZONE
    shown = clock.inner_text().split()[0]  # HH:MM:SS on the plant's clock, not the browser's (6 h behind)
    utc = datetime.now(UTC)
    shown_s = sum(int(x) * f for x, f in zip(shown.split(":"), (3600, 60, 1), strict=True))
    now_s = utc.hour * 3600 + utc.minute * 60 + utc.second
    assert min(abs(shown_s - now_s), 86_400 - abs(shown_s - now_s)) < 30, (shown, utc.isoformat())
    assert bpage.errors == []


def test_the_api_docs_work_offline_under_the_dashboards_csp(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    off_origin: list[str] = []
    local = (twin.url, f"blob:{twin.url}")  # ReDoc starts its search worker from a blob of this origin
    page.on("request", lambda r: None if r.url.startswith(local) else off_origin.append(r.url))
    page.goto(f"{twin.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("factorytwin", timeout=20_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.goto(f"{twin.url}/redoc")
    expect(page.locator("h1").first).to_contain_text("factorytwin", timeout=20_000)
    # No CDN: it works without internet. The one exception is ReDoc's own logo, which it asks its CDN for; the CSP
    # refuses that (ReDoc then hides the image) and says so in the console. Nothing else may leave this origin.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [u for u in off_origin if u != logo] == []
    assert [e for e in bpage.errors if logo not in e] == []  # any other CSP violation is a console error


def test_temperatures_follow_the_display_unit_chosen_and_it_is_kept(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/floor/mill-01")
    value = page.locator("[data-testid=sensor-air_temp] [data-testid=sensor-value]")
    expect(value).to_contain_text(" K")
    page.click("[data-testid=units]")
    page.select_option("[data-testid=units-temperature]", "°C")
    expect(value).to_contain_text("°C")
    celsius = float(value.inner_text().split()[0].replace(",", ""))
    assert 0 < celsius < 60, value.inner_text()  # ~300 K of air is ~27 °C, not 300 °C
    band = page.locator("[data-testid=sensor-air_temp] .band")
    expect(band).to_contain_text("°C")
    page.reload()
    page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
    expect(value).to_contain_text("°C")  # kept in this browser
    expect(page.locator("[data-testid=units]")).to_contain_text("°C")
    assert bpage.errors == []
