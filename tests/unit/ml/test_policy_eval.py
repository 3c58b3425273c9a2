"""Policy replay: failures averted by timely visits, capacity limits, and sim snapshots for transfer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.policy_eval import Cycle, cycles_from_history, fixed_interval, never, predictive, replay
from factorytwin.ml.schedule import CostModel
from factorytwin.ml.transfer import prepare_snapshots

H = 3_600_000.0


def _cycle(mid: str, start_h: float, end_h: float, failed: bool = True) -> Cycle:
    ts = np.arange(start_h + 1, end_h, 1.0) * H
    prob = np.clip((ts / H - start_h) / (end_h - start_h), 0, 1)  # risk grows towards the failure
    return Cycle(mid, start_h * H, end_h * H, failed, not failed, ts, prob)


def test_run_to_failure_pays_every_failure() -> None:
    cycles = [_cycle("a", 0, 100), _cycle("b", 0, 50)]
    r = replay("rtf", cycles, never, CostModel())
    assert r.failures == 2
    assert r.visits == 0
    assert r.operating_h == 150
    assert r.cost == 2 * CostModel().failure_cost


def test_a_visit_before_the_failure_averts_it_and_gives_up_the_rest_of_the_life() -> None:
    r = replay("fixed", [_cycle("a", 0, 100)], fixed_interval(60), CostModel())
    assert r.failures == 0
    assert r.visits == 1
    assert r.cost == pytest.approx(CostModel().visit_cost * 100 / 60)  # a visit per 60 h of life, over 100 h
    late = replay("fixed", [_cycle("a", 0, 100)], fixed_interval(200), CostModel())
    assert late.failures == 1


def test_visits_wait_for_technician_hours() -> None:
    cost = CostModel(technician_hours_per_shift=3.0, pm_technician_h=3.0)  # one visit per shift
    cycles = [_cycle(m, 0, 12) for m in ("a", "b", "c")]
    r = replay("pred", cycles, predictive(0.3), cost)
    assert r.visits == 2  # all ask at 4 h: one now, one at the 8 h shift; the third fails at 12 h waiting
    assert r.failures == 1


def test_cycles_end_at_failures_and_restart_after_repair() -> None:
    events = pd.DataFrame(
        {"machine_id": ["a", "a", "a"], "ts": [10 * H, 12 * H, 30 * H], "event": ["failure", "repair", "failure"]}
    )
    dec = pd.DataFrame({"machine_id": "a", "ts": np.arange(1, 40) * H, "probability": 0.1})
    cycles = cycles_from_history(events, 0.0, 40 * H, dec)
    assert [(c.start / H, c.end / H, c.failed) for c in cycles] == [(0, 10, True), (12, 30, True), (30, 40, False)]
    assert len(cycles[1].ts) == 18


def test_simulator_snapshots_look_like_ai4i(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data = prepare_snapshots(*history, horizon_min=10.0)
    assert {"air_temp", "torque", "tool_wear", "mech_power_w", "overstrain_margin", "product_type"} <= set(data.X)
    assert int(data.y.sum()) == int((history[1]["event"] == "failure").sum())
