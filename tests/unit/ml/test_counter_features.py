"""Features relative to a counter's last reset (a tool-wear counter): detection from the data, values on a
hand-built machine, no look into the future, and the serving row equal to the training row."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.latest import latest_feature_row
from factorytwin.ml.timeseries import (
    HistorySpec,
    counter_feature_names,
    counter_resets,
    feature_matrix,
    find_counters,
    machine_features,
    renewal_times,
)

STEP_MS = 600_000  # a reading every 10 minutes
HOUR_MS = 3_600_000


def _machine(hours: int = 48, reset_every: int = 60, seed: int = 0) -> pd.DataFrame:
    """One machine: a counter rising 2 per reading and reset every ``reset_every`` readings, a torque that rises
    with it, a noisy temperature, a constant and a monotone count that never resets."""
    rng = np.random.default_rng(seed)
    n = hours * 6
    i = np.arange(n)
    counter = 2.0 * (i % reset_every)
    return pd.DataFrame(
        {
            "machine_id": "m1",
            "ts": i * STEP_MS,
            "tool_wear": counter,
            "torque": 40.0 + 0.05 * counter,
            "air_temp": 300.0 + rng.normal(0.0, 0.3, n),
            "power": np.full(n, 5.0),
            "oil_temp": i.astype("float64"),
        }
    )


def test_a_counter_with_resets_is_found_and_other_signals_are_not() -> None:
    wide = _machine()
    found = find_counters(wide, ["tool_wear", "torque", "air_temp", "power", "oil_temp", "absent"])
    # the torque follows the counter but never falls below half of its reading before: not reset, not a counter;
    # a monotone count without resets is not one either
    assert found == ("tool_wear",)


def test_a_counter_that_goes_down_between_resets_is_not_a_counter() -> None:
    wide = _machine()
    rng = np.random.default_rng(3)
    wide["tool_wear"] = wide["tool_wear"] + rng.normal(0.0, 1.0, len(wide))  # noisy: falls at half of the steps
    wide["tool_wear"] = wide["tool_wear"].clip(lower=0.0)
    assert find_counters(wide, ["tool_wear"]) == ()


def test_readings_while_not_operating_are_not_read_for_counters() -> None:
    wide = _machine().assign(status="running")
    down = wide.index[3::7]
    # a reading taken while down dips below the one before (not to a reset)
    wide.loc[down, "tool_wear"] = (wide.loc[down, "tool_wear"] - 3.0).clip(lower=0.0)
    wide.loc[down, "status"] = "maintenance"
    assert find_counters(wide, ["tool_wear"]) == ("tool_wear",)
    assert find_counters(wide.drop(columns="status"), ["tool_wear"]) == ()


def test_resets_are_the_first_readings_below_half_of_the_one_before() -> None:
    v = np.array([0.0, 5.0, 10.0, np.nan, 1.0, 3.0, 2.9, 0.2, 0.1])
    assert counter_resets(np.arange(len(v)), v).tolist() == [4, 7]


def test_features_since_the_last_reset_on_a_hand_built_machine() -> None:
    wide = _machine(hours=24, reset_every=60)  # a reset every 10 h: at 10 h and 20 h
    spec = HistorySpec(step_s=3600.0, window=12, signals=("tool_wear", "torque", "air_temp"), counters=("tool_wear",))
    values = {c: wide[c].to_numpy("float64") for c in ("tool_wear", "torque", "air_temp")}
    at, rows = feature_matrix(wide["ts"].to_numpy(), values, np.array([]), spec, "cnc_mill", "L")
    feats = pd.DataFrame(rows, columns=spec.feature_names(), index=at // HOUR_MS)
    row = feats.loc[16]  # the step ending at 16 h: the tool was changed at 10 h
    assert row["tool_wear__since_reset_h"] == pytest.approx(6.0)
    # the counter rose 2 per 10 minutes since, read up to the newest reading before the step's end (15:50)
    assert row["tool_wear__rate_h"] == pytest.approx(12.0)
    # torque = 40 + 0.05 x counter: 0.6 Nm per hour over the steps wholly after the change (11-16 h) ...
    assert row["torque__since_tool_wear_slope"] == pytest.approx(0.6)
    # ... and its mean there (the steps ending 11-16 h: counter means 5, 17, ... 65) minus its mean over the
    # window's steps wholly before the change (ending 5-10 h: the end of the previous tool, 53 ... 113)
    after = 40.0 + 0.05 * (12.0 * np.arange(0, 6) + 5.0)
    before = 40.0 + 0.05 * (12.0 * np.arange(4, 10) + 5.0)
    assert row["torque__since_tool_wear_shift"] == pytest.approx(after.mean() - before.mean())
    assert row["torque__since_tool_wear_shift"] < 0  # a new tool cuts with less torque than the worn one
    # the counter is not compared with itself
    assert "tool_wear__since_tool_wear_slope" not in feats.columns
    # no reset within the window's 12 h before the step's end at 9 h: unknown, and the slope is the window's
    assert np.isnan(feats.loc[9, "tool_wear__since_reset_h"])
    assert np.isnan(feats.loc[9, "torque__since_tool_wear_shift"])
    assert feats.loc[9, "torque__since_tool_wear_slope"] == pytest.approx(0.6)


def test_a_machine_without_the_counter_gets_missing_values_and_no_spec_no_columns() -> None:
    wide = _machine(hours=12).drop(columns="tool_wear")
    spec = HistorySpec(signals=("tool_wear", "torque"), counters=("tool_wear",))
    values = {"torque": wide["torque"].to_numpy("float64")}
    _, rows = feature_matrix(wide["ts"].to_numpy(), values, np.array([]), spec, "pump", None)
    names = spec.feature_names()
    assert np.isnan(rows[:, names.index("tool_wear__since_reset_h")]).all()
    assert np.isnan(rows[:, names.index("tool_wear__rate_h")]).all()
    assert HistorySpec().feature_names() == replace(HistorySpec(), counters=()).feature_names()
    assert not counter_feature_names((), HistorySpec().signals)


def test_counter_features_never_see_later_readings() -> None:
    wide = _machine(hours=36, reset_every=50)
    spec = HistorySpec(signals=("tool_wear", "torque", "air_temp"), counters=("tool_wear",))
    cols = ("tool_wear", "torque", "air_temp")
    _, before = feature_matrix(
        wide["ts"].to_numpy(), {c: wide[c].to_numpy("float64") for c in cols}, np.array([]), spec, None, None
    )
    changed = wide.copy()
    late = changed["ts"] >= 20 * HOUR_MS
    changed.loc[late, "tool_wear"] = 0.0  # a reset right at 20 h, and other values after it
    changed.loc[late, "torque"] = 1e6
    _, after = feature_matrix(
        changed["ts"].to_numpy(), {c: changed[c].to_numpy("float64") for c in cols}, np.array([]), spec, None, None
    )
    # rows up to the step ending at 20 h hold readings before 20 h only
    np.testing.assert_array_equal(before[:20], after[:20])
    assert not np.array_equal(before[20:], after[20:], equal_nan=True)


def test_serving_row_with_counter_features_equals_the_training_row(
    history: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    readings, events = history
    spec = replace(HistorySpec(), counters=find_counters(readings, HistorySpec().signals))
    assert spec.counters == ("tool_wear",)
    mill = readings[readings["machine_id"] == "mill-01"]
    renewals = renewal_times(events, "mill-01")
    for cut in (400, 1500, len(mill)):
        part = mill.iloc[:cut]
        expected = machine_features(part, renewals, spec, "cnc_mill", "L")[spec.feature_names()].iloc[-1]
        recent = part[part["ts"] > part["ts"].iloc[-1] - (spec.window + 2) * HOUR_MS]
        sensors = ("air_temp", "process_temp", "spindle_speed", "torque", "tool_wear", "vibration")
        values = {c: recent[c].to_numpy("float64") for c in sensors}
        status = recent["status"].to_numpy(object)
        served = latest_feature_row(recent["ts"].to_numpy(), values, renewals, spec, "cnc_mill", "L", status)
        np.testing.assert_allclose(served, expected.to_numpy("float64"), rtol=1e-9, atol=1e-9, equal_nan=True)
