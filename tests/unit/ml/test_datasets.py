"""Training data: labels never become features, bad files are refused naming the column, labels look forward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.datasets import AI4I_MODE_FLAGS, TrainingDataError, label_time_to_event, prepare_table
from factorytwin.ml.timeseries import HistorySpec, prepare_history, prepare_run_to_failure


def test_ai4i_mode_flags_and_ids_are_never_features(ai4i_sample: pd.DataFrame) -> None:
    data = prepare_table(ai4i_sample, "Machine failure")
    forbidden = {*AI4I_MODE_FLAGS, "Machine failure", "UDI", "Product ID"}
    assert not forbidden & set(data.X.columns)
    assert {"torque", "tool_wear", "mech_power_w", "temp_diff", "overstrain_margin"} <= set(data.X.columns)
    assert data.mode is not None
    assert set(data.mode[data.y == 1]) - {""} <= set(AI4I_MODE_FLAGS.values())


def test_no_feature_is_a_copy_of_a_mode_flag(ai4i_sample: pd.DataFrame) -> None:
    data = prepare_table(ai4i_sample, "Machine failure")
    for flag in AI4I_MODE_FLAGS:
        labels = ai4i_sample[flag].to_numpy(dtype=float)
        for col in data.X.columns:
            assert not np.array_equal(data.X[col].to_numpy(), labels), (col, flag)


def test_missing_target_is_refused_naming_it() -> None:
    frame = pd.DataFrame({"torque": [1.0, 2.0], "failed": [0, 1]})
    with pytest.raises(TrainingDataError, match="'broken'") as info:
        prepare_table(frame, "broken")
    assert info.value.column == "broken"


def test_text_in_a_sensor_column_is_refused_naming_it() -> None:
    frame = pd.DataFrame({"torque": [1.0, "lots"], "failed": [0, 1]})
    with pytest.raises(TrainingDataError, match="'torque'") as info:
        prepare_table(frame, "failed")
    assert info.value.column == "torque"


def test_a_target_that_is_not_zero_or_one_is_refused() -> None:
    frame = pd.DataFrame({"torque": [1.0, 2.0], "failed": [0, 7]})
    with pytest.raises(TrainingDataError, match="'failed' must hold 0/1"):
        prepare_table(frame, "failed")


def test_labels_look_forward_and_censor_at_a_renewal() -> None:
    times = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    y, rul, keep = label_time_to_event(times, np.array([35.0]), np.array([]), 40.0, horizon=10.0)
    assert y.tolist() == [0, 0, 0, 1, 0]
    assert rul[:4].tolist() == [35.0, 25.0, 15.0, 5.0]
    assert np.isnan(rul[4])
    assert not keep[4]
    y, rul, keep = label_time_to_event(times, np.array([35.0]), np.array([25.0]), 40.0, horizon=10.0)
    assert np.isnan(rul[:3]).all()  # maintenance at 25 comes before the failure: censored
    assert keep[:2].all()
    assert not keep[2]


def test_run_to_failure_units_fail_at_their_last_cycle() -> None:
    frame = pd.DataFrame(
        {"unit": [1] * 5 + [2] * 4, "cycle": [1, 2, 3, 4, 5, 1, 2, 3, 4], "s1": np.arange(9, dtype=float)}
    )
    data, signals = prepare_run_to_failure(frame, "unit", "cycle", horizon=2, window=3)
    assert signals == ("s1",)
    assert data.rul is not None
    assert data.rul.tolist() == [4, 3, 2, 1, 0, 3, 2, 1, 0]
    assert data.y.tolist() == [0, 0, 1, 1, 1, 0, 1, 1, 1]
    assert data.X["age"].tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3]


def test_run_to_failure_needs_its_time_column() -> None:
    frame = pd.DataFrame({"unit": [1, 1], "t": [1, 2], "s1": [0.0, 1.0]})
    with pytest.raises(TrainingDataError, match="'cycle'"):
        prepare_run_to_failure(frame, "unit", "cycle", horizon=2)


def test_history_rows_are_labelled_by_the_next_failure(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    readings, events = history
    data = prepare_history(readings, events, HistorySpec(horizon_h=24.0))
    assert data.rul is not None
    assert data.mode is not None
    assert data.groups is not None
    fails = np.isfinite(data.rul)
    assert (data.y[fails] == (data.rul[fails] <= 24.0)).all()
    assert set(data.mode[data.y == 1]) == {"tool_wear", "overstrain"}
    assert (data.mode[data.y == 0] == "").all()
    assert len(set(data.groups)) == 4
    assert {"vibration__slope", "tool_wear__last", "hours_since_renewal", "kind"} <= set(data.X.columns)
