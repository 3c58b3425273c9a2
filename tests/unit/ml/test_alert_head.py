"""The optional alert head (``ml.alert_head``): its labels, that rules and serving threshold its score, and that
it survives the model file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from factorytwin.ml.alert_head import alert_labels
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.evaluation import score_history
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle


def test_labels_are_predictable_failures_within_the_alert_horizon(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data = prepare_history(*history, HistorySpec(horizon_h=24.0))
    rows = np.arange(len(data.y))
    ya = alert_labels(data, rows, 6.0)
    assert ya is not None
    assert data.rul is not None
    assert data.mode is not None
    want = (data.y == 1) & (data.rul <= 6.0) & (data.mode == "tool_wear")  # overstrain is not predictable
    assert np.array_equal(ya.astype(bool), want)
    assert 0 < ya.sum() < data.y.sum()
    assert alert_labels(data, rows, 0.0) is None


def test_the_head_drives_alerts_offline_and_after_a_round_trip(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    spec = HistorySpec(horizon_h=24.0)
    data = prepare_history(*history, spec)
    meta = {"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h, "signals": list(spec.signals)}
    cfg = TrainConfig(n_estimators=30, inner_folds=2, max_false_alarms_per_month=50.0, alert_horizon_h=6.0)
    bundle = fit_bundle(data, cfg, spec=meta)
    assert bundle.alert_head is not None
    assert bundle.spec["alert_horizon_h"] == 6.0
    X = data.X.to_numpy("float64")[:50]
    prob = bundle.predict_matrix(X)["probability"]
    score = bundle.alert_score(X, prob)
    assert not np.allclose(score, prob)  # the rules threshold the head's score, not the risk
    again = ModelBundle.from_json(bundle.to_json())
    assert again.alert_head is not None
    assert np.array_equal(again.alert_score(X, prob), score)
    a, b = score_history(bundle, *history), score_history(again, *history)
    assert a["alert"].tolist() == b["alert"].tolist()
    off = fit_bundle(data, TrainConfig(n_estimators=30, inner_folds=2), spec=meta)
    assert off.alert_head is None
    assert "alert_horizon_h" not in off.spec
    assert np.array_equal(off.alert_score(X, prob), prob)
