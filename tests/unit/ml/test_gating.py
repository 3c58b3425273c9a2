"""Model gating: a new model becomes active only if it beats chance (first) or the active model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from factorytwin.cli import app
from factorytwin.ml.pipeline import gate
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.schema import ModelCard


def _card(version: str, **metrics: Any) -> ModelCard:
    return ModelCard(
        version=version,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        shape="history",
        target="failure within horizon",
        metrics=metrics,
    )


def test_a_first_model_must_beat_chance() -> None:
    assert gate({"roc_auc": 0.8}, None)[0]
    ok, reason = gate({"roc_auc": 0.44}, None)
    assert not ok
    assert "chance" in reason


def test_a_worse_model_does_not_replace_the_active_one() -> None:
    active = _card("v0001", roc_auc=0.8)
    ok, reason = gate({"roc_auc": 0.7}, active)
    assert not ok
    assert "v0001" in reason
    assert gate({"roc_auc": 0.798}, active)[0]  # within the CV noise


def test_fewer_warned_failures_at_no_fewer_false_alarms_is_worse() -> None:
    old = {"predictable_recall": 0.8, "false_alarms_per_machine_month": 1.0}
    active = _card("v0001", roc_auc=0.8, events=old)
    new = {"roc_auc": 0.81, "events": {"predictable_recall": 0.5, "false_alarms_per_machine_month": 1.0}}
    ok, reason = gate(new, active)
    assert not ok
    assert "50%" in reason
    calmer = {"roc_auc": 0.81, "events": {"predictable_recall": 0.8, "false_alarms_per_machine_month": 0.5}}
    assert gate(calmer, active)[0]


def test_without_held_out_metrics_there_is_nothing_to_judge() -> None:
    ok, reason = gate({}, _card("v0001", roc_auc=0.9))
    assert ok
    assert "not gated" in reason


def test_train_stores_a_chance_model_inactive_and_says_why(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 600
    frame = pd.DataFrame({"torque": rng.normal(40, 5, n), "rpm": rng.normal(1500, 50, n)})
    frame["failed"] = (rng.random(n) < 0.1).astype(int)  # unrelated to the sensors: nothing to learn
    path = tmp_path / "noise.csv"
    frame.to_csv(path, index=False)
    models = tmp_path / "models"
    result = CliRunner().invoke(
        app, ["train", "--data", str(path), "--target", "failed", "--folds", "3", "--model-dir", str(models)]
    )
    assert result.exit_code == 0, result.output
    assert "NOT active" in result.output
    assert "chance" in result.output
    registry = ModelRegistry(models)
    assert registry.active_version() is None
    card = registry.card("v0001")
    assert card.metrics["gating"]["activated"] is False
