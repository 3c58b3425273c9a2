"""The maintenance planner: who gets a visit, when, within capacity, and what it costs against other policies."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.ml.schedule import CostModel, failure_cdf, hazard, plan_maintenance
from factorytwin.ml.schema import Prediction

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _pred(mid: str, p: float, age: float | None = None) -> Prediction:
    return Prediction(machine_id=mid, probability=p, horizon=24.0, hours_since_service=age)


def test_hazard_reproduces_the_probability_over_the_horizon() -> None:
    assert failure_cdf(hazard(0.3, 24.0), 24.0) == pytest.approx(0.3)


def test_risky_machines_get_a_visit_and_healthy_ones_do_not() -> None:
    plan = plan_maintenance([_pred("a", 0.6), _pred("b", 0.001), _pred("c", 0.2)], CostModel(), NOW)
    visited = {t.machine_id for t in plan.tasks}
    assert "a" in visited
    assert "b" not in visited
    first = min(plan.tasks, key=lambda t: t.shift_index)
    assert first.machine_id == "a"
    assert first.shift_index == 0


def test_visits_stay_within_technician_hours() -> None:
    cost = CostModel(technician_hours_per_shift=6.0, pm_technician_h=3.0)
    plan = plan_maintenance([_pred(f"m{i}", 0.9) for i in range(7)], cost, NOW)
    per_shift: dict[int, float] = {}
    for t in plan.tasks:
        per_shift[t.shift_index] = per_shift.get(t.shift_index, 0.0) + t.hours
    assert all(h <= 6.0 for h in per_shift.values())
    assert len(plan.tasks) == 7  # nine 8-hour shifts in 72 h hold 18 visits


def test_plan_costs_less_than_running_to_failure() -> None:
    preds = [_pred("a", 0.7, 300), _pred("b", 0.05, 100), _pred("c", 0.4, 480)]
    plan = plan_maintenance(preds, CostModel(), NOW)
    cost = {p.policy: p.expected_cost for p in plan.policies}
    assert cost["predictive"] < cost["run_to_failure"]
    assert cost["predictive"] <= cost["fixed_interval"]


def test_no_predictions_no_tasks() -> None:
    plan = plan_maintenance([Prediction(status="no_data", machine_id="a")], CostModel(), NOW)
    assert plan.tasks == []
    assert all(p.expected_cost == 0 for p in plan.policies)


def test_shifts_follow_the_plant_calendar_and_stay_put_across_refreshes() -> None:
    preds = [_pred("a", 0.6), _pred("b", 0.3)]
    first = plan_maintenance(preds, CostModel(), datetime(2026, 3, 1, 9, 17, tzinfo=UTC))
    again = plan_maintenance(preds, CostModel(), datetime(2026, 3, 1, 9, 52, tzinfo=UTC))
    starts = [t.shift_start for t in first.tasks]
    assert starts == [t.shift_start for t in again.tasks]
    assert {s.hour for s in starts} <= {6, 14, 22}
    assert all(s.minute == 0 for s in starts)
    assert first.tasks[0].shift_start == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # the shift under way


def test_a_compressed_simulator_plans_in_machine_time() -> None:
    now = datetime(2026, 3, 1, 9, 17, 30, tzinfo=UTC)
    plan = plan_maintenance([_pred(f"m{i}", 0.9) for i in range(6)], CostModel(), now, time_scale=60.0)
    starts = sorted({t.shift_start for t in plan.tasks})
    gaps = {round((b - a).total_seconds(), 6) for a, b in itertools.pairwise(starts)}
    assert gaps == {8 * 60.0}  # 8 machine hours are 8 wall minutes at 60x
    for start in starts:  # on the calendar, in machine hours: 06:00 + k x 8 h
        machine_h = start.timestamp() / 3600 * 60.0
        assert (machine_h - 6.0) % 8.0 == pytest.approx(0.0, abs=1e-6)
    assert now - timedelta(minutes=8) < starts[0] < now + timedelta(minutes=8)
    assert plan.horizon_h <= 72.0


def test_failed_or_maintained_machines_get_no_visit() -> None:
    down = [
        Prediction(status="failed", machine_id="f", failure_mode="bearing", horizon=24.0),
        Prediction(status="maintenance", machine_id="m", horizon=24.0),
    ]
    plan = plan_maintenance([*down, _pred("a", 0.6)], CostModel(), NOW)
    assert {t.machine_id for t in plan.tasks} == {"a"}
