"""Operating-regime normalisation of run-to-failure signals (``ml.regimes``) and the run-to-failure RUL point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from factorytwin.cli import app
from factorytwin.ml.datasets import TrainingDataError
from factorytwin.ml.pipeline import TrainOptions, train_and_register
from factorytwin.ml.predict import predict_file, run_to_failure_rows
from factorytwin.ml.regimes import (
    RegimeNormaliser,
    find_condition_columns,
    fit_regimes,
    follows_life,
    value_groups,
)
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.synthetic_rtf import turbofan_like_units
from factorytwin.ml.timeseries import fit_run_to_failure_regimes, prepare_run_to_failure
from factorytwin.ml.training import TrainConfig

runner = CliRunner()


def test_set_points_with_measurement_noise_are_groups() -> None:
    rng = np.random.default_rng(0)
    points = rng.choice([0.0, 10.0, 25.0, 42.0], 5000) + rng.normal(0, 0.003, 5000)
    centres = value_groups(points)
    assert centres is not None
    assert np.allclose(centres, [0.0, 10.0, 25.0, 42.0], atol=0.01)
    assert value_groups(np.where(rng.random(300) < 0.5, 60.0, 100.0)) is not None  # exact codes


def test_continuous_constant_and_quantised_columns_are_not_groups() -> None:
    rng = np.random.default_rng(1)
    assert value_groups(rng.normal(0, 1, 5000)) is None
    assert value_groups(np.full(100, 3.0)) is None
    wear = np.linspace(0, 1, 5000) ** 2 * 12 + rng.normal(0, 1, 5000)
    assert value_groups(np.round(wear + 390)) is None  # a sensor read in whole units still degrades smoothly
    outliers = np.concatenate([rng.normal(0, 1, 5000), [40.0, 41.0]])
    assert value_groups(outliers) is None  # two stray readings are not an operating condition


def test_a_flag_that_comes_on_late_in_life_follows_life() -> None:
    units = np.repeat(np.arange(10), 50)
    flag = np.tile((np.arange(50) > 40).astype(int), 10)
    assert follows_life(flag, units)
    rng = np.random.default_rng(2)
    assert not follows_life(rng.integers(0, 3, 500), units)  # comes and goes: a condition
    assert not follows_life(np.repeat(np.arange(10) % 2, 50), units)  # one per unit: a condition


def test_condition_columns_are_found_on_multi_regime_units_only() -> None:
    multi, _ = turbofan_like_units(20, seed=0, regimes=6)
    signals = [c for c in multi.columns if c not in {"unit", "cycle"}]
    assert find_condition_columns(multi, signals, multi["unit"].to_numpy()) == ["setting1", "setting2", "setting3"]
    single, _ = turbofan_like_units(20, seed=0, regimes=1)
    assert find_condition_columns(single, signals, single["unit"].to_numpy()) == []
    assert fit_run_to_failure_regimes(single, "unit", "cycle") is None


def test_each_sensor_is_standardised_within_its_regime() -> None:
    train, _ = turbofan_like_units(20, seed=0, regimes=6)
    signals = [c for c in train.columns if c not in {"unit", "cycle"}]
    norm = fit_regimes(train[signals], signals, train["unit"].to_numpy())
    assert norm is not None
    assert len(norm.regimes) == 6
    assert "setting1" not in norm.signals
    out = norm.transform(train[signals])
    assert out["setting1"].equals(train["setting1"])  # conditions stay as they are
    regime = norm.regime_index(train[signals])
    per = out.assign(r=regime).groupby("r")["s2"].agg(["mean", "std"])
    assert np.allclose(per["mean"], 0.0, atol=1e-9)
    assert np.allclose(per["std"], 1.0, atol=0.01)
    raw_spread = train.assign(r=regime).groupby("r")["s2"].mean().std()
    assert raw_spread > 10 * train["s2"].groupby(regime).std().mean()  # regimes moved s2 far more than wear


def test_an_unseen_regime_uses_the_statistics_of_all_rows() -> None:
    frame = pd.DataFrame({"c": [0.0, 1.0] * 30, "s": np.arange(60.0)})
    norm = fit_regimes(frame, ["c", "s"], np.zeros(60), conditions=["c"])
    assert norm is not None
    assert norm.regime_index(pd.DataFrame({"c": [0.1, 0.9, np.nan], "s": 0.0})).tolist() == [0, 1, 2]
    z = norm.transform(pd.DataFrame({"c": [np.nan], "s": [frame["s"].mean()]}))
    assert z["s"].iloc[0] == pytest.approx(0.0)


def test_the_normaliser_survives_json() -> None:
    train, _ = turbofan_like_units(10, seed=3, regimes=4)
    signals = [c for c in train.columns if c not in {"unit", "cycle"}]
    norm = fit_regimes(train[signals], signals, train["unit"].to_numpy())
    assert norm is not None
    again = RegimeNormaliser.from_spec(json.loads(json.dumps(norm.to_spec())))
    pd.testing.assert_frame_equal(again.transform(train[signals]), norm.transform(train[signals]))


def _files(tmp_path: Path, regimes: int) -> tuple[Path, Path, Path]:
    train, _ = turbofan_like_units(60, seed=1, regimes=regimes)
    test, rul = turbofan_like_units(30, seed=2, regimes=regimes, censor=True)
    paths = tmp_path / "train.csv", tmp_path / "test.csv", tmp_path / "rul.csv"
    for frame, path in zip((train, test, rul), paths, strict=True):
        frame.to_csv(path, index=False)
    return paths


def test_regime_normalisation_lets_a_window_see_the_wear_through_the_regimes() -> None:
    frame, _ = turbofan_like_units(40, seed=1, regimes=6)
    norm = fit_run_to_failure_regimes(frame, "unit", "cycle")
    assert norm is not None
    plain, _ = prepare_run_to_failure(frame, "unit", "cycle", horizon=30.0, window=12)
    normalised, _ = prepare_run_to_failure(frame, "unit", "cycle", horizon=30.0, window=12, regimes=norm)
    assert normalised.rul is not None
    rul = np.minimum(normalised.rul, 125.0)
    informative = [f"s{j}__mean" for j in (2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 17, 20, 21)]
    corr_plain = [abs(np.corrcoef(plain.X[f], rul)[0, 1]) for f in informative]
    corr_norm = [abs(np.corrcoef(normalised.X[f], rul)[0, 1]) for f in informative]
    assert np.median(corr_norm) > 2 * np.median(corr_plain), (corr_norm, corr_plain)


def test_serving_needs_the_condition_columns(tmp_path: Path) -> None:
    files = _files(tmp_path, regimes=3)
    registry = ModelRegistry(tmp_path / "m")
    train_and_register(TrainOptions(data=files[0], shape="run_to_failure", folds=0), registry)
    _, bundle = registry.load(None)
    assert bundle.spec["regimes"]["conditions"] == ["setting1", "setting2"]  # the 3 first points share a throttle
    assert np.isfinite(predict_file(bundle, files[1])["rul"]).all()
    pd.read_csv(files[1]).drop(columns=["setting2"]).to_csv(tmp_path / "no_setting.csv", index=False)
    with pytest.raises(TrainingDataError, match="setting2"):
        predict_file(bundle, tmp_path / "no_setting.csv")


def test_named_condition_columns_must_exist(tmp_path: Path) -> None:
    files = _files(tmp_path, regimes=1)
    opts = TrainOptions(data=files[0], shape="run_to_failure", folds=0, conditions=["altitude"])
    with pytest.raises(TrainingDataError, match="altitude"):
        train_and_register(opts, ModelRegistry(tmp_path / "m"))


def test_run_to_failure_rul_point_averages_the_median_and_the_mean(tmp_path: Path) -> None:
    files = _files(tmp_path, regimes=1)
    registry = ModelRegistry(tmp_path / "m")
    opts = TrainOptions(data=files[0], shape="run_to_failure", folds=0)
    train_and_register(opts, registry, TrainConfig(n_estimators=30))
    _, bundle = registry.load(None)
    assert bundle.spec["rul_point"] == "blend"
    assert bundle.rul is not None
    objectives = [b.model_to_string().split("objective=")[1].split()[0] for b in bundle.rul]
    assert objectives == ["quantile", "quantile", "regression", "quantile"]
    test = predict_file(bundle, files[1])
    X = bundle.matrix(run_to_failure_rows(bundle, pd.read_csv(files[1]), "unit", "cycle"))
    parts = [np.asarray(b.predict(X)) for b in bundle.rul]
    lo, hi = np.minimum(parts[0], parts[3]), np.maximum(parts[0], parts[3])
    expected = np.clip((parts[1] + parts[2]) / 2, np.maximum(lo - bundle.rul_margin, 0), hi + bundle.rul_margin)
    assert np.allclose(test["rul"], np.maximum(expected, 0.0))
    train_and_register(opts, registry, TrainConfig(n_estimators=30, rul_point="median"))
    _, median = registry.load(None)
    assert median.spec["rul_point"] == "median"
    assert median.rul is not None
    assert len(median.rul) == 3


def test_the_command_line_names_or_turns_off_the_conditions(tmp_path: Path) -> None:
    files = _files(tmp_path, regimes=6)
    base = ["train", "--data", str(files[0]), "--folds", "0", "--window", "5"]
    named = runner.invoke(app, [*base, "--condition-col", "setting1", "--model-dir", str(tmp_path / "a")])
    assert named.exit_code == 0, named.output
    assert ModelRegistry(tmp_path / "a").load(None)[1].spec["regimes"]["conditions"] == ["setting1"]
    off = runner.invoke(app, [*base, "--no-conditions", "--model-dir", str(tmp_path / "b")])
    assert off.exit_code == 0, off.output
    assert "regimes" not in ModelRegistry(tmp_path / "b").load(None)[1].spec
