"""Feature engineering: physics features from sensor columns and windowed statistics over recent history.

Column names are sensor keys of the catalogue (``domain.CATALOGUE``) wherever the data allows, so one feature
pipeline serves the simulator, the store's history, AI4I 2020 and a plant's own files. Everything here is
vectorised pandas/numpy; nothing reads labels, so no function here can leak the answer into a feature.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from factorytwin.domain import MachineKind, all_sensor_keys

# AI4I 2020 column names -> catalogue sensor keys (the milling machine of AI4I is our cnc_mill).
AI4I_ALIASES: dict[str, str] = {
    "Air temperature [K]": "air_temp",
    "Process temperature [K]": "process_temp",
    "Rotational speed [rpm]": "spindle_speed",
    "Torque [Nm]": "torque",
    "Tool wear [min]": "tool_wear",
    "Type": "product_type",
}
PRODUCT_TYPE_CODES: dict[str, float] = {"L": 0.0, "M": 1.0, "H": 2.0}
# Overstrain limit of tool wear x torque per product quality variant, min*Nm (AI4I 2020 documentation).
OVERSTRAIN_LIMIT_MIN_NM: dict[float, float] = {0.0: 11_000.0, 1.0: 12_000.0, 2.0: 13_000.0}
HEAT_DISSIPATION_DT_K = 8.6  # below this process-air temperature difference heat cannot be carried away
HEAT_DISSIPATION_RPM = 1380.0  # ... when the spindle also turns slower than this
POWER_LOW_W = 3500.0  # mechanical power band outside which the drive fails
POWER_HIGH_W = 9000.0
KIND_CODES: dict[str, float] = {kind.value: float(i) for i, kind in enumerate(MachineKind)}

WINDOW_STATS = ("last", "mean", "std", "slope", "max")
PHYSICS_COLUMNS = ("temp_diff", "mech_power_w", "wear_torque", "overstrain_margin", "heat_margin", "power_margin")


def encode_product_type(values: pd.Series) -> pd.Series:
    """Product quality variant L/M/H as 0/1/2 (float, NaN when unknown); numbers pass through."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return values.astype("string").str.strip().str.upper().map(PRODUCT_TYPE_CODES).astype("float64")


def encode_kind(values: pd.Series) -> pd.Series:
    """Machine kind as a stable number (its position in ``MachineKind``), NaN when unknown; numbers (already
    encoded, as in ``machine_features``' rows) pass through."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return values.astype("string").map(KIND_CODES).astype("float64")


def add_physics_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the physics features that the columns of ``frame`` allow; return a new frame.

    - ``temp_diff`` K: process - air temperature (heat dissipation).
    - ``mech_power_w`` W: torque x angular speed (rpm * 2 pi / 60), the drive's mechanical power.
    - ``wear_torque`` min*Nm: tool wear x torque, the tool's strain; ``overstrain_margin`` is it minus the limit
      of the product type (positive means beyond the limit).
    - ``heat_margin``: the larger of (temp_diff - 8.6 K) and (rpm - 1380)/100, negative when both heat-dissipation
      conditions hold; ``power_margin`` W: distance to the nearer end of the 3.5-9 kW power band.
    """
    out = frame.copy()
    has = set(frame.columns)
    if {"process_temp", "air_temp"} <= has:
        out["temp_diff"] = frame["process_temp"] - frame["air_temp"]
    if {"torque", "spindle_speed"} <= has:
        out["mech_power_w"] = frame["torque"] * frame["spindle_speed"] * (2.0 * math.pi / 60.0)
        out["power_margin"] = np.minimum(out["mech_power_w"] - POWER_LOW_W, POWER_HIGH_W - out["mech_power_w"])
    if {"tool_wear", "torque"} <= has:
        out["wear_torque"] = frame["tool_wear"] * frame["torque"]
        if "product_type" in has:
            limit = encode_product_type(frame["product_type"]).map(OVERSTRAIN_LIMIT_MIN_NM)
            out["overstrain_margin"] = out["wear_torque"] - limit.astype("float64")
    if "temp_diff" in out.columns and "spindle_speed" in has:
        out["heat_margin"] = np.maximum(
            out["temp_diff"] - HEAT_DISSIPATION_DT_K, (frame["spindle_speed"] - HEAT_DISSIPATION_RPM) / 100.0
        )
    if "product_type" in has:
        out["product_type"] = encode_product_type(frame["product_type"])
    if "kind" in has:
        out["kind"] = encode_kind(frame["kind"])
    return out


def physics_arrays(cols: Mapping[str, np.ndarray], product_code: float) -> dict[str, np.ndarray]:
    """The physics features of ``features.add_physics_features`` on plain arrays (same formulas)."""
    out: dict[str, np.ndarray] = {}
    if "process_temp" in cols and "air_temp" in cols:
        out["temp_diff"] = cols["process_temp"] - cols["air_temp"]
    if "torque" in cols and "spindle_speed" in cols:
        power = cols["torque"] * cols["spindle_speed"] * (2.0 * math.pi / 60.0)
        out["mech_power_w"] = power
        out["power_margin"] = np.minimum(power - POWER_LOW_W, POWER_HIGH_W - power)
    if "tool_wear" in cols and "torque" in cols:
        out["wear_torque"] = cols["tool_wear"] * cols["torque"]
        limit = OVERSTRAIN_LIMIT_MIN_NM.get(product_code, math.nan)
        out["overstrain_margin"] = out["wear_torque"] - limit
    if "temp_diff" in out and "spindle_speed" in cols:
        out["heat_margin"] = np.maximum(
            out["temp_diff"] - HEAT_DISSIPATION_DT_K, (cols["spindle_speed"] - HEAT_DISSIPATION_RPM) / 100.0
        )
    return out


