"""`factorytwin predict`: features computed from raw series with the stored recipe, one row per unit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from factorytwin.cli import app
from factorytwin.ml.predict import OUTPUT_COLUMNS
from factorytwin.ml.synthetic import synthetic_history

runner = CliRunner()


def _engines(units: int, seed: int, cut: dict[int, float] | None = None) -> pd.DataFrame:
    """Run-to-failure series whose s1 climbs to 1 at the end of life; ``cut`` keeps that share of a unit's life
    (a right-censored test series)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, float]] = []
    for unit in range(units):
        life = int(rng.integers(60, 100))
        last = round(life * (cut or {}).get(unit, 1.0))
        for cycle in range(1, last + 1):
            rows.append(
                {"unit": unit, "cycle": cycle, "s1": cycle / life + rng.normal(0, 0.02), "s2": rng.normal(0, 1)}
            )
    return pd.DataFrame(rows)


def _train(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "train.csv"
    _engines(30, seed=0).to_csv(path, index=False)
    models = tmp_path / "models"
    result = runner.invoke(
        app, ["train", "--data", str(path), "--horizon", "10", "--window", "5", "--folds", "0", "--model-dir",
              str(models), *extra]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return models


def test_predict_writes_one_row_per_unit_from_raw_series(tmp_path: Path) -> None:
    models = _train(tmp_path)
    test = tmp_path / "test.csv"
    # unit 0 cut early in life, unit 1 close to its end: right-censored test series
    _engines(2, seed=9, cut={0: 0.15, 1: 0.95}).to_csv(test, index=False)
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["predict", "--model-dir", str(models), "--data", str(test), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out)
    assert list(pred.columns) == OUTPUT_COLUMNS
    assert pred["unit"].tolist() == [0, 1]
    assert pred.loc[0, "rul"] > pred.loc[1, "rul"]  # early in life lives longer
    assert pred.loc[1, "failure_probability"] > pred.loc[0, "failure_probability"]
    assert (pred["rul_low"] <= pred["rul"]).all()
    assert (pred["rul"] <= pred["rul_high"]).all()


def test_a_missing_signal_is_named(tmp_path: Path) -> None:
    models = _train(tmp_path)
    test = tmp_path / "test.csv"
    _engines(2, seed=9).drop(columns=["s2"]).to_csv(test, index=False)
    result = runner.invoke(app, ["predict", "--model-dir", str(models), "--data", str(test), "--out", "x.csv"])
    assert result.exit_code == 2
    assert "s2" in result.output


def test_a_capped_rul_target_never_predicts_beyond_the_cap(tmp_path: Path) -> None:
    models = _train(tmp_path, "--rul-cap", "30")
    test = tmp_path / "test.csv"
    _engines(4, seed=5, cut={0: 0.1, 1: 0.2, 2: 0.6, 3: 0.9}).to_csv(test, index=False)
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["predict", "--model-dir", str(models), "--data", str(test), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out)
    assert pred["rul"].max() <= 30.0 + 1e-9
    assert pred.loc[0, "rul"] > 20.0  # early in life: about the cap


def test_predict_from_machine_history(tmp_path: Path) -> None:
    readings, events = synthetic_history(machines=3, days=30.0, seed=0)
    path = tmp_path / "hist.parquet"
    readings.to_parquet(path)
    events.to_parquet(tmp_path / "hist.events.parquet")
    models = tmp_path / "models"
    result = runner.invoke(app, ["train", "--data", str(path), "--window", "6", "--folds", "0", "--model-dir",
                                 str(models)])  # fmt: skip
    assert result.exit_code == 0, result.output
    test_r, _ = synthetic_history(machines=2, days=5.0, seed=4)
    test = tmp_path / "live.parquet"
    test_r.to_parquet(test)  # no event log beside it: age counts from the first reading
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["predict", "--model-dir", str(models), "--data", str(test), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out)
    assert pred["unit"].tolist() == ["mill-01", "mill-02"]
    assert pred["failure_probability"].between(0, 1).all()
    assert set(pred["mode"]) <= {"tool_wear", "overstrain"}


def test_evaluate_on_right_censored_series_with_their_known_remaining_life(tmp_path: Path) -> None:
    models = _train(tmp_path, "--rul-cap", "60")
    rng = np.random.default_rng(3)
    rows: list[dict[str, float]] = []
    remaining: list[int] = []
    for unit in range(12):
        life = int(rng.integers(60, 100))
        last = int(rng.integers(10, life - 1))
        remaining.append(life - last)
        for cycle in range(1, last + 1):
            rows.append({"unit": unit, "cycle": cycle, "s1": cycle / life + rng.normal(0, 0.02), "s2": 0.0})
    test = tmp_path / "test.csv"
    pd.DataFrame(rows).to_csv(test, index=False)
    rul_file = tmp_path / "RUL_test.txt"  # the C-MAPSS layout: one number per line, units in order
    rul_file.write_text("\n".join(str(r) for r in remaining) + "\n")
    result = runner.invoke(
        app, ["evaluate", "--data", str(test), "--rul-file", str(rul_file), "--model-dir", str(models), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["units"] == 12
    assert doc["rul_cap"] == 60.0
    assert doc["rul_mae"] < doc["baseline_rul_mae"]  # s1 tells the remaining life: better than the median
    assert 0.0 <= doc["rul_interval_coverage"] <= 1.0
    short = tmp_path / "short.txt"
    short.write_text("10\n20\n")
    result = runner.invoke(app, ["evaluate", "--data", str(test), "--rul-file", str(short), "--model-dir", str(models)])
    assert result.exit_code == 2
    assert "2 remaining lives for 12 units" in result.output
