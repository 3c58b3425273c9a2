"""Monte-Carlo what-if: plans change what happens, results come with intervals, the pool gives the same answers."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from factorytwin.layout import load_layout
from factorytwin.sim import Engine
from factorytwin.whatif.fork import Snapshot, fork
from factorytwin.whatif.plan import Plan, PlantFacts, Timetable, check_plan
from factorytwin.whatif.run import Cancelled, difference, run_tallies, run_whatif, spread, time_to_failure

LAYOUT = load_layout()
LINES = {m.id: m.line for m in LAYOUT.machines}


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    """The default plant with demo faults (mill-01 near a tool failure), ten simulated minutes in."""
    engine = Engine(LAYOUT, seed=2, demo_faults=True)
    engine.step(60.0, 10)
    return fork(engine)


def _table(snapshot: Snapshot, plan: dict[str, object], hours: float = 24.0) -> Timetable:
    return check_plan(Plan.model_validate(plan), PlantFacts(lines=LINES, start=snapshot.taken_at, horizon_h=hours))


def test_a_plan_that_stops_a_machine_yields_zero_failures_of_it(snapshot: Snapshot) -> None:
    stop = _table(snapshot, {"out_of_service": [{"machine_id": "mill-01"}]})
    result = run_whatif(snapshot, [("stop mill-01", stop)], _table(snapshot, {}), 8, workers=0, seed=1)
    base = {m.machine_id: m for m in result.baseline.machines}["mill-01"]
    stopped = {m.machine_id: m for m in result.scenarios[0].machines}["mill-01"]
    assert base.failures.mean > 0  # it would have failed
    assert stopped.failures == stopped.failures.model_copy(update={"mean": 0.0, "low": 0.0, "high": 0.0})
    assert stopped.running_h.high == 0.0
    assert stopped.time_to_failure.p_failure == 0.0
    assert stopped.time_to_failure.survival[-1] == 1.0
    assert result.comparisons[0].machine_failures["mill-01"].mean == -base.failures.mean


def test_speed_and_visits_of_the_plan_reach_the_machines(snapshot: Snapshot) -> None:
    slow = _table(snapshot, {"speeds": [{"line": "line-b", "speed_pct": 50}]})
    visit = _table(snapshot, {"visits": [{"action": "add", "machine_id": "press-01", "at": "PT2H", "hours": 3}]})
    base, slowed, visited = run_tallies(snapshot, [_table(snapshot, {}), slow, visit], 4, workers=0, seed=3)
    press = list(LINES).index("press-01")
    assert slowed.output_s[:, press].mean() < 0.6 * base.output_s[:, press].mean()
    assert (visited.visits[:, press] == 1).all()
    assert (visited.downtime_s[:, press] >= 3 * 3600.0).all()


def test_worker_processes_give_the_same_answer_as_in_process_and_tell_progress(snapshot: Snapshot) -> None:
    tables = [_table(snapshot, {}, hours=6.0)]
    seen: list[float] = []
    pooled = run_tallies(snapshot, tables, 6, workers=1, chunk_runs=3, seed=4, progress=seen.append)[0]
    local = run_tallies(snapshot, tables, 6, workers=0, chunk_runs=3, seed=4)[0]
    assert seen == [0.5, 1.0]
    np.testing.assert_array_equal(pooled.failures, local.failures)
    np.testing.assert_array_equal(pooled.running_s, local.running_s)


def test_a_cancelled_job_stops_and_says_so(snapshot: Snapshot) -> None:
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        run_tallies(
            snapshot,
            [_table(snapshot, {}, hours=6.0)],
            9,
            workers=0,
            chunk_runs=3,
            progress=lambda _: cancel.set(),
            cancel=cancel,
        )


def test_spreads_differences_and_time_to_failure() -> None:
    s = spread(np.arange(11.0))
    assert (s.mean, s.low, s.high) == (5.0, 1.0, 9.0)
    d = difference(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 2.0, 2.0]))
    assert d.mean == 0.5
    assert d.low < 0.5 < d.high
    assert d.p_lower == 0.25
    ttf = time_to_failure(np.array([3600.0, 7200.0, np.inf, np.inf]), 4 * 3600.0)
    assert ttf.p_failure == 0.5
    assert (ttf.p10_h, ttf.p50_h, ttf.p90_h) == (1.0, 2.0, None)
    assert ttf.survival[-1] == 0.5


def test_a_visit_outside_the_working_hours_is_simulated_when_they_begin(snapshot: Snapshot) -> None:
    start = snapshot.taken_at
    hours = {"from_hour": (start.hour + 3) % 24, "to_hour": (start.hour + 5) % 24}  # opens in 3 h
    plan: dict[str, object] = {
        "visits": [{"action": "add", "machine_id": "press-01", "at": "PT1H", "hours": 1}],
        "working_hours": hours,
    }
    table = _table(snapshot, plan, hours=6.0)
    assert table.added_visits[0][0] > 2.5 * 3600.0
    result = run_whatif(snapshot, [("late visit", table)], _table(snapshot, {}, hours=6.0), 4, workers=0, seed=1)
    (outcome,) = result.scenarios
    assert outcome.notes
    assert "outside the working hours" in outcome.notes[0]
    press = {m.machine_id: m for m in outcome.machines}["press-01"]
    assert press.maintenance_visits.low >= 1.0
    assert press.fan.t_h[0] == 1.0
    assert press.fan.downtime_h.p50[1] == 0.0  # nothing before the working hours begin (points at 1 h, 2 h, ...)
