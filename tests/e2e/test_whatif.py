"""The what-if view in real headless Chromium: an operator is told the run needs the engineer role; an engineer
(here the admin) builds two scenarios, runs them against the baseline, follows the job's progress on the stream
and reads the results, the same figures the API returns; screenshots at desktop width and at 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserPage, Twin

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).parent.parent.parent / "docs" / "screenshots"
JOB_TIMEOUT_MS = 180_000
"""Two scenarios and the baseline, 20 runs of 6 h each, in worker processes on a loaded machine."""


def test_two_scenarios_run_against_the_baseline_and_show_their_results(twin: Twin, bpage: BrowserPage) -> None:
    page = bpage.page
    bpage.goto(twin, "#/whatif", user="olga")  # an operator may look but not run
    expect(page.locator("[data-testid=nav-whatif]")).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("[data-testid=whatif-run]")).to_be_disabled()
    expect(page.locator("[data-testid=whatif-denied]")).to_contain_text("needs the engineer role")

    bpage.goto(twin, "#/whatif", user="ada")
    page.reload()
    page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
    expect(page.locator("[data-testid=whatif-run]")).to_be_enabled()
    expect(page.locator("[data-testid=whatif-denied]")).to_have_count(0)

    # scenario 1: the first line at half speed; scenario 2: press-01 out of service
    page.fill("[data-testid=plan-0-name]", "line A at 50 %")
    page.click("[data-testid=plan-0-add-speed]")
    page.fill("[data-testid=plan-0-speed-pct-0]", "50")
    # a visit added in the form is a block on the timeline; moved there with the keyboard, the form row follows
    page.click("[data-testid=plan-0-add-visit]")
    page.fill("[data-testid=plan-0-visit-hours-0]", "2")
    at = page.locator("[data-testid=plan-0-visit-at-0]")
    start = int(float(at.input_value()))
    block = page.locator("[data-testid=plan-0-tl-visit-0]")
    block.focus()
    for _ in range(3):
        block.press("ArrowRight")
    expect(at).to_have_value(str(start + 3))
    expect(block).to_have_attribute("data-at", str(start + 3))
    # and with the mouse: dragged left by its own width (its 2 hours), it snaps 2 h earlier
    box = block.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] - box["width"] / 2, y, steps=5)
    page.mouse.up()
    expect(at).to_have_value(str(start + 1))
    page.click("[data-testid=whatif-add-plan]")
    page.fill("[data-testid=plan-1-name]", "press-01 off")
    page.click("[data-testid=plan-1-add-outage]")
    page.select_option("[data-testid=plan-1-outage-machine-0]", "press-01")
    page.fill("[data-testid=whatif-horizon]", "6")
    page.fill("[data-testid=whatif-runs]", "20")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/scenarios")) as posted:
        page.click("[data-testid=whatif-run]")
    body = posted.value.post_data_json
    assert body is not None
    sent = body["scenarios"][0]
    assert sent["visits"][0]["at"] == (start + 1) * 3600
    assert sent["visits"][0]["hours"] == 2
    assert sent["working_hours"] is None  # around the clock

    job = page.locator("[data-testid=whatif-job]")
    # while not done, it says so (pending / running with a percentage), never "done"
    expect(job).to_have_attribute("data-state", re.compile(r"^(queued|running|done)$"))
    # the state and its words read together (one evaluate): pending is shown as pending, running with its share
    state, words, shown = job.evaluate(
        "el => [el.dataset.state, el.querySelector('[data-testid=whatif-state]').textContent,"
        " document.querySelectorAll('[data-testid=whatif-results]').length]"
    )
    expected = {"queued": r"pending \(queued\)", "running": r"running \d+ %", "done": "done"}[state]
    assert re.fullmatch(expected, words), (state, words)
    assert state == "done" or shown == 0  # no results shown for a job not done
    expect(job).to_have_attribute("data-state", "done", timeout=JOB_TIMEOUT_MS)
    results = page.locator("[data-testid=whatif-results]")
    expect(results).to_be_visible(timeout=20_000)

    # the figures on screen are the job's own
    job_id = results.get_attribute("data-job")
    answer = twin.api(f"/scenarios/{job_id}").json()
    assert answer["state"] == "done"
    # the earlier-jobs menu is read again once the job is done: it does not go on saying "running"
    expect(page.locator(f"[data-testid=whatif-earlier] option[value='{job_id}']")).to_contain_text("· done")
    result = answer["result"]
    assert [s["name"] for s in result["scenarios"]] == ["line A at 50 %", "press-01 off"]
    outcomes = [result["baseline"], *result["scenarios"]]
    for i, outcome in enumerate(outcomes):
        row = page.locator(f"[data-testid=plant-failures-{i}]")
        expect(row).to_contain_text(outcome["name"])
        assert float(row.get_attribute("data-mean") or "nan") == pytest.approx(outcome["plant"]["failures"]["mean"])
        notes = page.locator(f"[data-testid=whatif-notes-{i}]")  # what was not done as asked, per scenario
        expect(notes).to_have_attribute("data-count", str(len(outcome.get("notes", []))))
    # fan charts of the plant: one point per hour of the 6 h horizon, drawn
    for quantity in ("failures", "downtime_h", "output_h", "maintenance_cost"):
        chart = page.locator(f"[data-testid=fan-plant-{quantity}]")
        expect(chart).to_have_attribute("data-points", str(len(result["baseline"]["plant"]["fan"]["t_h"])))
        expect(chart.locator("canvas")).to_have_count(1)
    assert result["baseline"]["plant"]["fan"]["t_h"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    differences = page.locator("[data-testid=whatif-differences]")
    expect(differences).to_contain_text("line A at 50 %")
    expect(differences).to_contain_text("press-01 off")
    for i, comparison in enumerate(result["comparisons"]):
        cell = page.locator(f"[data-testid=diff-{i}-output_h]")
        d = comparison["output_h"]
        verdict = "lower" if d["high"] < 0 else "higher" if d["low"] > 0 else "unclear"
        expect(cell).to_have_attribute("data-verdict", verdict)
    # half speed and a machine out of service both produce less than the baseline, in every paired run
    assert result["comparisons"][0]["output_h"]["high"] < 0
    assert result["comparisons"][1]["output_h"]["high"] < 0
    expect(page.locator("[data-testid=diff-1-output_h]")).to_have_attribute("data-verdict", "lower")

    # per machine: press-01 (out of service) never fails in its scenario; its survival curve is drawn
    page.click("[data-testid=whatif-machine-press-01]")
    survival = page.locator("[data-testid=whatif-survival]")
    expect(survival).to_have_attribute("data-machine", "press-01")
    expect(survival.locator("canvas")).to_have_count(1)
    expect(page.locator("[data-testid=fan-machine-output_h] canvas")).to_have_count(1)
    press = next(m for m in result["scenarios"][1]["machines"] if m["machine_id"] == "press-01")
    assert press["failures"]["high"] == 0.0
    assert press["time_to_failure"]["survival"][-1] == 1.0

    SHOTS.mkdir(parents=True, exist_ok=True)
    view = page.locator("[data-testid=whatif-view]")
    page.set_viewport_size({"width": 1600, "height": 2000})  # the view scrolls inside the shell: a tall window
    view.evaluate("el => el.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the charts follow the new size
    page.screenshot(path=str(SHOTS / "whatif.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = view.evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 1, f"the what-if view is {overflow} px wider than a 390 px phone"
    view.evaluate("el => el.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "whatif-390-plans.png"))
    results.scroll_into_view_if_needed()
    view.evaluate("el => el.scrollTo(0, document.querySelector('[data-testid=whatif-results]').offsetTop - 60)")
    page.screenshot(path=str(SHOTS / "whatif-390-results.png"))
    view.evaluate("el => el.scrollTo(0, document.querySelector('[data-testid=fan-plant-failures]').offsetTop - 10)")
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / "whatif-390-fan.png"))

    # after a reload the job is listed among the earlier ones and opens again with its results
    page.reload()
    page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)
    expect(page.locator("[data-testid=whatif-results]")).to_have_count(0)
    page.select_option("[data-testid=whatif-earlier]", job_id)
    expect(page.locator("[data-testid=whatif-results]")).to_have_attribute("data-job", job_id or "")
    expect(page.locator("[data-testid=whatif-state]")).to_have_text("done")
    assert not bpage.errors, bpage.errors
