"""Logging in and out of the dashboard, and what each role may do there (issue 11)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, BrowserPage, Twin

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_an_operator_logs_in_stops_a_machine_which_is_audited_and_logs_out(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    # compressor-02: not one of the demo's machines heading for failure (the first of each kind), so a loaded run
    # that reaches this test hours of simulated time in does not find it failed.
    page.goto(f"{twin.url}/#/floor/compressor-02")
    form = page.locator("[data-testid=login-form]")
    expect(form).to_be_visible()  # no session: the login form, not the dashboard
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", "not her password")
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=login-error]")).to_contain_text("wrong user name or password")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=user]")).to_have_attribute("data-role", "operator")
    page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)  # the stream took the cookie
    badge = page.locator("[data-testid=machine-panel] [data-testid=status-badge]")
    expect(badge).not_to_have_attribute("data-status", "offline", timeout=15_000)
    page.click("[data-testid=cmd-stop]")
    page.click("[data-testid=confirm-stop] [data-testid=cmd-stop-confirm]")  # Stop asks first
    expect(badge).to_have_attribute("data-status", "stopped", timeout=15_000)
    audit = twin.api("/audit?action=machines.command&actor=olga").json()
    assert any(e["target"] == "compressor-02" and e["detail"].startswith("stop") for e in audit), audit
    logins = twin.api("/audit?action=auth.login&actor=olga").json()
    assert {e["outcome"] for e in logins} >= {"success", "failure"}  # the wrong password is in the trail too
    page.click("[data-testid=cmd-start]")
    expect(badge).not_to_have_attribute("data-status", "stopped", timeout=15_000)
    page.click("[data-testid=logout]")
    expect(form).to_be_visible()
    assert page.request.get(f"{twin.url}/api/v1/machines").status == 401  # the session is gone on the server
    assert bpage.errors == [] or all("401" in e for e in bpage.errors), bpage.errors


def test_a_viewer_sees_the_plant_but_no_commands(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/floor/mill-01", user="vera")
    expect(bpage.page.locator("[data-testid=user]")).to_have_attribute("data-role", "viewer")
    panel = bpage.page.locator("[data-testid=machine-panel]")
    expect(panel).to_contain_text("CNC Mill 1")
    expect(panel.locator("[data-testid=controls-refused]")).to_contain_text("needs the operator role")
    expect(panel.locator("[data-testid=cmd-stop]")).to_have_count(0)
    # ... and the server agrees: the viewer's session may not command, whatever the page shows.
    csrf = next(c["value"] for c in bpage.page.context.cookies() if c["name"] == "ft_csrf")
    refused = bpage.page.request.post(
        f"{twin.url}/api/v1/machines/mill-01/commands", data={"command": "stop"}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status == 403
    assert bpage.errors == []


def test_an_admin_reads_the_audit_trail_filters_it_and_downloads_it(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    refused = httpx.post(f"{twin.url}/api/v1/auth/login", json={"username": "mallory", "password": "guess" * 3})
    assert refused.status_code == 401
    bpage.goto(twin, "#/audit", user="ada")
    expect(page.locator("[data-testid=audit-row]").first).to_be_visible()
    page.fill("[data-testid=audit-actor]", "mallory")
    page.press("[data-testid=audit-actor]", "Enter")
    rows = page.locator("[data-testid=audit-row]")
    expect(rows).to_have_count(1)  # only her failed login
    expect(rows.first).to_have_attribute("data-action", "auth.login")
    expect(rows.first).to_have_attribute("data-outcome", "failure")
    page.select_option("[data-testid=audit-action]", "machines.")
    expect(page.locator("[data-testid=audit]")).to_contain_text("No entries match these filters")
    page.select_option("[data-testid=audit-action]", "")
    expect(rows).to_have_count(1)
    with page.expect_download() as download:
        page.click("[data-testid=audit-csv]")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,ts,actor,"), lines
    assert len(lines) == 2, lines
    assert ",mallory," in lines[1], lines
    assert bpage.errors == []


def test_the_audit_trail_is_not_offered_below_admin(twin: Twin, bpage: BrowserPage) -> None:
    bpage.goto(twin, "#/audit", user="olga")
    expect(bpage.page.locator("[data-testid=nav-audit]")).to_have_count(0)
    expect(bpage.page.locator("[data-testid=audit-refused]")).to_contain_text("needs the admin role")
    assert bpage.errors == []
