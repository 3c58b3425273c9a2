"""The operator console tells no untruths (issue 13): stale marking, and a phone layout (see conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e


def test_console_marks_everything_stale_while_the_stream_is_down_and_recovers(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/overview")
    kpis = bpage.page.locator("[data-testid=kpis]")
    expect(kpis).to_have_attribute("data-stale", "false")
    bpage.page.evaluate(
        """() => {
        window.__realWebSocket = window.WebSocket;
        window.WebSocket = function () { throw new Error('network down (test)'); };
        window.__ftStream.socket.close();
    }"""
    )
    expect(bpage.page.locator("[data-testid=stale-banner]")).to_contain_text("Live stream down")
    expect(kpis).to_have_attribute("data-stale", "true")
    expect(bpage.page.locator("[data-testid=kpi-asof]").first).to_contain_text("as of ")
    bpage.page.evaluate("() => { window.WebSocket = window.__realWebSocket; }")
    expect(bpage.page.locator("[data-testid=connection]")).to_have_attribute("data-status", "open", timeout=15_000)
    expect(bpage.page.locator("[data-testid=stale-banner]")).to_have_count(0)
    expect(kpis).to_have_attribute("data-stale", "false")
    assert bpage.errors == []


def test_console_phone_layout_has_no_horizontal_scroll(twin: Twin, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        BrowserPage(page).login(twin)
        for hash_ in ("#/overview", "#/floor/mill-03", "#/history/pump-01"):
            page.goto(f"{twin.url}/{hash_}")
            page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
            page.wait_for_timeout(1000)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{hash_} is {width} px wide"
        panel = page.locator("[data-testid=machine-panel]")
        page.goto(f"{twin.url}/#/floor/mill-03")
        box = panel.bounding_box()
        assert box is not None
        # a bottom sheet, inside the screen
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
        assert page.locator("[data-testid=cmd-stop]").bounding_box() is not None
    finally:
        context.close()
