"""The training pipeline on small data: calibrated probabilities, honest CV, every head."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.datasets import prepare_table
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, cross_validate, fit_bundle, reliability

FAST = TrainConfig(n_estimators=60, inner_folds=3)


@pytest.fixture(scope="module")
def ai4i_cv(ai4i_sample: pd.DataFrame) -> dict[str, object]:
    return cross_validate(prepare_table(ai4i_sample, "Machine failure"), folds=3, cfg=FAST)


def test_cross_validated_failure_model_separates_failures(ai4i_cv: dict[str, object]) -> None:
    assert isinstance(ai4i_cv["roc_auc"], float)
    assert ai4i_cv["roc_auc"] > 0.9
    assert isinstance(ai4i_cv["f1"], float)
    assert ai4i_cv["f1"] > 0.7
    assert ai4i_cv["folds"] == 3


def test_out_of_fold_probabilities_are_reliable(ai4i_cv: dict[str, object]) -> None:
    table = ai4i_cv["reliability"]
    assert isinstance(table, list)
    for row in table:
        assert 0.0 <= row["predicted"] <= 1.0
        if row["count"] >= 100:  # bins with enough rows: predicted frequency near the observed one
            assert abs(row["predicted"] - row["observed"]) < 0.1, row
    assert isinstance(ai4i_cv["ece"], float)
    assert ai4i_cv["ece"] < 0.05


def test_bundle_probabilities_lie_in_the_unit_interval(ai4i_sample: pd.DataFrame) -> None:
    data = prepare_table(ai4i_sample, "Machine failure")
    bundle = fit_bundle(data, FAST)
    prob = bundle.predict_matrix(data.X.to_numpy("float64"))["probability"]
    assert prob.min() >= 0.0
    assert prob.max() <= 1.0
    assert 0.0 < bundle.threshold < 1.0
    assert bundle.mode is not None
    assert "overstrain" in bundle.mode_classes
    assert bundle.rul is None  # a per-sample table has no time to failure


def test_reasons_name_the_features_that_push_hardest(ai4i_sample: pd.DataFrame) -> None:
    data = prepare_table(ai4i_sample, "Machine failure")
    bundle = fit_bundle(data, FAST)
    worst = int(np.argmax(data.X["overstrain_margin"].to_numpy()))
    pred = bundle.predictions(data.X.to_numpy("float64")[[worst]], reasons=3)[0]
    assert pred.probability is not None
    assert pred.probability > 0.5
    assert len(pred.reasons) == 3
    assert abs(pred.reasons[0].contribution) >= abs(pred.reasons[-1].contribution)
    assert pred.reasons[0].feature in data.X.columns


def test_history_bundle_has_rul_interval_and_mode(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data = prepare_history(*history, HistorySpec(horizon_h=24.0))
    bundle = fit_bundle(data, FAST)
    assert bundle.rul is not None
    assert bundle.mode_classes == ["overstrain", "tool_wear"]
    # the age is known from a machine's first renewal on (before it, the history does not say how old it is)
    aged = data.X[data.X["hours_since_renewal"].notna()].to_numpy("float64")[:50]
    preds = bundle.predictions(aged, reasons=2)
    assert len(preds) == 50
    for p in preds:
        assert p.rul is not None
        assert 0.0 <= p.rul.low <= p.rul.median <= p.rul.high
        assert p.likely_mode in {"overstrain", "tool_wear"}
        assert p.hours_since_service is not None


def test_reliability_table_counts_every_row() -> None:
    y = np.array([0, 0, 1, 1])
    table = reliability(y, np.array([0.05, 0.15, 0.85, 0.95]))
    assert sum(r["count"] for r in table) == 4
