"""The feature row of a machine's newest grid step: the serving path.

Training (``timeseries.machine_features``, every row) and serving (this module, the newest row only) call the one
``timeseries.feature_matrix``: the same status filter, physics, binning, window kernel and age. Serving only asks
for the last row, which keeps it well under a millisecond. ``tests/unit/ml/test_parity.py`` replays a stored
history through a ``Predictor`` and holds its answers equal to the offline ones.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from factorytwin.ml.features import physics_arrays
from factorytwin.ml.timeseries import HistorySpec, feature_matrix
from factorytwin.store.base import ReadingColumns

__all__ = ["arrays_from_columns", "latest_feature_row", "latest_feature_rows", "physics_arrays"]


def arrays_from_columns(cols: ReadingColumns) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Long readings of one machine as (sorted unique times, sensor -> values aligned with them, NaN if absent)."""
    ts_all = np.asarray(cols.ts_ms, dtype="int64")
    ts, inverse = np.unique(ts_all, return_inverse=True)
    sensors = np.asarray(cols.sensors, dtype=object)
    vals = np.asarray(cols.values, dtype="float64")
    out: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(cols.sensors):
        sel = sensors == name
        arr = np.full(len(ts), np.nan)
        arr[inverse[sel]] = vals[sel]
        out[str(name)] = arr
    return ts, out


def latest_feature_row(
    ts_ms: np.ndarray,
    values: Mapping[str, np.ndarray],
    renewal_ms: np.ndarray,
    spec: HistorySpec,
    kind: str | None,
    product_type: str | None,
    status: np.ndarray | None = None,
    origin_ms: float | None = None,
) -> np.ndarray:
    """Features (``spec.feature_names()`` order) of the newest grid step of one machine's raw readings: the row
    ``timeseries.machine_features`` gives that step, through the same ``timeseries.feature_matrix``.

    ``ts_ms``: reading times; ``values``: sensor key -> array aligned with ``ts_ms`` (NaN where absent);
    ``status``: the machine's status at each reading (readings while not running are left out, as in training).
    """
    _, rows = latest_feature_rows(ts_ms, values, renewal_ms, spec, kind, product_type, status, origin_ms, n=1)
    return np.asarray(rows[-1], dtype="float64")


def latest_feature_rows(
    ts_ms: np.ndarray,
    values: Mapping[str, np.ndarray],
    renewal_ms: np.ndarray,
    spec: HistorySpec,
    kind: str | None,
    product_type: str | None,
    status: np.ndarray | None = None,
    origin_ms: float | None = None,
    n: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """The newest ``n`` grid steps of ``latest_feature_row``: (step end times in ms, rows), oldest first; one
    all-NaN row at time NaN when there are none. What a history model's alert rule needs (``AlertRule``)."""
    at, rows = feature_matrix(
        ts_ms, values, renewal_ms, spec, kind, product_type, status, origin_ms, last_n=max(int(n), 1)
    )
    if not len(rows):
        return np.array([np.nan]), np.full((1, len(spec.feature_names())), np.nan)
    return np.asarray(at, dtype="float64"), np.asarray(rows, dtype="float64")
