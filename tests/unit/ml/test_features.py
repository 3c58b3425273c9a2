"""Physics and windowed features: values, and that no feature looks into the future."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.features import KIND_CODES, add_physics_features, encode_kind, resample_machine, window_features


def test_physics_features_follow_the_documented_mechanisms() -> None:
    frame = pd.DataFrame(
        {
            "air_temp": [300.0],
            "process_temp": [308.0],
            "spindle_speed": [1200.0],
            "torque": [50.0],
            "tool_wear": [250.0],
            "product_type": ["M"],
        }
    )
    out = add_physics_features(frame).iloc[0]
    assert out["temp_diff"] == pytest.approx(8.0)
    assert out["mech_power_w"] == pytest.approx(50.0 * 1200.0 * 2 * math.pi / 60)
    assert out["wear_torque"] == pytest.approx(12_500.0)
    assert out["overstrain_margin"] == pytest.approx(500.0)  # the M limit is 12,000 min*Nm
    assert out["heat_margin"] < 0  # dT < 8.6 K and rpm < 1380: heat cannot be carried away
    assert out["product_type"] == 1.0


def test_unknown_product_type_gives_missing_not_a_guess() -> None:
    out = add_physics_features(pd.DataFrame({"tool_wear": [10.0], "torque": [5.0], "product_type": ["X"]}))
    assert np.isnan(out["product_type"].iloc[0])
    assert np.isnan(out["overstrain_margin"].iloc[0])


def test_window_slope_of_a_line_is_its_gradient() -> None:
    grid = pd.DataFrame({"x": np.arange(20, dtype=float) * 0.5 + 3})
    feats = window_features(grid, ["x"], window=5)
    assert feats["x__slope"].iloc[10] == pytest.approx(0.5)
    assert feats["x__mean"].iloc[10] == pytest.approx(grid["x"].iloc[6:11].mean())
    assert feats["x__last"].iloc[10] == pytest.approx(grid["x"].iloc[10])


def test_window_features_never_see_later_rows() -> None:
    rng = np.random.default_rng(1)
    grid = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    before = window_features(grid, ["x", "y"], window=6)
    changed = grid.copy()
    changed.loc[30:, ["x", "y"]] = 1e6
    after = window_features(changed, ["x", "y"], window=6)
    pd.testing.assert_frame_equal(before.iloc[:30], after.iloc[:30])


def test_resampled_bins_are_labelled_by_their_end() -> None:
    wide = pd.DataFrame({"ts": [0, 1_000, 3_600_000, 3_600_500], "x": [1.0, 3.0, 10.0, 20.0]})
    grid = resample_machine(wide, ["x"], 3600.0)
    assert grid["ts"].tolist() == [3_600_000, 7_200_000]
    assert grid["x"].tolist() == [2.0, 15.0]


def test_serving_row_from_the_recent_window_equals_the_training_row_from_the_whole_history(
    history: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    from factorytwin.ml.latest import latest_feature_row
    from factorytwin.ml.timeseries import HistorySpec, machine_features, renewal_times

    readings, events = history
    spec = HistorySpec()
    mill = readings[readings["machine_id"] == "mill-02"].copy()
    mill.loc[mill.index[-5:], "vibration"] = np.nan  # a sensor that skipped a few reports
    renewals = renewal_times(events, "mill-02")
    for cut in (300, 1200, len(mill)):
        part = mill.iloc[:cut]
        # training: every row of the history so far; serving: only what the server reads (the window + 2 steps)
        slow = machine_features(part, renewals, spec, "cnc_mill", "L")
        expected = slow[spec.feature_names()].iloc[-1].to_numpy("float64")
        recent = part[part["ts"] > part["ts"].iloc[-1] - (spec.window + 2) * 3_600_000]
        values = {
            c: recent[c].to_numpy("float64")
            for c in recent.columns
            if c not in {"machine_id", "kind", "ts", "status", "product_type"}
        }
        status = recent["status"].to_numpy(object) if "status" in recent else None
        fast = latest_feature_row(recent["ts"].to_numpy(), values, renewals, spec, "cnc_mill", "L", status)
        np.testing.assert_allclose(fast, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_an_encoded_kind_survives_a_second_encoding() -> None:
    # machine_features' rows carry the kind as its code; the bundle encodes its input again before predicting:
    # the code must stay a code, not turn into "unknown" (which made every machine look alike)
    names = pd.Series(["cnc_mill", "pump", "unheard-of"])
    once = encode_kind(names)
    assert once.iloc[0] == KIND_CODES["cnc_mill"]
    assert math.isnan(once.iloc[2])
    twice = encode_kind(once)
    assert twice.iloc[:2].tolist() == once.iloc[:2].tolist()
