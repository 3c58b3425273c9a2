"""Renaming a saved History view in real headless Chromium: a name its owner has is refused with the server's
reason (screenshot docs/screenshots/saved-view-rename-refused.png), and a rename says "Renaming…" (the old name
still listed) until the server's 2xx, then lists the new name, which a reload reads back from the server; Share
and Make private show the server's answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).parent.parent.parent / "docs" / "screenshots"
USER = "erin"
"""An engineer: the views are private, so other tests' users never see them (and this test not theirs)."""


def save_view(page: Page, name: str) -> None:
    page.click("[data-testid=history-save-view]")
    page.fill("[data-testid=history-view-name]", name)
    page.uncheck("[data-testid=history-view-shared]")
    page.click("[data-testid=history-view-submit]")
    expect(page.locator("[data-testid=history-view-state]")).to_have_text(f"Saved “{name}”.")


def test_a_saved_view_is_renamed_only_once_the_server_says_so(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/history/mill-01?range=6h&mode=axes", user=USER)
    save_view(page, "Mill, 6 h")
    save_view(page, "Mill, axes")
    page.locator("[data-testid=history-view-list] summary").click()
    item = page.locator("li", has=page.locator("[data-testid=history-view-open]", has_text="Mill, 6 h"))
    expect(item).to_have_count(1)

    # a name the owner has: the server's 409, its reason shown, nothing renamed
    item.locator("[data-testid=history-view-rename]").click()
    form = item.locator("[data-testid=history-view-rename-form]")
    form.locator("[data-testid=history-view-rename-name]").fill("Mill, axes")
    form.locator("[data-testid=history-view-rename-submit]").click()
    state = form.locator("[data-testid=history-view-rename-state]")
    expect(state).to_have_attribute("data-state", "failed")
    expect(state).to_have_text(f"Not renamed: body.name: {USER} already has a view named 'Mill, axes'")
    expect(item.locator("[data-testid=history-view-open]")).to_have_text("Mill, 6 h")
    page.locator("[data-testid=history-saved-views]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "saved-view-rename-refused.png"))

    # a free name: held at the network, the list says "Renaming…" and still shows the old name
    held: list[Route] = []
    page.route(
        "**/api/v1/views/*",
        lambda route: held.append(route) if route.request.method == "PATCH" else route.fallback(),
    )
    form.locator("[data-testid=history-view-rename-name]").fill("Mill, last 6 h")
    form.locator("[data-testid=history-view-rename-submit]").click()
    expect(form).to_have_attribute("data-state", "pending")
    expect(form.locator("[data-testid=history-view-rename-submit]")).to_have_text("Renaming…")
    expect(form.locator("[data-testid=history-view-rename-submit]")).to_be_disabled()
    expect(item.locator("[data-testid=history-view-open]")).to_have_text("Mill, 6 h")
    expect(page.locator("[data-testid=history-view-state]")).to_have_count(0)  # no "Renamed" before the answer
    for _ in range(200):  # the route handler runs while Playwright waits: until the request reaches it
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, held
    assert held[0].request.post_data_json == {"name": "Mill, last 6 h"}
    held[0].continue_()
    renamed = page.locator("[data-testid=history-view-open]", has_text="Mill, last 6 h")
    expect(renamed).to_have_count(1)
    expect(page.locator("[data-testid=history-view-rename-form]")).to_have_count(0)
    expect(page.locator("[data-testid=history-view-state]")).to_have_text("Renamed “Mill, 6 h” to “Mill, last 6 h”.")
    page.unroute("**/api/v1/views/*")

    # the server has it: a reload lists the new name, with the view's link unchanged
    page.reload()
    page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
    page.locator("[data-testid=history-view-list] summary").click()
    link = page.locator("[data-testid=history-view-open]", has_text="Mill, last 6 h")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "#/history/mill-01?range=6h&mode=axes")
    expect(page.locator("[data-testid=history-view-open]", has_text="Mill, 6 h")).to_have_count(0)

    # shared from the list, then private again: the list says what the server answered
    item = page.locator("li", has=link)
    share = item.locator("[data-testid=history-view-share]")
    expect(share).to_have_text("Share")
    share.click()
    expect(page.locator("[data-testid=history-view-state]")).to_have_text("“Mill, last 6 h” is shared now.")
    expect(item).to_contain_text("· shared")
    view_id = int((item.get_attribute("data-testid") or "").rsplit("-", 1)[1])
    stored = page.request.get(f"{twin.url}/api/v1/views").json()
    assert next(v for v in stored if v["id"] == view_id)["shared"] is True
    share.click()  # back to private, so that no other test's user sees it
    expect(share).to_have_text("Share")
    expect(item).to_contain_text("· private")
    assert bpage.errors == [] or all("409" in e for e in bpage.errors), bpage.errors
