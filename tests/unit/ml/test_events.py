"""Event-level evaluation on hand-built score sequences: episodes, lead times, false alarms, baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.events import (
    Episode,
    alert_episodes,
    event_report,
    first_warning_lead,
    mode_vs_majority,
    rul_vs_constant,
)


def _scores(machine: str, alerts: str, step_h: float = 1.0, t0: float = 0.0) -> pd.DataFrame:
    """One machine's steps from a string: '1' alerting, '0' not, '.' not scored (a gap)."""
    rows = [(machine, t0 + i * step_h, c == "1") for i, c in enumerate(alerts) if c != "."]
    return pd.DataFrame(rows, columns=["machine_id", "t_h", "alert"])


def _failures(*rows: tuple[str, float, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["machine_id", "t_h", "mode"])


def test_consecutive_alerts_are_one_episode() -> None:
    s = _scores("m", "0011100110")
    eps = alert_episodes("m", s["t_h"].to_numpy(), s["alert"].to_numpy(), max_gap_h=1.5)
    assert eps == [Episode("m", 2.0, 4.0, 3), Episode("m", 7.0, 8.0, 2)]


def test_unscored_gap_splits_an_episode() -> None:
    s = _scores("m", "11..11")
    eps = alert_episodes("m", s["t_h"].to_numpy(), s["alert"].to_numpy(), max_gap_h=1.5)
    assert [(e.start_h, e.end_h) for e in eps] == [(0.0, 1.0), (4.0, 5.0)]


def test_unsorted_times_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        alert_episodes("m", np.array([2.0, 1.0]), np.array([True, True]), 1.5)


def test_lead_time_is_from_the_first_alert_within_the_horizon() -> None:
    alerts = np.array([1.0, 5.0, 6.0, 9.0])
    # horizon 4 h before a failure at 10: alerts at 6 and 9 count, the first gives the lead
    assert first_warning_lead(10.0, -np.inf, alerts, horizon_h=4.0) == 4.0
    # an alert before the previous failure (at 7) belongs to that one
    assert first_warning_lead(10.0, 7.0, alerts, horizon_h=4.0) == 1.0
    assert first_warning_lead(10.0, 9.5, alerts, horizon_h=4.0) is None


def test_report_counts_true_false_and_unjudged_episodes() -> None:
    # 100 scored hours; episode A (10-12) followed by a failure at 15 (horizon 6): true, lead 5 h;
    # episode B (40-41) with nothing within 6 h: false; episode C (97-99) runs into the end of data: unjudged
    alerts = ["0"] * 100
    for i in (10, 11, 12, 40, 41, 97, 98, 99):
        alerts[i] = "1"
    s = _scores("m1", "".join(alerts))
    f = _failures(("m1", 15.0, "tool_wear"), ("m1", 60.0, "random"))
    r = event_report(s, f, horizon_h=6.0, step_h=1.0, lead_h=2.0)
    assert (r.episodes, r.true_episodes, r.false_episodes, r.unjudged_episodes) == (3, 1, 1, 1)
    assert r.episode_precision == 0.5
    assert r.false_alarms_per_machine_month == pytest.approx(1 / (100 / 730))
    assert r.failures == 2
    assert r.predictable_failures == 1
    assert r.predictable_recall == 1.0
    assert r.per_mode["tool_wear"].lead_h_median == 5.0
    assert r.per_mode["random"].warned == 0
    assert r.alert_share == pytest.approx(0.08)


def test_a_warning_too_late_does_not_count_as_warned() -> None:
    s = _scores("m1", "0" * 13 + "11" + "0" * 20)  # alerts at 13 and 14, failure at 15: 2 h lead at best
    f = _failures(("m1", 15.0, "bearing"))
    assert event_report(s, f, horizon_h=6.0, step_h=1.0, lead_h=2.0).predictable_recall == 1.0
    assert event_report(s, f, horizon_h=6.0, step_h=1.0, lead_h=3.0).predictable_recall == 0.0


def test_failures_outside_the_scored_period_are_not_counted() -> None:
    s = _scores("m1", "0" * 10, t0=100.0)
    f = _failures(("m1", 50.0, "bearing"), ("m1", 101.0, "bearing"), ("m1", 105.0, "bearing"))
    r = event_report(s, f, horizon_h=6.0, step_h=1.0, lead_h=2.0)
    assert r.failures == 1  # 50 is before the scoring, 101 is less than the lead after its start
    assert r.predictable_recall == 0.0


def test_per_kind_summary_and_machine_months() -> None:
    s = pd.concat([_scores("a", "0" * 73), _scores("b", "1" + "0" * 72)], ignore_index=True)
    r = event_report(s, _failures(), horizon_h=6.0, step_h=10.0, kinds={"a": "mill", "b": "press"})
    assert r.machine_months == pytest.approx(2 * 73 * 10 / 730)
    assert r.per_kind["press"]["false_alarms_per_machine_month"] == pytest.approx(1.0)
    assert r.per_kind["mill"]["episode_precision"] is None


def test_rul_is_compared_with_the_constant_baseline() -> None:
    truth = np.array([10.0, 20.0, 30.0, np.nan])
    cmp = rul_vs_constant(truth, np.array([12.0, 18.0, 30.0, 5.0]), constant=20.0)
    assert cmp.rows == 3
    assert cmp.model == pytest.approx(4 / 3)
    assert cmp.baseline == pytest.approx(20 / 3)
    assert cmp.improvement == pytest.approx(0.8)


def test_mode_accuracy_is_compared_with_the_majority() -> None:
    truth = np.array(["wear", "wear", "bearing", "random", ""], dtype=object)
    pred = np.array(["wear", "bearing", "bearing", "random", "wear"], dtype=object)
    cmp = mode_vs_majority(truth, pred, majority="wear")
    assert cmp.rows == 4
    assert cmp.model == 0.75
    assert cmp.baseline == 0.5
    assert cmp.improvement == pytest.approx(0.25)


def test_an_alert_that_is_always_on_is_a_false_episode_per_life() -> None:
    # alerting from the start of each life: the failures at 30 and 70 come more than the horizon after the start
    s = _scores("m1", "1" * 30 + "." * 5 + "1" * 35 + "." * 5 + "0" * 30)
    f = _failures(("m1", 30.0, "tool_wear"), ("m1", 70.0, "tool_wear"))
    r = event_report(s, f, horizon_h=10.0, step_h=1.0, lead_h=2.0)
    assert (r.episodes, r.true_episodes, r.false_episodes) == (2, 0, 2)
    assert r.predictable_recall == 1.0  # both were warned, but the pages came too early to be right
