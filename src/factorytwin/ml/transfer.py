"""Snapshot training data from the simulator, shaped like AI4I 2020, to test sim-to-real transfer.

AI4I has one row per operation: the process parameters and whether the operation failed. The simulator's mills
use the same mechanisms, so each (10-minute) readings row of a mill becomes one "operation": its sensor values
(catalogue keys, the same names ``prepare_table`` gives AI4I's columns) and whether the machine fails within the
next ``horizon_min`` minutes. A model fitted on these rows can then be scored on AI4I unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from factorytwin.ml.datasets import LabeledData, TrainingDataError, require_columns
from factorytwin.ml.features import add_physics_features
from factorytwin.ml.timeseries import NON_OPERATING, ts_ms

SNAPSHOT_SENSORS = ("air_temp", "process_temp", "spindle_speed", "torque", "tool_wear")


def prepare_snapshots(
    readings: pd.DataFrame, events: pd.DataFrame, horizon_min: float = 10.0, kinds: tuple[str, ...] = ("cnc_mill",)
) -> LabeledData:
    """One labelled row per operating readings row of machines of ``kinds``: AI4I's columns as catalogue keys
    plus the physics features; label 1 when a failure of that machine follows within ``horizon_min``."""
    require_columns(readings, ["machine_id", "kind", "ts", *SNAPSHOT_SENSORS, "product_type"])
    require_columns(events, ["machine_id", "ts", "event"], "event column")
    rows = readings[readings["kind"].isin(kinds)]
    if "status" in rows.columns:
        rows = rows[~rows["status"].astype("string").isin(NON_OPERATING).fillna(False)]
    if rows.empty:
        raise TrainingDataError(f"no operating readings of kind {', '.join(kinds)}", column="kind")
    ts = ts_ms(rows["ts"], "ts").to_numpy("float64")
    y = np.zeros(len(rows), dtype="int8")
    mode = np.full(len(rows), "", dtype=object)
    ev = events.assign(ts=ts_ms(events["ts"], "ts"))
    fails = ev[ev["event"] == "failure"]
    machine = rows["machine_id"].to_numpy(object)
    for mid, grp in fails.groupby("machine_id"):
        sel = np.flatnonzero(machine == mid)
        if not len(sel):
            continue
        f_ts = np.sort(grp["ts"].to_numpy("float64"))
        f_mode = grp.sort_values("ts")["mode"].fillna("").astype(str).to_numpy(object)
        k = np.searchsorted(f_ts, ts[sel], side="right")  # the first failure after the row
        ok = k < len(f_ts)
        hit = np.zeros(len(sel), dtype=bool)
        hit[ok] = f_ts[k[ok]] - ts[sel][ok] <= horizon_min * 60_000.0
        y[sel[hit]] = 1
        mode[sel[hit]] = f_mode[k[hit]]
    X = add_physics_features(rows[[*SNAPSHOT_SENSORS, "product_type"]].reset_index(drop=True))
    source = {
        "shape": "snapshot",
        "rows": len(rows),
        "positives": int(y.sum()),
        "horizon_min": horizon_min,
        "kinds": list(kinds),
    }
    return LabeledData(X=X.astype("float64"), y=y, mode=mode, groups=machine, shape="table", source=source)
