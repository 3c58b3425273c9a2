"""The generic run-to-failure path next to a plain LightGBM rolling-window baseline (issue 12), side by side on
run-to-failure units built from the simulator.

Units: every life of every machine of the default factory that ends in a failure, from the machine's previous
renewal (a repair, or a maintenance of at least an hour; ``timeseries.renewals_only``) or the start of the
recording, resampled to one row per operating hour (``cycle``: the hourly bins that hold readings taken while
running). Columns: ``unit, cycle``, every catalogue sensor (NaN where the machine's kind has none) and two
operating-condition columns (``kind_code``, ``product_code``). Mixed failure modes (tool wear, heat dissipation,
power, overstrain, seal, bearing, random...) and kinds. Training units come from ``--train-days`` of seed 1, test
units from ``--test-days`` of seed 2, each test unit cut at a random cycle (uniform over its life, the usual
right-censored test layout) with its remaining life known.

Both models are scored the usual way: true and predicted RUL capped at ``--cap`` (125) cycles, RMSE at each test
unit's last row.

- generic: the package's run-to-failure path with its documented defaults and the capped target, exactly what
  ``factorytwin train --data train.csv --unit-col unit --time-col cycle --rul-cap 125 --folds 0`` and
  ``factorytwin evaluate --data test.csv --rul-file test_rul.csv`` do (``pipeline.train_and_register``,
  ``predict.censored_rul_report``);
- baseline: written from scratch here, not from the package: rolling mean/std/min/max over the last 10 and 30
  rows and the last value of every column, plus the cycle, LightGBM regression (L2, 400 trees, 31 leaves,
  learning rate 0.05) on min(RUL, cap).

    .venv/bin/python bench/ml_rtf.py [--cache /tmp/ml_bench] [--train-days 120] [--test-days 60] [--cap 125]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from figures import record
from ml_events import simulated
from rich.console import Console
from rich.table import Table

from factorytwin.domain import all_sensor_keys
from factorytwin.ml.features import KIND_CODES, PRODUCT_TYPE_CODES
from factorytwin.ml.pipeline import TrainOptions, train_and_register
from factorytwin.ml.predict import censored_rul_report
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.timeseries import NON_OPERATING, history_frames, renewals_only

STEP_MS = 3_600_000


def run_to_failure_units(readings: pd.DataFrame, events: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """One row per operating hour of every life that ends in a failure (see the module docstring)."""
    readings, events = history_frames(readings, events)
    if "status" in readings.columns:
        readings = readings[~readings["status"].astype(str).isin(NON_OPERATING)]
    renew = renewals_only(events)
    sensors = [s for s in all_sensor_keys() if s in readings.columns]
    parts: list[pd.DataFrame] = []
    for mid, wide in readings.groupby("machine_id", sort=True):
        fails = np.sort(events[(events["machine_id"] == mid) & (events["event"] == "failure")]["ts"].to_numpy())
        starts = np.sort(renew[renew["machine_id"] == mid]["ts"].to_numpy())
        kind = str(wide["kind"].iloc[0]) if "kind" in wide.columns else ""
        ptype = wide["product_type"].dropna() if "product_type" in wide.columns else pd.Series(dtype=object)
        ts = wide["ts"].to_numpy("int64")
        begin = int(ts.min())
        for k, fail in enumerate(fails):
            earlier = starts[starts < fail]
            life_start = max(begin, int(earlier[-1]) if len(earlier) else begin, int(fails[k - 1]) if k else begin)
            sel = (ts >= life_start) & (ts < fail)
            if sel.sum() < 6:  # less than an hour of readings: no life to learn from
                continue
            life = wide.loc[sel, sensors].assign(_bin=(ts[sel] // STEP_MS))
            hourly = life.groupby("_bin", sort=True)[sensors].mean().reset_index(drop=True)
            hourly.insert(0, "cycle", np.arange(1, len(hourly) + 1))
            hourly.insert(0, "unit", f"{prefix}{mid}-{k:03d}")
            hourly["kind_code"] = KIND_CODES.get(kind, np.nan)
            hourly["product_code"] = PRODUCT_TYPE_CODES.get(str(ptype.iloc[0]), np.nan) if len(ptype) else np.nan
            parts.append(hourly)
    return pd.concat(parts, ignore_index=True)


def censor(units: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each unit cut at a random cycle (uniform over its life): the rows up to it and its remaining life."""
    rng = np.random.default_rng(seed)
    kept: list[pd.DataFrame] = []
    rul: list[tuple[str, float]] = []
    for unit, g in units.groupby("unit", sort=True):
        n = len(g)
        cut = int(rng.integers(1, n + 1))
        kept.append(g.iloc[:cut])
        rul.append((str(unit), float(n - cut)))
    return pd.concat(kept, ignore_index=True), pd.DataFrame(rul, columns=["unit", "rul"])


