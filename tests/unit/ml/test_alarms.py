"""Per-kind alert thresholds for a false-alarm budget, on hand-built probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd

from factorytwin.ml.alarms import NEVER, RULE_SHAPES, kind_rules


def plain_thresholds(
    machine: np.ndarray,
    t_h: np.ndarray,
    prob: np.ndarray,
    kinds: dict[str, str],
    failures: pd.DataFrame,
    horizon_h: float,
    step_h: float,
    max_false_per_month: float = 1.0,
    min_failures: int = 5,
) -> dict[str, float]:
    """The ``on`` threshold per kind of ``kind_rules`` with its first shape only (no smoothing, no hysteresis)."""
    rules = kind_rules(
        machine,
        t_h,
        prob,
        kinds,
        failures,
        horizon_h,
        step_h,
        max_false_per_month,
        min_failures=min_failures,
        shapes=RULE_SHAPES[:1],
    )
    return {kind: rule.on for kind, rule in rules.items()}


def test_each_kind_gets_the_threshold_its_failures_allow() -> None:
    t = np.arange(0.0, 730.0)  # one machine-month per machine, hourly
    # the mill's probability climbs to 0.8 in the 6 h before each of its wear failures and sits at 0.3 otherwise
    mill_fail = np.array([100.0, 300.0, 500.0])
    mill_p = np.full(len(t), 0.3)
    for f in mill_fail:
        mill_p[(t >= f - 6) & (t < f)] = 0.8
    # the pump fails at random: its probability wanders, unrelated to its one failure
    pump_p = np.random.default_rng(0).uniform(0.0, 0.5, len(t))
    failures = pd.DataFrame(
        {
            "machine_id": ["mill-1"] * 3 + ["pump-1"],
            "t_h": [*mill_fail, 400.0],
            "mode": ["tool_wear"] * 3 + ["random"],
        }
    )
    thr = plain_thresholds(
        np.array(["mill-1"] * len(t) + ["pump-1"] * len(t)),
        np.concatenate([t, t]),
        np.concatenate([mill_p, pump_p]),
        {"mill-1": "cnc_mill", "pump-1": "pump"},
        failures,
        horizon_h=12.0,
        step_h=1.0,
        max_false_per_month=1.0,
        min_failures=3,
    )
    assert 0.3 < thr["cnc_mill"] <= 0.8  # above the background, at or below the warning level
    assert thr["pump"] == NEVER  # no predictable failure to warn: never page


def test_one_failure_is_no_basis_for_a_threshold() -> None:
    t = np.arange(0.0, 730.0)
    prob = np.full(len(t), 0.2)
    failures = pd.DataFrame({"machine_id": ["c-1"], "t_h": [400.0], "mode": ["belt_wear"]})
    # alerting all the time would "warn" the one belt failure at one false episode: not a threshold to keep
    thr = plain_thresholds(
        np.array(["c-1"] * len(t)), t, prob, {"c-1": "conveyor"}, failures, 24.0, 1.0, max_false_per_month=5.0
    )
    assert thr["conveyor"] == NEVER
