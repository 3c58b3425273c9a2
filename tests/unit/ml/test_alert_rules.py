"""Alert rules on a smoothed risk with hysteresis (``ml.alarms``), on hand-built probability sequences."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd

from factorytwin.ml.alarms import AlertRule, kind_rules, sequence_alerts, smoothed_risk
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.evaluation import event_summary
from factorytwin.ml.events import alert_episodes

NO_AGE = np.full(12, np.nan)


def test_a_flickering_probability_is_one_episode_under_hysteresis_and_many_without() -> None:
    t = np.arange(12.0)
    prob = np.array([0.1, 0.1, 0.55, 0.45, 0.6, 0.42, 0.58, 0.44, 0.2, 0.1, 0.1, 0.1])
    plain = sequence_alerts(t, prob, NO_AGE, AlertRule(on=0.5), 1.0)
    held = sequence_alerts(t, prob, NO_AGE, AlertRule(on=0.5, off=0.4, hold=3), 1.0)
    assert len(alert_episodes("m", t, plain, 1.5)) == 3
    assert held.tolist() == [False, False] + [True] * 6 + [False] * 4  # raised at 0.55, cleared at 0.2
    assert len(alert_episodes("m", t, held, 1.5)) == 1


def test_hold_is_bounded_so_a_server_needs_only_the_last_steps() -> None:
    t = np.arange(10.0)
    prob = np.array([0.6] + [0.45] * 9)  # raised once, then just above the clearing level for ever
    alerts = sequence_alerts(t, prob, np.full(10, np.nan), AlertRule(on=0.5, off=0.4, hold=3), 1.0)
    assert alerts.tolist() == [True] * 4 + [False] * 6
    assert AlertRule(on=0.5, off=0.4, smooth=3, hold=3).lookback_steps == 5


def test_smoothing_is_a_mean_over_steps_of_time_within_one_life() -> None:
    t = np.array([0.0, 1.0, 2.0, 6.0, 7.0, 8.0])  # the machine was down 3 h between steps 2 and 6
    prob = np.array([0.9, 0.3, 0.6, 0.0, 0.3, 0.9])
    age = np.array([10.0, 11.0, 12.0, 13.0, 0.5, 1.5])  # renewed at 6.5 h
    s = smoothed_risk(t, prob, age, 3, 1.0)
    np.testing.assert_allclose(s, [0.9, 0.6, 0.6, 0.0, 0.3, 0.6])
    # a high risk before a repair does not hold the alert on after it
    alerts = sequence_alerts(t, np.array([0.9, 0.9, 0.9, 0.9, 0.1, 0.1]), age, AlertRule(0.5, 0.05, 1, 5), 1.0)
    assert alerts.tolist() == [True, True, True, True, False, False]


def test_the_rule_chosen_for_flickering_risks_merges_the_episodes_within_the_budget() -> None:
    t = np.arange(0.0, 730.0)  # one machine-month per mill, hourly
    rng = np.random.default_rng(1)
    rows: list[pd.DataFrame] = []
    fails = []
    for m in range(4):
        failures = np.arange(60.0 + 7 * m, 730.0, 80.0)
        prob = rng.uniform(0.0, 0.45, len(t))
        for f in failures:
            near = (t >= f - 10) & (t < f)
            # before each failure the risk rises but flickers: every other hour back below the plain threshold
            prob[near] = np.where(np.arange(near.sum()) % 2 == 0, 0.7, 0.3)
        rows.append(pd.DataFrame({"machine_id": f"mill-{m}", "t_h": t, "prob": prob}))
        fails.append(pd.DataFrame({"machine_id": f"mill-{m}", "t_h": failures, "mode": "tool_wear"}))
    frame = pd.concat(rows, ignore_index=True)
    failures = pd.concat(fails, ignore_index=True)
    args = (
        frame["machine_id"].to_numpy(),
        frame["t_h"].to_numpy(),
        frame["prob"].to_numpy(),
        {f"mill-{m}": "cnc_mill" for m in range(4)},
        failures,
        12.0,
        1.0,
    )
    plain = kind_rules(*args, max_false_per_month=1.0, shapes=((1, 0, 1.0),))["cnc_mill"]
    chosen = kind_rules(*args, max_false_per_month=1.0)["cnc_mill"]
    assert chosen.smooth > 1 or chosen.hold > 0  # a shape that looks back
    for rule in (plain, chosen):
        assert 0.3 < rule.on <= 0.7

    def episodes(rule: AlertRule) -> int:
        flags = [
            sequence_alerts(t, g["prob"].to_numpy(), np.full(len(t), np.nan), rule, 1.0)
            for _, g in frame.groupby("machine_id")
        ]
        return sum(len(alert_episodes("m", t, a, 1.5)) for a in flags)

    assert episodes(chosen) == len(failures)  # one episode per coming failure, none in between
    assert episodes(plain) >= 3 * len(failures)  # the plain threshold pages at every flicker


def _tiny_bundle() -> ModelBundle:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 3, "min_child_samples": 5}
    booster = lgb.train(params, lgb.Dataset(X, label=y, feature_name=["x", "hours_since_renewal", "kind"]), 5)
    return ModelBundle(
        features=["x", "hours_since_renewal", "kind"],
        failure=booster,
        calibration_x=np.array([0.0, 1.0]),
        calibration_y=np.array([0.0, 1.0]),
        threshold=0.5,
        shape="history",
        spec={"step_s": 3600.0},
        kind_rules={"cnc_mill": AlertRule(on=0.6, off=0.3, smooth=3, hold=6)},
    )


def test_rules_round_trip_through_the_model_file_and_old_files_load_as_plain_thresholds() -> None:
    bundle = _tiny_bundle()
    again = ModelBundle.from_json(bundle.to_json())
    assert again.kind_rules == bundle.kind_rules
    assert again.alert_lookback_steps == 8
    doc = json.loads(bundle.to_json())
    del doc["kind_rules"]  # a model stored before the rules
    old = ModelBundle.from_json(json.dumps(doc))
    assert old.kind_rules == {"cnc_mill": AlertRule(on=0.6)}
    assert old.alert_lookback_steps == 0


def test_the_card_names_each_kinds_rule() -> None:
    text = event_summary(
        {
            "thresholds_by_kind": {"cnc_mill": 0.41, "pump": 1.01},
            "alert_rules_by_kind": {
                "cnc_mill": AlertRule(on=0.41, off=0.29, smooth=3, hold=6).to_dict(),
                "pump": AlertRule(on=1.01).to_dict(),
            },
        }
    )
    assert "cnc_mill mean of 3 steps, raise 0.41, hold >= 0.29 up to 6 steps" in text
    assert "never alert" in text
    assert "pump mean" not in text