def rolling_features(units: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The baseline's features: rolling mean/std/min/max over 10 and 30 rows and the last value, plus cycle."""
    out: list[pd.DataFrame] = []
    for _, g in units.groupby("unit", sort=False):
        g = g.sort_values("cycle")
        feats = {"cycle": g["cycle"].to_numpy("float64")}
        for c in columns:
            s = g[c]
            feats[f"{c}_last"] = s.to_numpy("float64")
            for w in (10, 30):
                r = s.rolling(w, min_periods=1)
                feats[f"{c}_mean{w}"] = r.mean().to_numpy()
                feats[f"{c}_std{w}"] = r.std().to_numpy()
                feats[f"{c}_min{w}"] = r.min().to_numpy()
                feats[f"{c}_max{w}"] = r.max().to_numpy()
        out.append(pd.DataFrame(feats, index=g.index))
    return pd.concat(out).loc[units.index]


def baseline_rmse(train: pd.DataFrame, test: pd.DataFrame, test_rul: pd.DataFrame, cap: float) -> float:
    """The plain LightGBM rolling-window baseline's capped RMSE at the test units' last rows."""
    columns = [c for c in train.columns if c not in {"unit", "cycle"}]
    X = rolling_features(train, columns)
    life = train.groupby("unit")["cycle"].transform("max")
    y = np.minimum(life - train["cycle"], cap).to_numpy("float64")
    params = {"objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "verbose": -1, "seed": 0}
    params["num_threads"] = 1
    booster = lgb.train(params, lgb.Dataset(X.to_numpy("float64"), label=y), num_boost_round=400)
    Xt = rolling_features(test, columns)
    last = test.groupby("unit", sort=True).tail(1)
    pred = np.clip(booster.predict(Xt.loc[last.index].to_numpy("float64")), 0.0, cap)
    truth = np.minimum(test_rul.set_index("unit").loc[last["unit"], "rul"].to_numpy("float64"), cap)
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


def generic_report(
    train: pd.DataFrame, test: pd.DataFrame, test_rul: pd.DataFrame, cap: float
) -> dict[str, float | int | None]:
    """The generic path with its documented defaults and the capped target, as ``factorytwin train --data
    train.csv --unit-col unit --time-col cycle --rul-cap CAP --folds 0`` then ``factorytwin evaluate --data test.csv
    --rul-file test_rul.csv`` run it: its report on the right-censored test units."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train.to_csv(root / "train.csv", index=False)
        test.to_csv(root / "test.csv", index=False)
        test_rul.to_csv(root / "test_rul.csv", index=False)
        registry = ModelRegistry(root / "models")
        opts = TrainOptions(data=root / "train.csv", shape="run_to_failure", folds=0, rul_cap=cap)
        card = train_and_register(opts, registry)
        _, bundle = registry.load(card.version)
        return censored_rul_report(bundle, root / "test.csv", root / "test_rul.csv")


def constant_rmse(train: pd.DataFrame, test_rul: pd.DataFrame, cap: float) -> tuple[float, float]:
    """The reference of always answering the training rows' median capped RUL: that constant and its RMSE."""
    life = train.groupby("unit")["cycle"].transform("max")
    constant = float(np.median(np.minimum(life - train["cycle"], cap)))
    truth = np.minimum(test_rul["rul"].to_numpy("float64"), cap)
    return constant, float(np.sqrt(np.mean((constant - truth) ** 2)))


def main() -> None:
    """Build the units, train both models, print both RMSEs and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ml_bench"))
    ap.add_argument("--train-days", type=int, default=120)
    ap.add_argument("--test-days", type=int, default=60)
    ap.add_argument("--cap", type=float, default=125.0)
    ap.add_argument("--seed", type=int, default=0, help="where the test units are cut")
    args = ap.parse_args()
    console = Console(width=150)
    train = run_to_failure_units(*simulated(args.cache, args.train_days, 1), "s1-")
    units = run_to_failure_units(*simulated(args.cache, args.test_days, 2), "s2-")
    test, test_rul = censor(units, args.seed)
    t0 = time.perf_counter()
    generic = generic_report(train, test, test_rul, args.cap)
    t2 = time.perf_counter()
    base = baseline_rmse(train, test, test_rul, args.cap)
    t3 = time.perf_counter()
    constant, const_rmse = constant_rmse(train, test_rul, args.cap)
    g_rmse = float(generic["rul_rmse"] or np.nan)
    table = Table(
        title=f"run-to-failure units from the simulator: {train['unit'].nunique()} training units (seed 1, "
        f"{args.train_days} days), {test['unit'].nunique()} right-censored test units (seed 2, {args.test_days} "
        f"days); RUL capped at {args.cap:g} cycles (hours)"
    )
    for col in ("model", "RMSE", "MAE", "fit + score"):
        table.add_column(col, justify="left" if col == "model" else "right")
    table.add_row(
        "generic path, documented defaults (window 12, --rul-cap)",
        f"{g_rmse:.2f}",
        f"{generic['rul_mae']:.2f}",
        f"{t2 - t0:.0f} s",
    )
    table.add_row("plain LightGBM, rolling windows 10/30, capped target", f"{base:.2f}", "-", f"{t3 - t2:.0f} s")
    table.add_row(f"reference: always {constant:.0f} (the training median)", f"{const_rmse:.2f}", "-", "-")
    console.print(table)
    ratio = g_rmse / base
    console.print(
        f"generic / baseline RMSE: {ratio:.3f} (goal <= 1.05); test life lengths (cycles): "
        f"median {units.groupby('unit').size().median():.0f}"
    )
    record("run-to-failure (simulator): generic path RUL RMSE", g_rmse, "cycles", better="lower")
    record("run-to-failure (simulator): LightGBM baseline RUL RMSE", base, "cycles", better="lower")
    record("run-to-failure (simulator): constant-median RUL RMSE", const_rmse, "cycles", better="lower")
    record("run-to-failure (simulator): generic / baseline RMSE", ratio, "ratio", goal="<= 1.05", better="lower")


if __name__ == "__main__":
    main()
