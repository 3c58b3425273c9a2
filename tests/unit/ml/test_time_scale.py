"""A time-compressed simulator (the demo at 60x) gets the same features as the same history in real time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.layout import load_layout
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.predictor import Predictor
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.timeseries import HistorySpec
from factorytwin.store.base import ReadingColumns
from factorytwin.store.sqlite import SQLiteStore

SPEC = HistorySpec()
T_END_MS = 1_780_000_000_000


@dataclass
class HistoryBundleStandIn:
    """What ``Predictor._feature_rows`` reads of a history model: its shape, spec, feature names and how many
    steps its alert rule looks back over."""

    shape: str = "history"
    spec: dict[str, Any] = field(
        default_factory=lambda: {
            "step_s": SPEC.step_s,
            "window": SPEC.window,
            "horizon_h": SPEC.horizon_h,
            "signals": list(SPEC.signals),
        }
    )
    features: list[str] = field(default_factory=SPEC.feature_names)
    alert_lookback_steps: int = 2


def _inputs(scale: float) -> dict[str, Any]:
    """13 hours of a wearing mill at one reading per simulated minute, squeezed ``scale`` times in wall time."""
    mill = next(m for m in load_layout().machines if m.id == "mill-01")
    minutes = np.arange(13 * 60)
    wall_ms = T_END_MS - ((minutes[-1] - minutes) * 60_000 / scale).astype("int64")
    cols = ReadingColumns()
    for t, i in zip(wall_ms, minutes, strict=True):
        for sensor, value in (("torque", 40.0 + 0.01 * i), ("tool_wear", 0.5 * i), ("spindle_speed", 1500.0)):
            cols.machine_ids.append(mill.id)
            cols.sensors.append(sensor)
            cols.ts_ms.append(int(t))
            cols.values.append(value)
    serviced = datetime.fromtimestamp((T_END_MS - 22 * 3_600_000 / scale) / 1000, UTC)
    back = datetime.fromtimestamp((T_END_MS - 20 * 3_600_000 / scale) / 1000, UTC)
    events = [  # newest first, as the store lists them: a two-hour maintenance (a renewal) that ended 20 h ago
        Event(machine_id=mill.id, ts=back, kind=EventKind.STATUS, status=MachineStatus.RUNNING),
        Event(
            machine_id=mill.id,
            ts=serviced,
            kind=EventKind.MAINTENANCE,
            status=MachineStatus.MAINTENANCE,
            data={"event": "maintenance"},
        ),
    ]
    return {"machine": mill, "readings": cols, "events": events}


def test_features_of_a_60x_simulator_match_the_same_history_in_real_time(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    store = SQLiteStore(tmp_path / "unused.db")  # never opened: the features come from the inputs alone
    real = Predictor(store, registry, [], time_scale=1.0)
    fast = Predictor(store, registry, [], time_scale=60.0)
    bundle = cast(ModelBundle, HistoryBundleStandIn())  # a duck: the attributes the features read
    want_t, want_rows = real._feature_rows(bundle, _inputs(1.0))
    got_t, got_rows = fast._feature_rows(bundle, _inputs(60.0))
    names = SPEC.feature_names()
    assert want_rows.shape == (3, len(names))  # the newest step and the two its alert rule looks back over
    assert np.all(np.diff(want_t) == 1.0)  # hourly steps, in hours
    assert np.isfinite(want_rows[:, names.index("hours_since_renewal")]).all()
    np.testing.assert_allclose(got_rows, want_rows, rtol=1e-6, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got_t, want_t, rtol=0, atol=1e-6)
    want = want_rows[-1]
    # and without the scale, the squeezed two-hour maintenance would look like a two-minute tool change (no
    # renewal: the age unknown) and the window would hold 60 times as much machine time
    _, unscaled = real._feature_rows(bundle, _inputs(60.0))
    assert np.isnan(unscaled[-1, names.index("hours_since_renewal")])
    assert np.isfinite(want[names.index("hours_since_renewal")])
