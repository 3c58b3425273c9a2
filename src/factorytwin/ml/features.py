"""Feature engineering: physics features from sensor columns and windowed statistics over recent history.

Column names are sensor keys of the catalogue (``domain.CATALOGUE``) wherever the data allows, so one feature
pipeline serves the simulator, the store's history, AI4I 2020 and a plant's own files. Everything here is
vectorised pandas/numpy; nothing reads labels, so no function here can leak the answer into a feature.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def catalogue_signal_columns() -> list[str]:
    """Every sensor key of the catalogue followed by the physics columns: the signals windowed for the twin."""
    return [*all_sensor_keys(), *PHYSICS_COLUMNS]


def resample_machine(wide: pd.DataFrame, signals: Sequence[str], step_s: float, time_col: str = "ts") -> pd.DataFrame:
    """Mean of each signal per time bin of ``step_s`` seconds for one machine (``time_col`` in ms UTC).

    The bin label is the bin's end, so a row never contains readings from after its own time.
    Empty bins are dropped, not filled: a stopped machine has no readings and should not get invented ones.
    """
    step_ms = round(step_s * 1000)
    bins = (np.floor_divide(wide[time_col].to_numpy(dtype="int64"), step_ms) + 1) * step_ms
    present = [c for c in signals if c in wide.columns]
    grouped = wide[present].groupby(bins, sort=True).mean()
    grouped = grouped.reindex(columns=list(signals))
    grouped.index.name = time_col
    return grouped.reset_index()


def _rolling_slope(values: pd.DataFrame, window: int) -> pd.DataFrame:
    """Least-squares slope per row over the last ``window`` rows (unit per row), NaN-aware via rolling sums."""
    n = values.notna().astype("float64")
    idx = pd.Series(np.arange(len(values), dtype="float64"), index=values.index)
    x = n.mul(idx, axis=0)
    y = values.fillna(0.0)
    r = {"n": n, "x": x, "y": y, "xx": x.mul(idx, axis=0), "xy": y.mul(idx, axis=0)}
    s = {k: v.rolling(window, min_periods=1).sum() for k, v in r.items()}
    denom = s["n"] * s["xx"] - s["x"] ** 2
    slope = (s["n"] * s["xy"] - s["x"] * s["y"]) / denom.where(denom > 1e-12)
    return slope


def window_features(grid: pd.DataFrame, signals: Sequence[str], window: int) -> pd.DataFrame:
    """Windowed statistics per signal over the last ``window`` grid rows of one machine: last value, mean,
    standard deviation, slope (per grid step) and maximum. Columns are named ``<signal>__<stat>``."""
    values = grid[list(signals)].astype("float64")
    roll = values.rolling(window, min_periods=1)
    parts = {
        "last": values.ffill(),
        "mean": roll.mean(),
        "std": roll.std(ddof=0),
        "slope": _rolling_slope(values, window),
        "max": roll.max(),
    }
    frames = [part.add_suffix(f"__{stat}") for stat, part in parts.items()]
    out = pd.concat(frames, axis=1)
    ordered = [f"{s}__{stat}" for s in signals for stat in WINDOW_STATS]
    return out[ordered]


def window_feature_names(signals: Sequence[str]) -> list[str]:
    """The names ``window_features`` produces for ``signals``, in order."""
    return [f"{s}__{stat}" for s in signals for stat in WINDOW_STATS]
