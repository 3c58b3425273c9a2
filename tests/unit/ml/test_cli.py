"""`factorytwin train` / `evaluate`: bad files refused with one line naming the column; a model gets stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from factorytwin.cli import app
from factorytwin.ml.synthetic import synthetic_history

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_missing_target_column_is_named_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "plant.csv"
    pd.DataFrame({"torque": [1.0, 2.0], "failed": [0, 1]}).to_csv(path, index=False)
    code, out = _run("train", "--data", str(path), "--target", "Machine failure", "--model-dir", str(tmp_path))
    assert code == 2
    assert "missing target column 'Machine failure'" in out
    assert "Traceback" not in out


def test_wrong_type_is_named(tmp_path: Path) -> None:
    path = tmp_path / "plant.csv"
    pd.DataFrame({"torque": [1.0, "high"], "failed": [0, 1]}).to_csv(path, index=False)
    code, out = _run("train", "--data", str(path), "--target", "failed", "--model-dir", str(tmp_path))
    assert code == 2
    assert "column 'torque' must be numeric" in out


def test_unsupported_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plant.xlsx"
    path.write_bytes(b"not really")
    code, out = _run("train", "--data", str(path), "--target", "failed", "--model-dir", str(tmp_path))
    assert code == 2
    assert "unsupported file type" in out


def test_train_then_evaluate_on_a_table(tmp_path: Path, ai4i_sample: pd.DataFrame) -> None:
    path = tmp_path / "ai4i_small.csv"
    ai4i_sample.iloc[:1500].to_csv(path, index=False)
    models = tmp_path / "models"
    code, out = _run(
        "train", "--data", str(path), "--target", "Machine failure", "--folds", "0", "--model-dir", str(models)
    )
    assert code == 0, out
    assert "stored model v0001" in out
    assert (models / "v0001" / "card.md").is_file()
    code, out = _run(
        "evaluate", "--data", str(path), "--target", "Machine failure", "--model-dir", str(models), "--json"
    )
    assert code == 0, out
    assert '"roc_auc"' in out


def test_evaluate_without_a_model_says_so(tmp_path: Path, ai4i_sample: pd.DataFrame) -> None:
    path = tmp_path / "ai4i_small.csv"
    ai4i_sample.iloc[:100].to_csv(path, index=False)
    code, out = _run(
        "evaluate", "--data", str(path), "--target", "Machine failure", "--model-dir", str(tmp_path / "none")
    )
    assert code == 2
    assert "no model has been trained yet" in out


def test_train_on_run_to_failure_series(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for unit in range(12):
        life = int(rng.integers(40, 80))
        for cycle in range(1, life + 1):
            rows.append(
                {"unit": unit, "cycle": cycle, "s1": cycle / life + rng.normal(0, 0.05), "s2": rng.normal(0, 1)}
            )
    path = tmp_path / "engines.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    models = tmp_path / "models"
    code, out = _run(
        "train", "--data", str(path), "--horizon", "10", "--window", "5", "--folds", "3", "--model-dir", str(models)
    )
    assert code == 0, out
    assert "stored model v0001" in out
    assert "rul" in out
    card = (models / "v0001" / "card.md").read_text()
    assert "run_to_failure" in card


def _history_files(tmp_path: Path, seed: int, machines: int, days: float) -> Path:
    readings, events = synthetic_history(machines=machines, days=days, seed=seed)
    path = tmp_path / f"hist{seed}.parquet"
    readings.to_parquet(path)
    events.to_parquet(tmp_path / f"hist{seed}.events.parquet")
    return path


def test_evaluate_history_uses_the_stored_window_and_prints_pure_json(tmp_path: Path) -> None:
    train = _history_files(tmp_path, seed=0, machines=3, days=30.0)
    models = tmp_path / "models"
    code, out = _run(
        "train", "--data", str(train), "--window", "6", "--horizon", "12", "--folds", "2", "--model-dir", str(models)
    )
    assert code == 0, out
    assert "Alerts as an engineer sees them" in (models / "v0001" / "card.md").read_text()
    test = _history_files(tmp_path, seed=3, machines=2, days=15.0)
    # --window 30 would change every feature name's statistics: a stored model ignores it
    result = runner.invoke(
        app, ["evaluate", "--data", str(test), "--model-dir", str(models), "--window", "30", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # nothing but the JSON document on stdout
    assert doc["events"]["horizon_h"] == 12.0
    assert doc["events"]["machines"] == 2
    assert doc["rul_vs_median"]["rows"] > 0


def test_evaluate_names_the_features_a_file_lacks(tmp_path: Path, ai4i_sample: pd.DataFrame) -> None:
    path = tmp_path / "ai4i_small.csv"
    ai4i_sample.iloc[:1500].to_csv(path, index=False)
    models = tmp_path / "models"
    code, out = _run(
        "train", "--data", str(path), "--target", "Machine failure", "--folds", "0", "--model-dir", str(models)
    )
    assert code == 0, out
    less = tmp_path / "no_torque.csv"
    ai4i_sample.iloc[:300].drop(columns=["Torque [Nm]"]).to_csv(less, index=False)
    code, out = _run("evaluate", "--data", str(less), "--target", "Machine failure", "--model-dir", str(models))
    assert code == 2
    assert "torque" in out
    assert "features" in out


def test_cross_validation_with_json_keeps_the_progress_bar_off_stdout(tmp_path: Path) -> None:
    train = _history_files(tmp_path, seed=0, machines=3, days=20.0)
    result = runner.invoke(app, ["evaluate", "--data", str(train), "--cv", "2", "--window", "6", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["folds"] == 2
    assert "events" in doc
