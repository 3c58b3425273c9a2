"""Time-series training data: machine history (simulator or store) and a plant's run-to-failure files.

Both become one row per machine and time step with windowed features of the recent past and labels of the
future: fails within the horizon, remaining useful life, mode of the coming failure. Features only look back
(rolling windows end at the row; bins are labelled by their end), labels only look forward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    KIND_CODES,
    PRODUCT_TYPE_CODES,
    bin_means,
    catalogue_signal_columns,
    physics_arrays,
    window_feature_names,
    window_features,
    window_stats,
)
from factorytwin.ml.regimes import RegimeNormaliser, fit_regimes

MS_PER_HOUR = 3_600_000.0
# Statuses whose readings say nothing about wear in operation (the sim/twin may still report values then): a
# failed machine or one in maintenance is not wearing, and an idle or stopped one reads as a different machine
# (no load, no cutting). Training and serving both leave these readings out of the features.
NON_OPERATING = frozenset({"failed", "maintenance", "offline", "stopped", "idle"})
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
LIFE_EVENTS = frozenset({"failure", "repair", "maintenance", "status"})  # commands and notes do not end a service


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
    time to the machine's next failure, repair, maintenance or status event (its return to service), and a long
    one renews the machine at that return (``ts`` is moved there): so whether a renewal happened before a time is
    known from the events before it, in a live server as in a recorded history. A maintenance still in progress
    (no later event) has not renewed anything yet.
    """
    ev = events[events["event"].isin(list(LIFE_EVENTS))].sort_values(["machine_id", "ts"], kind="stable")
    nxt = ev.groupby("machine_id")["ts"].shift(-1)
    maint = ev["event"] == "maintenance"
    long = maint & ((nxt - ev["ts"]) >= SHORT_SERVICE_MS)
    out = ev[(ev["event"] == "repair") | long].copy()
    out.loc[long[long].index, "ts"] = nxt[long].astype("int64")
    return out.sort_values(["machine_id", "ts"], kind="stable")


