"""The dashboard's header on a 390 px phone and on a 1600x900 desktop, in real headless Chromium: every control of it
is on the screen and takes a click (nothing cut off or covered), on each view; Log out works from the phone. Takes
the screenshots of docs/screenshots/header-*.png (at render scale 1 and 0.3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).parent.parent.parent / "docs" / "screenshots"
CONTROLS = "[data-testid=topbar] :is(button, a, select, input, [data-testid=connection], [data-testid=clock])"
"""The header's controls and the two pills that only say something (the connection and the clock)."""
VIEWS = ("#/overview", "#/floor/mill-03", "#/history/pump-01", "#/kpis", "#/workorders")


def header_problems(page: Page, width: int, height: int) -> list[str]:
    """Each visible header control that is not wholly on the screen, or whose middle is covered by another element
    (so a click would land elsewhere), or that Playwright could not click; [] when all are fine."""
    problems: list[str] = []
    controls = page.locator(CONTROLS)
    assert controls.count() >= 5, controls.count()
    for i in range(controls.count()):
        control = controls.nth(i)
        if not control.is_visible():  # hidden on purpose at this width (the clock and the breadcrumb on a phone)
            continue
        name = control.get_attribute("data-testid") or control.inner_text()
        box = control.bounding_box()
        assert box is not None, name
        if box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > width or box["y"] + box["height"] > height:
            problems.append(f"{name} is off the screen: {box}")
            continue
        hit = control.evaluate(
            "(el) => { const r = el.getBoundingClientRect();"
            " const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " return at !== null && (at === el || el.contains(at)); }"
        )
        if not hit:
            problems.append(f"{name} is covered at its middle")
        if control.evaluate("(el) => el.matches('button, a, select, input')"):
            try:
                control.click(trial=True, timeout=5_000)  # actionable: visible, stable, enabled, receives events
            except Exception as exc:  # the reason goes into the report
                problems.append(f"{name} cannot be clicked: {exc}")
    return problems


def test_every_header_control_is_on_a_390px_screen_and_clickable(twin: Twin, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        bp = BrowserPage(context.new_page())
        page = bp.page
        bp.login(twin)
        for hash_ in VIEWS:
            page.goto(f"{twin.url}/{hash_}")
            page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
            assert header_problems(page, 390, 844) == [], hash_
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{hash_} is {width} px wide"
        # the units menu opens on the screen too
        page.click("[data-testid=units]")
        menu = page.locator("[data-testid=units-menu]").bounding_box()
        assert menu is not None
        assert menu["x"] >= 0, menu
        assert menu["x"] + menu["width"] <= 390, menu
        page.click("[data-testid=units]")
        page.goto(f"{twin.url}/#/overview")
        page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
        page.wait_for_timeout(1500)  # the overview's first polls
        page.screenshot(path=str(SHOTS / "header-390.png"))
        page.goto(f"{twin.url}/?quality=0.3#/floor/mill-03")
        page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
        page.wait_for_function("() => window.__ftFloor && window.__ftFloor.frames > 30", timeout=30_000)
        assert header_problems(page, 390, 844) == []
        page.screenshot(path=str(SHOTS / "header-390-render-scale-0.3.png"))
        # and Log out, the control that used to be cut off, does log out
        page.click("[data-testid=logout]")
        expect(page.locator("[data-testid=login-form]")).to_be_visible(timeout=15_000)
        assert bp.errors == [], bp.errors
    finally:
        context.close()


def test_the_header_is_one_row_on_a_desktop_with_every_control_on_screen(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/overview")
    assert header_problems(page, 1600, 900) == []
    bar = page.locator("[data-testid=topbar]").bounding_box()
    assert bar is not None
    assert bar["height"] <= 53, bar  # one row, as before the phone layout wrapped it
    expect(page.locator("[data-testid=clock]")).to_be_visible()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SHOTS / "header-1600x900.png"))
    assert bpage.errors == []
