"""Training data: reading and checking files, and turning them into labelled feature tables.

Three shapes of history become one ``LabeledData``:

- a per-sample table (like AI4I 2020): one row per operation, a 0/1 target column, optional failure-mode flags;
- run-to-failure time series: unit id, cycle/time, sensors, each unit ending in a failure (or a 0/1 event column);
- the simulator's (or the store's) wide readings with an event log of failures and maintenance.

A file that cannot be used raises ``TrainingDataError`` naming the column, which the CLI prints as one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from factorytwin.errors import FactoryTwinError
from factorytwin.ml.features import AI4I_ALIASES, add_physics_features

# Failure-mode flag columns of AI4I 2020 and the mode each one names. They are labels, never features.
AI4I_MODE_FLAGS: dict[str, str] = {
    "TWF": "tool_wear",
    "HDF": "heat_dissipation",
    "PWF": "power",
    "OSF": "overstrain",
    "RNF": "random",
}
ID_LIKE_COLUMNS = frozenset({"UDI", "Product ID", "machine_id", "id", "unit", "unit_id"})


class TrainingDataError(FactoryTwinError):
    """A training file that cannot be used; ``column`` names the offending column (None: the file itself)."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


@dataclass
class LabeledData:
    """Features and labels of one training set.

    ``y`` is 1 when the row fails (within the horizon for time series); ``rul`` the remaining useful life in the
    data's time unit (NaN when censored or unknown); ``mode`` the failure mechanism of failing rows ("" else);
    ``groups`` the unit/machine of each row, so cross-validation never splits one machine's history. Machine
    history also carries ``times`` (hours) of each row, ``kinds`` (machine -> kind) and ``failures``
    (``machine_id, t_h, mode``), so that cross-validation can report alert episodes (``ml.events``).
    """

    X: pd.DataFrame
    y: np.ndarray
    rul: np.ndarray | None = None
    mode: np.ndarray | None = None
    groups: np.ndarray | None = None
    shape: str = "table"
    source: dict[str, Any] = field(default_factory=dict)
    times: np.ndarray | None = None
    kinds: dict[str, str] | None = None
    failures: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.y)


def read_frame(path: Path) -> pd.DataFrame:
    """Read a CSV (BOM tolerated) or Parquet file; refuse other types and unreadable files with a clear message."""
    if not path.is_file():
        raise TrainingDataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8-sig")
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise TrainingDataError(f"{path}: cannot be read: {exc}") from exc
    raise TrainingDataError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")


def require_columns(frame: pd.DataFrame, columns: list[str], what: str = "column") -> None:
    """Raise naming the first missing column (and the columns that exist)."""
    for col in columns:
        if col not in frame.columns:
            have = ", ".join(map(str, frame.columns[:20]))
            raise TrainingDataError(f"missing {what} '{col}' (the file has: {have})", column=col)


def _binary(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A 0/1 label column as int8; refuse anything else naming the column."""
    s = frame[col]
    if s.dtype == bool:
        return np.asarray(s, dtype="int8")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() | ~num.isin([0, 1])
    if bad.any():
        first = s[bad].iloc[0]
        raise TrainingDataError(
            f"column '{col}' must hold 0/1 (or true/false); row {int(np.flatnonzero(bad)[0])} has {first!r}", col
        )
    return np.asarray(num, dtype="int8")


def _numeric_features(frame: pd.DataFrame, exclude: set[str]) -> pd.DataFrame:
    """The numeric feature columns; text columns other than the known categoricals are refused, naming them."""
    cols: dict[str, pd.Series] = {}
    for col in frame.columns:
        if col in exclude:
            continue
        s = frame[col]
        if col in {"product_type", "kind"}:
            cols[col] = s  # encoded by add_physics_features
            continue
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            cols[col] = s.astype("float64")
            continue
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna()
        if bad.any():
            raise TrainingDataError(
                f"column '{col}' must be numeric; row {int(np.flatnonzero(bad)[0])} has {s[bad].iloc[0]!r} "
                f"(drop it with --drop '{col}')",
                col,
            )
        cols[col] = num.astype("float64")
    return pd.DataFrame(cols, index=frame.index)


def mode_labels(frame: pd.DataFrame, flag_columns: dict[str, str], y: np.ndarray) -> np.ndarray:
    """The failure mode of each failing row from 0/1 flag columns (the first flag set wins); "" otherwise."""
    mode = np.full(len(frame), "", dtype=object)
    for col, name in reversed(list(flag_columns.items())):
        flags = _binary(frame, col).astype(bool)
        mode[flags & (y == 1)] = name
    return mode


def prepare_table(
    frame: pd.DataFrame,
    target: str,
    mode_columns: dict[str, str] | None = None,
    drop: list[str] | None = None,
) -> LabeledData:
    """A per-sample classification table: features from every numeric column except the target, id columns,
    ``drop`` and the mode flags (AI4I's TWF/HDF/PWF/OSF/RNF are recognised on their own). AI4I column names are
    mapped to catalogue keys and the physics features are added."""
    require_columns(frame, [target], "target column")
    drop = list(drop or [])
    require_columns(frame, drop, "column to drop")
    if mode_columns is None:
        mode_columns = {c: m for c, m in AI4I_MODE_FLAGS.items() if c in frame.columns}
    require_columns(frame, list(mode_columns), "mode column")
    y = _binary(frame, target)
    mode = mode_labels(frame, mode_columns, y) if mode_columns else None
    renamed = frame.rename(columns=AI4I_ALIASES)
    exclude = {AI4I_ALIASES.get(c, c) for c in [target, *drop, *mode_columns]} | ID_LIKE_COLUMNS
    X = add_physics_features(_numeric_features(renamed, exclude))
    if X.shape[1] == 0:
        raise TrainingDataError("no feature columns left after removing the target, ids and labels")
    source = {"shape": "table", "rows": len(frame), "target": target, "positives": int(y.sum())}
    return LabeledData(X=X.reset_index(drop=True), y=y, mode=mode, shape="table", source=source)


def label_time_to_event(
    times: np.ndarray, failure_times: np.ndarray, renewal_times: np.ndarray, end_time: float, horizon: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels of one unit's rows at ``times`` (sorted): (fails within horizon, RUL, keep).

    The next failure after a row ends its life unless a renewal (maintenance/repair) comes first, which censors
    it. RUL is NaN when censored. A row is kept when its horizon is observed: it fails within the horizon, or the
    data (and no renewal) run at least ``horizon`` past it.
    """
    # an infinite sentinel at the end: "no later event" needs no special case
    failure_times = np.append(np.sort(np.asarray(failure_times, dtype="float64")), np.inf)
    renewal_times = np.append(np.sort(np.asarray(renewal_times, dtype="float64")), np.inf)
    next_fail = failure_times[np.searchsorted(failure_times, times, side="left")]  # a row at the failure: RUL 0
    next_renew = renewal_times[np.searchsorted(renewal_times, times, side="right")]
    failed_first = next_fail <= next_renew
    rul = np.where(failed_first & np.isfinite(next_fail), next_fail - times, np.nan)
    y = (rul <= horizon).astype("int8")
    observed_until = np.minimum(next_renew, end_time)
    keep = (y == 1) | (observed_until - times >= horizon)
    return y, rul, keep
