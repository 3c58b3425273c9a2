"""Fan charts: running totals at whole hours over the horizon, their last point the horizon's totals."""

from __future__ import annotations

import numpy as np
import pytest

from factorytwin.layout import load_layout
from factorytwin.sim import Engine
from factorytwin.whatif.fan import fan_grid
from factorytwin.whatif.fork import Snapshot, fork
from factorytwin.whatif.plan import Plan, PlantFacts, check_plan
from factorytwin.whatif.run import run_whatif

LAYOUT = load_layout()
LINES = {m.id: m.line for m in LAYOUT.machines}


def test_the_grid_is_whole_hours_ending_at_the_horizon() -> None:
    assert fan_grid(6 * 3600.0) == [3600.0 * k for k in range(1, 7)]
    grid = fan_grid(14 * 86400.0)
    assert grid[-1] == 14 * 86400.0
    assert len(grid) == 12
    assert all(t % 3600.0 == 0.0 for t in grid)
    assert fan_grid(1800.0) == [1800.0]  # shorter than an hour: the horizon alone


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    """A plant with faults on the way, forked after a simulated hour."""
    engine = Engine(LAYOUT, seed=3, demo_faults=True)
    engine.step(60.0, 60)
    return fork(engine)


def test_fans_grow_and_end_at_the_horizon_totals(snapshot: Snapshot) -> None:
    facts = PlantFacts(lines=LINES, start=snapshot.taken_at, horizon_h=12.0)
    slow = check_plan(Plan.model_validate({"speeds": [{"line": "line-a", "speed_pct": 50, "start": 3 * 3600}]}), facts)
    result = run_whatif(snapshot, [("slow", slow)], check_plan(Plan(), facts), 10, workers=0, seed=4, chunk_runs=5)
    for outcome in (result.baseline, result.scenarios[0]):
        plant = outcome.plant.fan
        assert plant.t_h == [float(h) for h in range(1, 13)]
        for band in (plant.failures, plant.downtime_h, plant.output_h, plant.maintenance_cost):
            assert len(band.p50) == 12
            assert all(lo <= mid <= hi for lo, mid, hi in zip(band.p10, band.p50, band.p90, strict=True))
            assert np.all(np.diff(band.p90) >= -1e-9)  # running totals never fall
        # the last point is the horizon's: the median output of the runs lies in the 80 % interval of the totals
        assert outcome.plant.output_h.low <= plant.output_h.p50[-1] <= outcome.plant.output_h.high
        mill = next(m for m in outcome.machines if m.machine_id == "mill-01")
        assert mill.fan.t_h == plant.t_h
        assert mill.fan.output_h.p90[-1] <= plant.output_h.p90[-1]
    # half speed from hour 3 on: the same output until then (same seeds), less after
    base, slowed = result.baseline.plant.fan.output_h, result.scenarios[0].plant.fan.output_h
    assert slowed.p50[1] == pytest.approx(base.p50[1])
    assert slowed.p50[-1] < base.p50[-1]