def catalogue_signal_columns() -> list[str]:
    """Every sensor key of the catalogue followed by the physics columns: the signals windowed for the twin."""
    return [*all_sensor_keys(), *PHYSICS_COLUMNS]


def bin_means(
    ts_ms: np.ndarray, columns: Mapping[str, np.ndarray], signals: Sequence[str], step_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each signal per time bin of ``step_s`` seconds: (bin end times in ms, int64 (k,); means (k, signals)).

    The bin label is the bin's end, so a row never contains readings from after its own time. A bin exists when a
    reading falls in it; empty bins are absent, not filled (a stopped machine has no readings and should not get
    invented ones). A signal without a value in a bin is NaN there. The one binning of training and serving.
    """
    ts = np.asarray(ts_ms, dtype="int64")
    step_ms = round(step_s * 1000)
    uniq, inverse = np.unique((ts // step_ms + 1) * step_ms, return_inverse=True)
    k = len(uniq)
    grid = np.full((k, len(signals)), np.nan)
    for j, name in enumerate(signals):
        col = columns.get(name)
        if col is None:
            continue
        v = np.asarray(col, dtype="float64")
        ok = ~np.isnan(v)
        counts = np.bincount(inverse[ok], minlength=k)
        sums = np.bincount(inverse[ok], weights=v[ok], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            grid[:, j] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return uniq, grid


def resample_machine(wide: pd.DataFrame, signals: Sequence[str], step_s: float, time_col: str = "ts") -> pd.DataFrame:
    """``bin_means`` of one machine's wide readings (``time_col`` in ms UTC) as a frame with ``time_col``."""
    cols = {c: wide[c].to_numpy("float64") for c in signals if c in wide.columns}
    ts, grid = bin_means(wide[time_col].to_numpy("int64"), cols, signals, step_s)
    out = pd.DataFrame(grid, columns=list(signals))
    out.insert(0, time_col, ts)
    return out


def window_stats(
    times: np.ndarray, grid: np.ndarray, window: int, span: float, rows: np.ndarray | None = None, per: float = 1.0
) -> np.ndarray:
    """Windowed statistics of ``grid`` (k rows in time order, one column per signal) at ``rows`` (default all).

    The window of row i holds the rows j <= i with ``times[i] - span < times[j]``, at most ``window`` of them
    (grid times are distinct multiples of the step, so a span of ``window`` steps holds at most ``window`` rows:
    the window is a stretch of time, and a machine that was down for part of it simply has fewer rows in it).
    Per signal: last value, mean, standard deviation, least-squares slope (per ``per`` of time) and maximum, all
    NaN-aware; returns (len(rows), 5 x signals), signal-major (``s__last, s__mean, ...``). The one window kernel of
    training (every row) and serving (the newest row only), so the two cannot drift apart.
    """
    t_all = np.asarray(times, dtype="float64")
    n, n_sig = grid.shape
    at = np.arange(n) if rows is None else np.asarray(rows, dtype=np.intp)
    idx = at[:, None] + np.arange(-window + 1, 1)[None, :]  # (r, w): the window's rows, oldest first
    valid = idx >= 0
    idx = np.clip(idx, 0, max(n - 1, 0))
    if n == 0:
        return np.full((len(at), 5 * n_sig), np.nan)
    t_now = t_all[at][:, None]
    t = t_all[idx]
    valid &= t > t_now - span
    vals = np.where(valid[:, :, None], grid[idx], np.nan)  # (r, w, s)
    present = ~np.isnan(vals)
    any_present = present.any(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=1)
        std = np.nanstd(vals, axis=1)
        mx = np.nanmax(vals, axis=1)
    w = vals.shape[1]
    last_k = w - 1 - np.argmax(present[:, ::-1, :], axis=1)  # (r, s)
    last = np.take_along_axis(vals, last_k[:, None, :], axis=1)[:, 0, :]
    last = np.where(any_present, last, np.nan)
    x = np.where(present, ((t - t_now) / per)[:, :, None], 0.0)
    y = np.where(present, vals, 0.0)
    cnt = present.sum(axis=1).astype("float64")
    sx, sy, sxx, sxy = x.sum(1), y.sum(1), (x * x).sum(1), (x * y).sum(1)
    denom = cnt * sxx - sx * sx
    ok = denom > 1e-9
    slope = np.where(ok, (cnt * sxy - sx * sy) / np.where(ok, denom, 1.0), np.nan)
    return np.stack([last, mean, std, slope, mx], axis=2).reshape(len(at), 5 * n_sig)


def window_features(grid: pd.DataFrame, signals: Sequence[str], window: int) -> pd.DataFrame:
    """Windowed statistics per signal over the last ``window`` rows of ``grid`` (``window_stats`` with the row
    number as time): last value, mean, standard deviation, slope (per row) and maximum. Columns are named
    ``<signal>__<stat>``."""
    values = grid[list(signals)].to_numpy("float64")
    stats = window_stats(np.arange(len(grid), dtype="float64"), values, window, float(window))
    return pd.DataFrame(stats, columns=window_feature_names(signals), index=grid.index)


def window_feature_names(signals: Sequence[str]) -> list[str]:
    """The names ``window_stats`` produces for ``signals``, in order."""
    return [f"{s}__{stat}" for s in signals for stat in WINDOW_STATS]