def life_renewals(ts_ms: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Times (ms, sorted) that reset one machine's age, from its event log (``ts_ms`` ascending, ``event`` names
    in the simulator's vocabulary): its failures, repairs, and the return to service after a maintenance of at
    least an hour (``renewals_only``'s rule). The one rule of training and serving."""
    t_all = np.asarray(ts_ms, dtype="float64")
    e_all = np.asarray(event, dtype=object)
    sel = np.isin(e_all, list(LIFE_EVENTS))
    t, e = t_all[sel], e_all[sel]
    nxt = np.append(t[1:], np.nan)
    long = (e == "maintenance") & (nxt - t >= SHORT_SERVICE_MS)
    return np.sort(np.concatenate([t[(e == "failure") | (e == "repair")], nxt[long]]))


def renewal_times(events: pd.DataFrame, machine_id: str | None = None) -> np.ndarray:
    """``life_renewals`` of one machine of an event log (``machine_id``; the whole log when None, which must then
    hold one machine)."""
    if machine_id is not None:
        events = events[events["machine_id"] == machine_id]
    ev = events.sort_values("ts", kind="stable")
    return life_renewals(ev["ts"].to_numpy("float64"), ev["event"].to_numpy(object))


def age_origin_ms(metadata: Mapping[str, object] | None) -> float | None:
    """When a machine's age starts before its first recorded renewal: its ``installed_at`` (or ``renewed_at``)
    metadata (ISO 8601 or ms), else unknown (None). Not the first reading: a history starts wherever the
    recording did, with machines part-worn (the simulator starts them at 0-60 % of their life)."""
    for key in ("renewed_at", "installed_at"):
        value = (metadata or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value:
            stamp = pd.Timestamp(value)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            return float(stamp.value // 1_000_000)
    return None


def operating(status: np.ndarray) -> np.ndarray:
    """True where a reading was taken while running (or with no status known)."""
    s = np.asarray(status, dtype=object)
    return ~np.isin(s.astype(str), list(NON_OPERATING))


def _events_ms(events: pd.DataFrame, machine_id: str, kinds: frozenset[str]) -> pd.DataFrame:
    sel = events[(events["machine_id"] == machine_id) & events["event"].isin(kinds)]
    return sel.sort_values("ts")


def feature_matrix(
    ts_ms: np.ndarray,
    values: Mapping[str, np.ndarray],
    renewal_ms: np.ndarray,
    spec: HistorySpec,
    kind: str | None,
    product_type: str | None,
    status: np.ndarray | None = None,
    origin_ms: float | None = None,
    last_n: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The one feature path of machine history, for training (every grid step) and serving (``last_n``: the newest
    ``last_n`` steps: 1 for a prediction, more for an alert rule that looks back).

    ``ts_ms``/``values``: one machine's readings (sensor key -> array aligned with ``ts_ms``, NaN where absent);
    ``status``: its status at each reading (readings while not running are dropped, see ``NON_OPERATING``);
    ``renewal_ms``: failures and renewals, which reset the age (``renewal_times``); before the first one the age
    counts from ``origin_ms`` or is unknown (NaN). Returns (grid step times in ms, rows in
    ``spec.feature_names()`` order): windowed statistics over the last ``spec.window`` steps of time
    (``features.window_stats``, slopes per step), hours since renewal, kind and product type codes.
    """
    ts = np.asarray(ts_ms, dtype="int64")
    keep = np.ones(len(ts), dtype=bool) if status is None else operating(status)
    ts = ts[keep]
    product_code = PRODUCT_TYPE_CODES.get(str(product_type).strip().upper(), np.nan) if product_type else np.nan
    cols = {k: np.asarray(v, dtype="float64")[keep] for k, v in values.items()}
    cols.update(physics_arrays(cols, product_code))
    bins, grid = bin_means(ts, cols, spec.signals, spec.step_s)
    step_ms = float(round(spec.step_s * 1000))
    rows = np.arange(len(bins))[-last_n:] if last_n else None
    stats = window_stats(bins.astype("float64"), grid, spec.window, spec.window * step_ms, rows, per=step_ms)
    at = bins if rows is None else bins[rows]
    t = at.astype("float64")
    origin = np.nan if origin_ms is None else float(origin_ms)
    renewals = np.concatenate([[origin], np.sort(np.asarray(renewal_ms, dtype="float64"))])
    # strictly before the step's end, like its readings (a bin holds [end - step, end)): a failure stamped exactly
    # at the end is the row's future (its label), not its past
    last_renewal = renewals[np.searchsorted(renewals[1:], t, side="left")]
    kind_code = KIND_CODES.get(kind, np.nan) if kind else np.nan
    age_h = (t - last_renewal) / MS_PER_HOUR
    extra = np.column_stack([age_h, np.full(len(t), kind_code), np.full(len(t), product_code)])
    return at, np.hstack([stats, extra])


def machine_features(
    wide: pd.DataFrame,
    renewal_ms: np.ndarray,
    spec: HistorySpec,
    kind: str | None,
    product_type: str | None,
    origin_ms: float | None = None,
) -> pd.DataFrame:
    """Feature rows (one per grid step, column ``ts`` in ms) of one machine's wide readings (``ts`` ms, sensor
    columns, optional ``status``): ``feature_matrix`` as a frame."""
    skip = {"machine_id", "kind", "ts", "status", "product_type"}
    values = {c: wide[c].to_numpy("float64") for c in wide.columns if c not in skip and c in spec.signals}
    status = wide["status"].astype("string").fillna("").to_numpy(object) if "status" in wide.columns else None
    at, rows = feature_matrix(
        wide["ts"].to_numpy("int64"), values, renewal_ms, spec, kind, product_type, status, origin_ms
    )
    feats = pd.DataFrame(rows, columns=spec.feature_names())
    feats.insert(0, "ts", at)
    return feats


def _first_text(frame: pd.DataFrame, col: str) -> str | None:
    if col not in frame.columns:
        return None
    s = frame[col].dropna()
    return str(s.iloc[0]) if len(s) else None


def prepare_history(
    readings: pd.DataFrame,
    events: pd.DataFrame,
    spec: HistorySpec | None = None,
    origins: Mapping[str, float | None] | None = None,
) -> LabeledData:
    """Labelled feature rows from wide readings (``machine_id, kind, ts`` ms, sensor columns, optional
    ``status``/``product_type``) and an event log (``machine_id, ts, event, mode``; event failure, repair,
    maintenance...). A failure within ``horizon_h`` of a row makes it positive; RUL is in hours. ``origins``:
    machine -> where its age counts from before its first renewal (``age_origin_ms``; default unknown)."""
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
        renewal_ms = renewal_times(events, mid)
        kind, ptype = _first_text(wide, "kind"), _first_text(wide, "product_type")
        feats = machine_features(wide, renewal_ms, spec, kind, ptype, origin_ms=(origins or {}).get(mid))
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


def run_to_failure_signals(
    frame: pd.DataFrame, unit_col: str, time_col: str, target: str | None = None, drop: Sequence[str] = ()
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The numeric sensor columns of a run-to-failure file (every numeric column but the unit, time, target,
    ``drop`` and id columns) as floats, and their names."""
    require_columns(frame, [unit_col, time_col, *([target] if target else []), *drop])
    sensors_frame = _numeric_features(frame, {unit_col, time_col, *(drop or ()), *([target] if target else [])})
    sensors_frame = sensors_frame.drop(columns=[c for c in ID_LIKE_COLUMNS if c in sensors_frame], errors="ignore")
    signals = tuple(c for c in sensors_frame.columns if c not in {"product_type", "kind"})
    if not signals:
        raise TrainingDataError("no numeric sensor columns besides the unit, time and target columns")
    return sensors_frame, signals


def unit_time_order(frame: pd.DataFrame, unit_col: str, time_col: str) -> pd.Index:
    """The row labels of ``frame`` ordered by unit, then time (the order windows and regimes read rows in)."""
    times = pd.to_numeric(frame[time_col], errors="coerce")
    if times.isna().any():
        raise TrainingDataError(f"column '{time_col}' must be numeric (cycle or time)", time_col)
    keys = pd.DataFrame({"u": frame[unit_col].astype(str), "t": times}, index=frame.index)
    return keys.sort_values(["u", "t"], kind="stable").index


def fit_run_to_failure_regimes(
    frame: pd.DataFrame,
    unit_col: str,
    time_col: str,
    target: str | None = None,
    drop: Sequence[str] = (),
    conditions: Sequence[str] | None = None,
) -> RegimeNormaliser | None:
    """The operating-regime normaliser of a run-to-failure training file (``ml.regimes``): over the named
    ``conditions``, found automatically when None; None when the file has no operating-condition column."""
    sensors_frame, signals = run_to_failure_signals(frame, unit_col, time_col, target, drop)
    if conditions is not None:
        require_columns(frame, list(conditions), "condition column")
        if not conditions:
            return None
    order = unit_time_order(frame, unit_col, time_col)
    units = frame.loc[order, unit_col].astype(str).to_numpy(object)
    return fit_regimes(sensors_frame.loc[order], signals, units, conditions)


def prepare_run_to_failure(
    frame: pd.DataFrame,
    unit_col: str,
    time_col: str,
    horizon: float,
    window: int = 10,
    target: str | None = None,
    drop: Sequence[str] = (),
    regimes: RegimeNormaliser | None = None,
) -> tuple[LabeledData, tuple[str, ...]]:
    """Run-to-failure series (like NASA C-MAPSS): each unit's rows ordered by ``time_col``. Without ``target``
    every unit fails at its last row; with it, rows where ``target`` is 1 are failures (later rows continue a new
    life). Features are windowed statistics of every numeric sensor column over the last ``window`` rows plus the
    unit's age; with ``regimes`` the sensors are first standardised per operating regime
    (``fit_run_to_failure_regimes``). Returns the data and the sensor columns used."""
    sensors_frame, signals = run_to_failure_signals(frame, unit_col, time_col, target, drop)
    times = pd.to_numeric(frame[time_col], errors="coerce")
    if times.isna().any():
        raise TrainingDataError(f"column '{time_col}' must be numeric (cycle or time)", time_col)
    if regimes is not None:
        sensors_frame = regimes.transform(sensors_frame)
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
