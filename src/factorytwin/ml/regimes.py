"""Operating-regime normalisation of run-to-failure signals: each sensor standardised per operating condition.

Where a machine runs at several operating points (altitude and Mach number of an engine, a press's tonnage
setting, a pump's duty point, the kind of product on a line), the operating point moves the sensors far more
than wear does: a window over rows flown at different points mixes levels that say nothing about health. The
usual remedy is to learn, from the training data, the mean and standard deviation of every sensor per operating
condition and to replace each reading by its z-score within its own condition; what is left is wear and noise.

Condition columns are found automatically (``find_condition_columns``) or named by the caller. A column is an
operating condition when its values fall into a few tight, well separated groups (2-8 groups that explain at
least 99.99 % of its variance, each holding at least 1 % of the rows: set points with measurement noise, or
codes) and when those groups do not follow a unit's life (a label that only ever steps one way within most units
that change it, like a warning flag that comes on late, is a stage of life, not a condition). Regimes are the
combinations of the condition columns' groups seen in training; a row is put in the group of the nearest group
centre. Every other signal is standardised per regime (regimes with fewer than ``MIN_REGIME_ROWS`` training rows,
and regimes never seen in training, use the statistics over all rows); the condition columns themselves stay as
they are (they say where the unit runs, which a model may still use). Everything is learned without labels, from
the training rows, and stored with the model, so that serving applies the very same transform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_GROUPS = 8  # more set points than this is a continuous setting, not a handful of operating conditions
MIN_EXPLAINED = 0.9999  # share of a column's variance its groups must explain (set points + measurement noise)
MIN_GROUP_SHARE = 0.01  # each group holds at least this share of the rows (a few outliers are not a condition)
MIN_REGIME_ROWS = 20  # fewer training rows than this: the regime's own statistics would be noise
MONOTONE_SHARE = 0.8  # a label stepping one way only in this share of the units that change it follows life
SAMPLE_ROWS = 50_000  # the group search looks at this many (evenly spaced) sorted values at most


def value_groups(values: np.ndarray) -> np.ndarray | None:
    """The centres (ascending) of the 2-``MAX_GROUPS`` tight groups a column's values fall into, or None when
    they do not (a continuous or constant column). Groups are cut at the largest gaps between sorted values; the
    fewest groups that explain ``MIN_EXPLAINED`` of the variance, each with ``MIN_GROUP_SHARE`` of the rows."""
    v = np.sort(np.asarray(values, dtype="float64")[np.isfinite(values)])
    if len(v) > SAMPLE_ROWS:
        v = v[np.linspace(0, len(v) - 1, SAMPLE_ROWS).astype(np.intp)]
    n = len(v)
    if n < 2 or v[-1] - v[0] <= 0.0:
        return None
    total = float(np.var(v))
    gaps = np.diff(v)
    order = np.argsort(gaps, kind="stable")[::-1][: MAX_GROUPS - 1]
    csum, csq = np.concatenate([[0.0], np.cumsum(v)]), np.concatenate([[0.0], np.cumsum(v * v)])
    for k in range(2, MAX_GROUPS + 1):
        if k - 1 > len(order) or gaps[order[k - 2]] <= 0.0:
            return None
        cuts = np.sort(order[: k - 1]) + 1
        edges = np.concatenate([[0], cuts, [n]])
        sizes = np.diff(edges)
        if sizes.min() < MIN_GROUP_SHARE * n:
            continue
        sums = csum[edges[1:]] - csum[edges[:-1]]
        within = float(np.sum((csq[edges[1:]] - csq[edges[:-1]]) - sums * sums / sizes)) / n
        if within <= (1.0 - MIN_EXPLAINED) * total:
            return np.asarray(sums / sizes)
    return None


def nearest_group(values: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The index of the nearest centre (``centres`` ascending) of each value; -1 where the value is missing."""
    v = np.asarray(values, dtype="float64")
    c = np.asarray(centres, dtype="float64")
    mids = (c[1:] + c[:-1]) / 2.0
    out = np.searchsorted(mids, v).astype(np.int64)
    return np.where(np.isfinite(v), out, -1)


def follows_life(labels: np.ndarray, units: np.ndarray) -> bool:
    """Whether group labels (rows in time order within each unit) step one way only in most units that change
    them: a stage of life (a flag that comes on), not an operating condition (which comes and goes, or is one
    unit's for all its life)."""
    frame = pd.DataFrame({"u": units, "g": labels})
    changing = monotone = 0
    for _, g in frame.groupby("u", sort=False)["g"]:
        d = np.diff(g.to_numpy())
        if not d.any():
            continue
        changing += 1
        monotone += int(bool((d >= 0).all() or (d <= 0).all()))
    return changing > 0 and monotone >= MONOTONE_SHARE * changing


