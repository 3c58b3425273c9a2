"""Time-series training data: machine history (simulator or store) and a plant's run-to-failure files.

Both become one row per machine and time step with windowed features of the recent past and labels of the
future: fails within the horizon, remaining useful life, mode of the coming failure. Features only look back
(rolling windows end at the row; bins are labelled by their end), labels only look forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from factorytwin.ml.datasets import (
    ID_LIKE_COLUMNS,
    LabeledData,
    TrainingDataError,
    _binary,
    _numeric_features,
    label_time_to_event,
    require_columns,
)
from factorytwin.ml.features import (
    add_physics_features,
    catalogue_signal_columns,
    encode_kind,
    encode_product_type,
    resample_machine,
    window_feature_names,
    window_features,
)

MS_PER_HOUR = 3_600_000.0
# Statuses whose readings say nothing about wear in operation (the sim/twin may still report values then).
NON_OPERATING = frozenset({"failed", "maintenance", "offline"})
RENEWAL_EVENTS = frozenset({"repair", "maintenance"})


@dataclass(frozen=True)
class HistorySpec:
    """How history is turned into features: grid step, window length (steps), horizon (hours), signals."""

    step_s: float = 3600.0
    window: int = 12
    horizon_h: float = 24.0
    signals: tuple[str, ...] = field(default_factory=lambda: tuple(catalogue_signal_columns()))

    def feature_names(self) -> list[str]:
        """Every feature of a history row, in model order."""
        return [*window_feature_names(self.signals), "hours_since_renewal", "kind", "product_type"]


def ts_ms(values: pd.Series, column: str) -> pd.Series:
    """Times as int64 milliseconds since the epoch: from timestamps (the simulator's parquet) or numbers."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize("UTC") if getattr(values.dt, "tz", None) is None else values
        return stamps.dt.tz_convert("UTC").astype("datetime64[ms, UTC]").astype("int64")
    num = pd.to_numeric(values, errors="coerce")
    if num.isna().any():
        raise TrainingDataError(f"column '{column}' must be a timestamp or milliseconds since the epoch", column)
    return num.astype("int64")


SHORT_SERVICE_MS = 3_600_000  # a maintenance over in less than an hour is a tool change, not a renewal


def history_frames(readings: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readings and an event log as training and scoring read them: required columns checked, ``ts`` in ms,
    a ``mode`` column on the events (empty when the log has none)."""
    require_columns(readings, ["machine_id", "ts"])
    require_columns(events, ["machine_id", "ts", "event"], "event column")
    readings = readings.assign(ts=ts_ms(readings["ts"], "ts"))
    events = events.assign(ts=ts_ms(events["ts"], "ts"))
    if "mode" not in events.columns:
        events = events.assign(mode="")
    return readings, events


def renewals_only(events: pd.DataFrame) -> pd.DataFrame:
    """The events that renew a machine: repairs, and maintenance lasting at least an hour.

    A quick service (the simulator's tool change: 10 minutes of maintenance) renews one part whose wear is itself
    a feature; counting it as a renewal would censor nearly every mill hour. The length of a maintenance is the
    time to the machine's next event (its return to service); one with no later event counts as a renewal.
    """
    ev = events.sort_values(["machine_id", "ts"])
    nxt = ev.groupby("machine_id")["ts"].shift(-1)
    short = (ev["event"] == "maintenance") & ((nxt - ev["ts"]) < SHORT_SERVICE_MS)
    return ev[ev["event"].isin(RENEWAL_EVENTS) & ~short]


def _events_ms(events: pd.DataFrame, machine_id: str, kinds: frozenset[str]) -> pd.DataFrame:
    sel = events[(events["machine_id"] == machine_id) & events["event"].isin(kinds)]
    return sel.sort_values("ts")


def machine_features(
    wide: pd.DataFrame,
    renewal_ms: np.ndarray,
    spec: HistorySpec,
    kind: str | None,
    product_type: str | None,
    origin_ms: float | None = None,
) -> pd.DataFrame:
    """Feature rows (one per grid step, column ``ts`` in ms) of one machine's wide readings.

    ``renewal_ms`` are the times of failures, repairs and maintenance, which reset the machine's age; before the
    first one the age counts from ``origin_ms`` (the start of the machine's data), or is unknown (NaN) when None.
    """
    if "status" in wide.columns:
        wide = wide[~wide["status"].astype("string").isin(NON_OPERATING).fillna(False)]
    # the product type sets the overstrain limit; the kind is a constant feature added below
    wide = add_physics_features(wide.drop(columns=["kind"], errors="ignore").assign(product_type=product_type))
    grid = resample_machine(wide, spec.signals, spec.step_s)
    feats = window_features(grid, spec.signals, spec.window)
    ts = grid["ts"].to_numpy(dtype="float64")
    origin = np.nan if origin_ms is None else float(origin_ms)
    renewals = np.concatenate([[origin], np.sort(np.asarray(renewal_ms, dtype="float64"))])
    last_renewal = renewals[np.searchsorted(renewals[1:], ts, side="right")]
    feats["hours_since_renewal"] = (ts - last_renewal) / MS_PER_HOUR
    feats["kind"] = encode_kind(pd.Series([kind] * len(grid), dtype="object")).to_numpy()
    feats["product_type"] = encode_product_type(pd.Series([product_type] * len(grid), dtype="object")).to_numpy()
    feats.insert(0, "ts", grid["ts"].to_numpy())
    return feats


def _first_text(frame: pd.DataFrame, col: str) -> str | None:
    if col not in frame.columns:
        return None
    s = frame[col].dropna()
    return str(s.iloc[0]) if len(s) else None


def prepare_history(readings: pd.DataFrame, events: pd.DataFrame, spec: HistorySpec | None = None) -> LabeledData:
    """Labelled feature rows from wide readings (``machine_id, kind, ts`` ms, sensor columns, optional
    ``status``/``product_type``) and an event log (``machine_id, ts, event, mode``; event failure, repair,
    maintenance...). A failure within ``horizon_h`` of a row makes it positive; RUL is in hours."""
    spec = spec or HistorySpec()
    readings, events = history_frames(readings, events)
    renewing = renewals_only(events)
    parts: list[pd.DataFrame] = []
    kinds: dict[str, str] = {}
    failures: list[pd.DataFrame] = []
    for machine_id, wide in readings.groupby("machine_id", sort=True):
        wide = wide.sort_values("ts")
        mid = str(machine_id)
        fails = _events_ms(events, mid, frozenset({"failure"}))
        renew = _events_ms(renewing, mid, RENEWAL_EVENTS)
        renewal_ms = np.concatenate([fails["ts"].to_numpy("float64"), renew["ts"].to_numpy("float64")])
        kind, ptype = _first_text(wide, "kind"), _first_text(wide, "product_type")
        feats = machine_features(wide, renewal_ms, spec, kind, ptype, origin_ms=float(wide["ts"].iloc[0]))
        ts_h = feats["ts"].to_numpy("float64") / MS_PER_HOUR
        fail_h = fails["ts"].to_numpy("float64") / MS_PER_HOUR
        end_h = float(wide["ts"].max()) / MS_PER_HOUR
        renew_h = renew["ts"].to_numpy("float64") / MS_PER_HOUR
        y, rul, keep = label_time_to_event(ts_h, fail_h, renew_h, end_h, spec.horizon_h)
        mode = np.full(len(ts_h), "", dtype=object)
        if len(fail_h):
            nxt = np.minimum(np.searchsorted(fail_h, ts_h, side="left"), len(fail_h) - 1)
            mode = np.where(y == 1, fails["mode"].fillna("").astype(str).to_numpy()[nxt], "")
        feats = feats.assign(_y=y, _rul=rul, _mode=mode, _machine=mid, _t_h=ts_h)[keep]
        parts.append(feats)
        kinds[mid] = kind or ""
        failures.append(
            pd.DataFrame({"machine_id": mid, "t_h": fail_h, "mode": fails["mode"].fillna("").astype(str).to_numpy()})
        )
    if not parts:
        raise TrainingDataError("the readings hold no machine", column="machine_id")
    rows = pd.concat(parts, ignore_index=True)
    X = rows[spec.feature_names()].astype("float64")
    source = {
        "shape": "history",
        "rows": len(rows),
        "machines": int(rows["_machine"].nunique()),
        "failures": int(events["event"].eq("failure").sum()),
        "horizon_h": spec.horizon_h,
        "step_s": spec.step_s,
        "window_steps": spec.window,
    }
    return LabeledData(
        X=X,
        y=rows["_y"].to_numpy("int8"),
        rul=rows["_rul"].to_numpy("float64"),
        mode=rows["_mode"].to_numpy(object),
        groups=rows["_machine"].to_numpy(object),
        shape="history",
        source=source,
        times=rows["_t_h"].to_numpy("float64"),
        kinds=kinds,
        failures=pd.concat(failures, ignore_index=True),
    )


def prepare_run_to_failure(
    frame: pd.DataFrame,
    unit_col: str,
    time_col: str,
    horizon: float,
    window: int = 10,
    target: str | None = None,
    drop: Sequence[str] = (),
) -> tuple[LabeledData, tuple[str, ...]]:
    """Run-to-failure series (like NASA C-MAPSS): each unit's rows ordered by ``time_col``. Without ``target``
    every unit fails at its last row; with it, rows where ``target`` is 1 are failures (later rows continue a new
    life). Features are windowed statistics of every numeric sensor column over the last ``window`` rows plus the
    unit's age. Returns the data and the sensor columns used."""
    require_columns(frame, [unit_col, time_col, *([target] if target else []), *drop])
    times = pd.to_numeric(frame[time_col], errors="coerce")
    if times.isna().any():
        raise TrainingDataError(f"column '{time_col}' must be numeric (cycle or time)", time_col)
    sensors_frame = _numeric_features(frame, {unit_col, time_col, *(drop or ()), *([target] if target else [])})
    sensors_frame = sensors_frame.drop(columns=[c for c in ID_LIKE_COLUMNS if c in sensors_frame], errors="ignore")
    signals = tuple(c for c in sensors_frame.columns if c not in {"product_type", "kind"})
    if not signals:
        raise TrainingDataError("no numeric sensor columns besides the unit, time and target columns")
    flags = _binary(frame, target) if target else None
    parts: list[pd.DataFrame] = []
    for unit, idx in frame.groupby(unit_col, sort=True).groups.items():
        order = times.loc[idx].sort_values().index
        t = times.loc[order].to_numpy("float64")
        feats = window_features(sensors_frame.loc[order, list(signals)].reset_index(drop=True), signals, window)
        fail_t = t[flags[frame.index.get_indexer(order)] == 1] if flags is not None else t[-1:]
        y, rul, keep = label_time_to_event(t, fail_t, np.array([]), float(t[-1]), horizon)
        starts = np.concatenate([[t[0]], fail_t])
        k = np.searchsorted(starts, t, side="left") - 1
        feats["age"] = t - starts[np.clip(k, 0, len(starts) - 1)]
        parts.append(feats.assign(_y=y, _rul=rul, _unit=str(unit))[keep])
    rows = pd.concat(parts, ignore_index=True)
    names = [*window_feature_names(signals), "age"]
    source = {"shape": "run_to_failure", "rows": len(rows), "units": int(rows["_unit"].nunique()), "horizon": horizon}
    data = LabeledData(
        X=rows[names].astype("float64"),
        y=rows["_y"].to_numpy("int8"),
        rul=rows["_rul"].to_numpy("float64"),
        groups=rows["_unit"].to_numpy(object),
        shape="run_to_failure",
        source=source,
    )
    return data, signals
