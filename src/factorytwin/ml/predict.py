"""Predictions from raw files: the features are computed here, with the stored model's own recipe.

``factorytwin predict`` gives one row per unit (machine) at its last time step: ``unit, rul, rul_low, rul_high,
failure_probability, mode``. The caller hands over what the sensors said, never engineered features:

- a run-to-failure model (``unit, cycle, s1, s2, ...``): windowed statistics of each of the model's signals over
  the unit's last ``window`` rows (standardised per operating regime first when the model learned regimes,
  ``ml.regimes``), and its age (cycles since its first row);
- a history model (the simulator's / store's wide readings ``machine_id, ts, kind, <sensors>``): the same
  ``machine_features`` as training, with the event log beside the file (``<stem>.events.parquet``) when there is
  one for the machines' age since their last renewal. A catalogue signal a machine's kind does not have is
  missing in training too, so absent signals are not an error here;
- a table model (one row per operation, like AI4I): the physics features of each row; the unit is the row's id
  column when there is one, else its row number.

For run-to-failure and table models, signals the model needs but the file lacks are an error naming them (never
filled as missing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.datasets import ID_LIKE_COLUMNS, TrainingDataError, _numeric_features, read_frame, require_columns
from factorytwin.ml.evaluation import spec_of
from factorytwin.ml.features import AI4I_ALIASES, add_physics_features, window_features
from factorytwin.ml.pipeline import events_path_for
from factorytwin.ml.regimes import RegimeNormaliser
from factorytwin.ml.timeseries import machine_features, renewal_times, ts_ms

OUTPUT_COLUMNS = ["unit", "rul", "rul_low", "rul_high", "failure_probability", "mode"]


def _missing_signals(frame: pd.DataFrame, signals: list[str]) -> None:
    missing = [s for s in signals if s not in frame.columns]
    if missing:
        raise TrainingDataError(
            f"the file lacks {len(missing)} signal(s) the model was trained on: {', '.join(missing[:12])}"
            + (" ..." if len(missing) > 12 else ""),
            column=missing[0],
        )


def run_to_failure_rows(bundle: ModelBundle, frame: pd.DataFrame, unit_col: str, time_col: str) -> pd.DataFrame:
    """The feature row of every unit at its last time step (column ``unit`` plus the model's features)."""
    signals = [str(s) for s in bundle.spec.get("signals", [])]
    window = int(bundle.spec.get("window", 10))
    require_columns(frame, [unit_col, time_col])
    _missing_signals(frame, signals)
    times = pd.to_numeric(frame[time_col], errors="coerce")
    if times.isna().any():
        raise TrainingDataError(f"column '{time_col}' must be numeric (cycle or time)", time_col)
    sensors = _numeric_features(frame[signals], set())
    if bundle.spec.get("regimes"):
        sensors = RegimeNormaliser.from_spec(bundle.spec["regimes"]).transform(sensors)
    rows: list[pd.DataFrame] = []
    for unit, idx in frame.groupby(unit_col, sort=True).groups.items():
        order = times.loc[idx].sort_values().index
        t = times.loc[order].to_numpy("float64")
        feats = window_features(sensors.loc[order].reset_index(drop=True), tuple(signals), window).iloc[[-1]]
        rows.append(feats.assign(age=t[-1] - t[0], unit=str(unit)))
    return pd.concat(rows, ignore_index=True)


def history_rows(bundle: ModelBundle, readings: pd.DataFrame, events: pd.DataFrame | None) -> pd.DataFrame:
    """The feature row of every machine at its last grid step, from wide readings (and its event log)."""
    spec = spec_of(bundle)
    require_columns(readings, ["machine_id", "ts"])
    readings = readings.assign(ts=ts_ms(readings["ts"], "ts"))
    if events is not None and len(events):
        events = events.assign(ts=ts_ms(events["ts"], "ts"))
    rows: list[pd.DataFrame] = []
    for mid, wide in readings.groupby("machine_id", sort=True):
        wide = wide.sort_values("ts")
        renewal_ms = renewal_times(events, str(mid)) if events is not None and len(events) else np.array([])
        kind = wide["kind"].dropna().astype(str).iloc[0] if "kind" in wide and wide["kind"].notna().any() else None
        ptype = (
            wide["product_type"].dropna().astype(str).iloc[0]
            if "product_type" in wide and wide["product_type"].notna().any()
            else None
        )
        feats = machine_features(wide, renewal_ms, spec, kind, ptype)
        if len(feats):
            rows.append(feats.iloc[[-1]].assign(unit=str(mid)))
    if not rows:
        raise TrainingDataError("no machine in the file has an operating reading to predict from", "machine_id")
    return pd.concat(rows, ignore_index=True)


def table_rows(bundle: ModelBundle, frame: pd.DataFrame) -> pd.DataFrame:
    """One feature row per table row (its id column, or its row number, as the unit)."""
    renamed = frame.rename(columns=AI4I_ALIASES)
    ids = next((c for c in ("unit", "unit_id", "id", "UDI", "Product ID", "machine_id") if c in frame.columns), None)
    usable = [
        c
        for c in renamed.columns
        if c not in ID_LIKE_COLUMNS and (c in {"product_type", "kind"} or pd.api.types.is_numeric_dtype(renamed[c]))
    ]
    feats = add_physics_features(_numeric_features(renamed[usable], set()))
    missing = [f for f in bundle.features if f not in feats.columns]
    if missing:
        raise TrainingDataError(
            f"the file lacks {len(missing)} of the model's features: {', '.join(missing[:12])}", column=missing[0]
        )
    unit = frame[ids].astype(str).to_numpy() if ids else np.arange(len(frame)).astype(str)
    return feats.reset_index(drop=True).assign(unit=unit)


def predict_frame(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    unit_col: str | None = None,
    time_col: str | None = None,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``OUTPUT_COLUMNS`` for every unit of a raw ``frame`` (see the module docstring for the shapes)."""
    if bundle.shape == "run_to_failure":
        rows = run_to_failure_rows(
            bundle,
            frame,
            unit_col or str(bundle.spec.get("unit_col", "unit")),
            time_col or str(bundle.spec.get("time_col", "cycle")),
        )
    elif bundle.shape == "history":
        rows = history_rows(bundle, frame, events)
    else:
        rows = table_rows(bundle, frame)
    raw = bundle.predict_matrix(bundle.matrix(rows))
    out = pd.DataFrame({"unit": rows["unit"].to_numpy()})
    q = raw.get("rul")
    out["rul"] = q[:, 1] if q is not None else np.nan
    out["rul_low"] = q[:, 0] if q is not None else np.nan
    out["rul_high"] = q[:, 2] if q is not None else np.nan
    out["failure_probability"] = raw["probability"]
    modes = raw.get("mode")
    out["mode"] = np.asarray(bundle.mode_classes, dtype=object)[np.argmax(modes, axis=1)] if modes is not None else ""
    return out[OUTPUT_COLUMNS]


def predict_file(
    bundle: ModelBundle, path: Path, unit_col: str | None = None, time_col: str | None = None
) -> pd.DataFrame:
    """``predict_frame`` of a CSV/Parquet file (a history file's event log beside it is used when present)."""
    frame = read_frame(path)
    events_file = events_path_for(path)
    events = read_frame(events_file) if bundle.shape == "history" and events_file.is_file() else None
    return predict_frame(bundle, frame, unit_col, time_col, events)


def read_rul_file(path: Path, units: list[str]) -> pd.Series:
    """Known remaining life at each test unit's last row: a CSV with ``unit`` and ``rul`` columns, or one number
    per line in the order of the units sorted (the NASA C-MAPSS ``RUL_FD00x.txt`` layout)."""
    if not path.is_file():
        raise TrainingDataError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path)
        if {"unit", "rul"} <= set(frame.columns):
            return pd.Series(
                pd.to_numeric(frame["rul"], errors="raise").to_numpy("float64"), index=frame["unit"].astype(str)
            )
    values = pd.read_csv(path, sep=r"\s+", header=None).iloc[:, 0]
    if len(values) != len(units):
        raise TrainingDataError(f"{path}: {len(values)} remaining lives for {len(units)} units", column="rul")
    return pd.Series(pd.to_numeric(values, errors="raise").to_numpy("float64"), index=units)


def censored_rul_report(
    bundle: ModelBundle, data: Path, rul_path: Path, unit_col: str | None = None, time_col: str | None = None
) -> dict[str, float | int | None]:
    """RUL error of a model on right-censored test series (each unit's series stops before its failure; its
    remaining life then is in ``rul_path``): RMSE and MAE at the last row, against the constant training median,
    interval coverage; with the model's ``rul_cap`` the truth is capped as well (the usual protocol)."""
    pred = predict_file(bundle, data, unit_col, time_col)
    units = sorted(pred["unit"].astype(str), key=lambda u: (len(u), u))  # numeric ids in numeric order
    truth = read_rul_file(rul_path, units)
    missing = [u for u in pred["unit"].astype(str) if u not in truth.index]
    if missing:
        raise TrainingDataError(f"{rul_path}: no remaining life for unit(s) {', '.join(missing[:10])}", "unit")
    t = truth.loc[pred["unit"].astype(str)].to_numpy("float64")
    cap = bundle.spec.get("rul_cap")
    if cap is not None:
        t = np.minimum(t, float(cap))
    med = pred["rul"].to_numpy("float64")
    base = float(bundle.spec.get("baselines", {}).get("rul_median", np.nan))
    err = med - t
    return {
        "units": len(t),
        "rul_cap": float(cap) if cap is not None else None,
        "rul_rmse": float(np.sqrt(np.mean(err**2))),
        "rul_mae": float(np.mean(np.abs(err))),
        "baseline_rul_mae": float(np.mean(np.abs(base - t))) if np.isfinite(base) else None,
        "rul_interval_coverage": float(np.mean((t >= pred["rul_low"]) & (t <= pred["rul_high"]))),
    }
