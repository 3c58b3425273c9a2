"""Choosing between the schedule and its variants: variants as plans, per-machine choice within capacity, the
oracle predictor's numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from factorytwin.ml.schedule import CostModel
from factorytwin.whatif.plan import Plan, VisitChange
from factorytwin.whatif.replicas import Tally
from factorytwin.whatif.select import choose, oracle_predictions, variants

START = datetime(2026, 1, 5, 6, tzinfo=UTC)
COST = CostModel()  # 8 technician hours per shift, 3 h per visit: 2 visits per shift
IDS = ["a", "b", "c", "d"]


def _visit(mid: str, shift: int) -> VisitChange:
    return VisitChange(action="add", machine_id=mid, at=START + timedelta(hours=8 * shift), hours=3.0)


def _schedule() -> Plan:
    return Plan(visits=[_visit("a", 0), _visit("b", 1), _visit("c", 1)], technicians=2)


def _costs(**per_option: Sequence[float]) -> dict[str, np.ndarray]:
    """Per option, the mean cost of each machine (a, b, c, d), as 4 identical runs plus a little spread."""
    spread = np.array([[-1.0], [1.0], [-1.0], [1.0]])
    return {o: np.array(v)[None, :] + spread for o, v in per_option.items()}


def test_variants_move_every_visit_a_shift_and_never_before_the_start() -> None:
    plans = variants(_schedule(), COST, START, horizon_h=120.0)
    assert [v.at for v in plans["earlier"].visits] == [START, START, START]
    assert [v.at for v in plans["later"].visits] == [START + timedelta(hours=h) for h in (8, 16, 16)]
    assert plans["drop"].visits == []
    assert plans["keep"].visits == _schedule().visits


def test_each_machine_gets_its_cheapest_option() -> None:
    plans = variants(_schedule(), COST, START, 120.0)
    costs = _costs(
        keep=[100, 100, 100, 50], earlier=[90, 100, 100, 50], later=[100, 100, 100, 50], drop=[100, 100, 20, 50]
    )
    plan, choices = choose(plans, costs, IDS, COST, START)
    by = {c.machine_id: c for c in choices}
    assert by["a"].option == "earlier"
    assert by["a"].gain == 10.0
    assert by["b"].option == "keep"
    assert by["b"].gain == 0.0
    assert by["c"].option == "drop"
    assert by["c"].gain == 80.0
    assert {v.machine_id: v.at for v in plan.visits} == {"a": START, "b": START + timedelta(hours=8)}
    assert "d" not in by  # not scheduled: not a choice


def test_a_move_into_a_full_shift_keeps_the_visit() -> None:
    schedule = Plan(visits=[_visit("a", 0), _visit("b", 0), _visit("c", 1)], technicians=2)
    plans = variants(schedule, COST, START, 120.0)
    costs = _costs(
        keep=[100, 100, 100, 0], earlier=[100, 100, 50, 0], later=[100, 100, 100, 0], drop=[100, 100, 100, 0]
    )
    plan, choices = choose(plans, costs, IDS, COST, START)
    assert {c.machine_id: c.option for c in choices}["c"] == "keep"  # shift 0 has its two visits already
    assert len(plan.visits) == 3
    assert plan.technicians == 2


def test_a_margin_of_standard_errors_keeps_a_noisy_gain_out() -> None:
    plans = variants(_schedule(), COST, START, 120.0)
    costs = _costs(keep=[100, 100, 100, 0], earlier=[99, 100, 100, 0], later=[100] * 3 + [0], drop=[100] * 3 + [0])
    costs["earlier"][:, 0] += np.array([-30.0, 30.0, -30.0, 30.0])  # mean gain 1, standard error ~17
    assert {c.machine_id: c.option for c in choose(plans, costs, IDS, COST, START)[1]}["a"] == "earlier"
    assert {c.machine_id: c.option for c in choose(plans, costs, IDS, COST, START, z=1.0)[1]}["a"] == "keep"


def test_oracle_predictions_read_the_first_failures_and_skip_machines_not_running() -> None:
    tally = Tally(replicas=4, machines=3, horizon_s=72 * 3600.0, t0=0.0)
    tally.first_failure_s[:, 0] = np.array([1.0, 2.0, 30.0, np.inf]) * 3600.0
    out = oracle_predictions(tally, ["a", "b", "c"], ["running", "running", "failed"], START)
    assert out[0].probability == 0.5
    assert out[0].horizon == 24.0
    assert out[0].rul is not None
    assert out[0].rul.low < 2.0
    assert out[1].probability == 0.0
    assert out[1].rul is None
    assert out[2].status == "failed"
    assert out[2].probability is None
