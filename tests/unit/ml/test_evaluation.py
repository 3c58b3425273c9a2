"""A history model scored step by step on data it never saw, and out-of-fold event figures on its card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factorytwin.ml.datasets import TrainingDataError, prepare_table
from factorytwin.ml.evaluation import evaluate_history, score_history
from factorytwin.ml.synthetic import synthetic_history
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, cross_validate, fit_bundle

FAST = TrainConfig(n_estimators=40, inner_folds=3)
SPEC = HistorySpec(step_s=3600.0, window=6, horizon_h=24.0)


def _spec_dict() -> dict[str, object]:
    return {"step_s": SPEC.step_s, "window": SPEC.window, "horizon_h": SPEC.horizon_h, "signals": list(SPEC.signals)}


def test_a_history_model_is_judged_by_episodes_on_another_seed(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bundle = fit_bundle(prepare_history(*history, SPEC), FAST, spec=_spec_dict())
    assert bundle.spec["baselines"]["mode_majority"] in {"tool_wear", "overstrain"}
    readings, events = synthetic_history(machines=2, days=20.0, seed=5)
    scores = score_history(bundle, readings, events)
    # every operating hour of both machines is scored, not only those whose horizon is observed
    assert set(scores["machine_id"]) == {"mill-01", "mill-02"}
    assert len(scores) > 2 * 20 * 24 * 0.8
    ev = evaluate_history(bundle, readings, events)
    assert ev.events.failures == int((events["event"] == "failure").sum())
    # the synthetic wear is plainly visible: the model warns most tool-wear failures and beats the baselines
    assert ev.events.predictable_recall is not None
    assert ev.events.predictable_recall >= 0.5
    assert ev.rul.improvement is not None
    assert ev.rul.improvement > 0.0
    assert ev.events.episodes >= 1


def test_a_table_model_cannot_be_scored_on_history(
    ai4i_sample: pd.DataFrame, history: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    bundle = fit_bundle(prepare_table(ai4i_sample, "Machine failure"), FAST)
    with pytest.raises(TrainingDataError, match="cannot be scored on machine history"):
        score_history(bundle, *history)


def test_cross_validation_reports_out_of_fold_episodes(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    metrics = cross_validate(prepare_history(*history, SPEC), folds=2, cfg=FAST)
    events = metrics["events"]
    assert events["machines"] == 4
    assert events["episodes"] == events["true_episodes"] + events["false_episodes"] + events["unjudged_episodes"]
    assert 0.0 <= events["predictable_recall"] <= 1.0
    assert set(metrics["mode_vs_majority"]) >= {"model", "baseline", "improvement"}
    assert np.isfinite(metrics["rul_vs_median"]["baseline"])
