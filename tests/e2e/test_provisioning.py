"""A machine of a user's profile, provisioned over the API while a dashboard is open, appears on the floor and in
the fleet at once (the stream's ``machine_changed``), shows its live values and its own band, and leaves when it is
deleted — no reload."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e

PROFILE = {
    "id": "e2e-boiler",
    "name": "Steam boiler",
    "sensors": [
        {
            "key": "steam_pressure",
            "label": "Steam pressure",
            "unit": "bar",
            "low": 0.0,
            "high": 40.0,
            "normal_low": 8.0,
            "normal_high": 12.0,
        },
        {
            "key": "flue_temp",
            "label": "Flue gas temperature",
            "unit": "°C",
            "low": 0.0,
            "high": 600.0,
            "normal_low": 120.0,
            "normal_high": 250.0,
            "activity": True,
        },
    ],
    "appearance": {
        "kind": "primitive",
        "shape": "cylinder",
        "width": 2.4,
        "height": 3.2,
        "depth": 2.4,
        "color": "#c0392b",
    },
}
MACHINE = {"id": "boiler-e2e", "name": "Boiler E2E", "profile": "e2e-boiler", "line": "line-c", "x": 52.0, "y": 20.0}


def _delete(twin: Twin, path: str) -> httpx.Response:
    return httpx.delete(f"{twin.url}/api/v1{path}", timeout=10, headers={"Authorization": f"Bearer {twin.token}"})


def test_a_machine_provisioned_live_appears_reports_and_leaves_without_a_reload(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/overview")
    assert twin.post("/profiles", PROFILE).status_code == 201
    try:
        assert twin.post("/machines", MACHINE).status_code == 201
        card = page.locator("[data-testid=machine-card][data-machine=boiler-e2e]")
        card.wait_for(timeout=10_000)  # pushed, not reloaded

        reading = {
            "machine_id": "boiler-e2e",
            "ts": datetime.now(UTC).isoformat(),
            "values": {"steam_pressure": 10.0, "flue_temp": 200.0},
        }
        assert twin.post("/telemetry", reading).status_code == 200
        card.get_by_text("running", exact=False).first.wait_for(timeout=10_000)

        page.goto(f"{twin.url}/#/floor")
        page.get_by_text("Boiler E2E").first.wait_for(timeout=10_000)
        assert _delete(twin, "/machines/boiler-e2e").status_code == 204
        page.get_by_text("Boiler E2E").first.wait_for(state="detached", timeout=10_000)
    finally:
        _delete(twin, "/machines/boiler-e2e")
        assert _delete(twin, "/profiles/e2e-boiler").status_code == 204
    assert not bpage.errors


def test_a_connector_form_offers_a_machine_provisioned_since_the_last_form(twin: Twin, bpage: BrowserPage) -> None:
    """The Connectors view loads the machines for each form it opens, not once: a machine provisioned while the
    view is open is there to map the next time a form opens (it was missing until the page was reloaded)."""
    page = bpage.page
    bpage.goto(twin, "#/connectors", user="erin")  # an engineer: connectors are theirs to change
    option = "[data-testid=connector-form] [data-testid=conn-row-0-machine] option[value=boiler-e2e]"
    page.click("[data-testid=connector-new-opcua]")
    page.locator("[data-testid=conn-row-0-machine]").wait_for()
    assert page.locator(option).count() == 0
    page.locator("[data-testid=connector-form]").get_by_role("button", name="Close").click()
    assert twin.post("/profiles", PROFILE).status_code == 201
    try:
        assert twin.post("/machines", MACHINE).status_code == 201
        page.click("[data-testid=connector-new-opcua]")
        expect(page.locator(option)).to_have_count(1)
    finally:
        _delete(twin, "/machines/boiler-e2e")
        assert _delete(twin, "/profiles/e2e-boiler").status_code == 204
    assert bpage.errors == []