def find_condition_columns(frame: pd.DataFrame, signals: Sequence[str], units: np.ndarray) -> list[str]:
    """The ``signals`` of ``frame`` (rows in time order within each of ``units``) that are operating conditions
    (module docstring)."""
    found = []
    for s in signals:
        values = frame[s].to_numpy("float64")
        centres = value_groups(values)
        if centres is not None and not follows_life(nearest_group(values, centres), units):
            found.append(s)
    return found


@dataclass(frozen=True)
class RegimeNormaliser:
    """Per-regime mean and standard deviation of each normalised signal, learned from training rows."""

    conditions: tuple[str, ...]
    centres: tuple[tuple[float, ...], ...]  # per condition column, its group centres (ascending)
    signals: tuple[str, ...]  # the signals standardised (every signal but the condition columns)
    regimes: tuple[tuple[int, ...], ...]  # the group labels of each regime with its own statistics
    mean: np.ndarray  # (regimes + 1, signals); the last row: over all training rows
    std: np.ndarray

    def regime_index(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's regime (an index into ``regimes``; ``len(regimes)``, the all-rows statistics, for a
        combination not learned)."""
        labels = np.column_stack(
            [
                nearest_group(frame[c].to_numpy("float64"), np.asarray(centres))
                for c, centres in zip(self.conditions, self.centres, strict=True)
            ]
        )
        known = {key: i for i, key in enumerate(self.regimes)}
        fallback = len(self.regimes)
        return np.array([known.get(tuple(int(x) for x in row), fallback) for row in labels], dtype=np.intp)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with every normalised signal replaced by its z-score within its row's regime."""
        idx = self.regime_index(frame)
        out = frame.copy()
        values = frame[list(self.signals)].to_numpy("float64")
        out[list(self.signals)] = (values - self.mean[idx]) / self.std[idx]
        return out

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able form for the model bundle's spec."""
        return {
            "conditions": list(self.conditions),
            "centres": [list(c) for c in self.centres],
            "signals": list(self.signals),
            "regimes": [list(r) for r in self.regimes],
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> RegimeNormaliser:
        """The normaliser ``to_spec`` wrote."""
        return cls(
            conditions=tuple(str(c) for c in spec["conditions"]),
            centres=tuple(tuple(float(x) for x in c) for c in spec["centres"]),
            signals=tuple(str(s) for s in spec["signals"]),
            regimes=tuple(tuple(int(x) for x in r) for r in spec["regimes"]),
            mean=np.asarray(spec["mean"], dtype="float64"),
            std=np.asarray(spec["std"], dtype="float64"),
        )


def _stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_sig = values.shape[1]
    mean = np.full(n_sig, 0.0)
    std = np.full(n_sig, 1.0)
    for j in range(n_sig):
        v = values[:, j][np.isfinite(values[:, j])]
        if len(v):
            mean[j] = float(v.mean())
            sd = float(v.std())
            std[j] = sd if sd > 1e-12 * max(1.0, abs(mean[j])) else 1.0  # constant here: centred, not scaled
    return mean, std


def fit_regimes(
    frame: pd.DataFrame, signals: Sequence[str], units: np.ndarray, conditions: Sequence[str] | None = None
) -> RegimeNormaliser | None:
    """The regime normaliser of training rows ``frame`` (in time order within each of ``units``): over the named
    ``conditions`` (found by ``find_condition_columns`` when None), or None when there is no condition column."""
    conds = list(conditions) if conditions is not None else find_condition_columns(frame, signals, units)
    if not conds:
        return None
    centres: list[tuple[float, ...]] = []
    for c in conds:
        found = value_groups(frame[c].to_numpy("float64"))
        centres.append(tuple(float(x) for x in found) if found is not None else (float(np.nanmedian(frame[c])),))
    normalised = tuple(s for s in signals if s not in conds)
    values = frame[list(normalised)].to_numpy("float64")
    labels = np.column_stack(
        [nearest_group(frame[c].to_numpy("float64"), np.asarray(ct)) for c, ct in zip(conds, centres, strict=True)]
    )
    keys, inverse, counts = np.unique(labels, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    regimes, means, stds = [], [], []
    for i, key in enumerate(keys):
        if counts[i] < MIN_REGIME_ROWS or (key < 0).any():
            continue
        m, s = _stats(values[inverse == i])
        regimes.append(tuple(int(x) for x in key))
        means.append(m)
        stds.append(s)
    m_all, s_all = _stats(values)
    return RegimeNormaliser(
        conditions=tuple(conds),
        centres=tuple(centres),
        signals=normalised,
        regimes=tuple(regimes),
        mean=np.vstack([*means, m_all]),
        std=np.vstack([*stds, s_all]),
    )
