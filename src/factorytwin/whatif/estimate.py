"""The simulator's state of a machine fed by real data: wear and damage fitted so its simulated sensors match the
machine's recent readings.

The estimator (per machine): the kind's wear variables (``KindModel.wear_keys``: tool wear, bearing damage, seal
wear, cooler fouling, strainer clogging, belt and joint wear) are the unknowns, bounded by ``UPPER``. For a guess,
a one-machine engine of that kind is put in that state (failure thresholds out of the way), warmed up for
``WARM_UP_S`` and run for ``WINDOW_S`` without measurement noise; the mean of each sensor while running is
compared with the mean of the recent readings while running, each residual scaled by the sensor's measurement
noise or 2 % of its normal band, whichever is larger. ``scipy.optimize.least_squares`` (bounded, trust region)
finds the guess with the smallest sum of squares from three starts. The operations simulated are drawn with a
fixed seed (the same for every guess), so the objective is deterministic; the real machine's operations differ,
which is part of the fit error.

The fit error is reported per machine as the RMS of the scaled residuals (1 = one noise-or-band unit off on
average) and per sensor. What the readings cannot show is not fitted: a pump's cavitation damage (the impeller's
erosion leaves no trace in the sensors until it fails) starts at 0. Temperatures are not fitted either: they
follow the load within half an hour, so the warm-up settles them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from factorytwin.domain import FactoryLayout, Machine, MachineKind, ProductionLine, sensor_specs
from factorytwin.sim.engine import Engine
from factorytwin.sim.physics import MODELS
from factorytwin.sim.state import RUNNING
from factorytwin.whatif.fork import Snapshot, fork

F64 = NDArray[np.float64]
WARM_UP_S = 1800.0
WINDOW_S = 3600.0
FORWARD_DT_S = 10.0
UPPER: dict[str, float] = {
    "tool_wear": 260.0,
    "seal_wear": 100.0,
    "bearing": 1.0,
    "fouling": 1.3,
    "clog": 1.3,
    "belt": 1.0,
    "joint": 1.0,
}
"""Upper bounds of the fitted wear variables (their failure levels or a little beyond)."""
NOT_OBSERVABLE = frozenset({"cavitation"})
EXOGENOUS = frozenset({"air_temp"})


@dataclass(frozen=True)
class WearEstimate:
    """The fitted wear of one machine and how well the simulated sensors then match the readings."""

    machine_id: str
    kind: MachineKind
    wear: dict[str, float]
    fit_error: float  # RMS of the scaled residuals
    residuals: dict[str, float] = field(default_factory=dict)  # sensor -> (simulated - read) / scale
    sensors_used: int = 0


def _layout(kind: MachineKind, metadata: Mapping[str, Any]) -> FactoryLayout:
    meta = {k: v for k, v in metadata.items() if k not in {"demo_fault", "initial_wear"}}
    return FactoryLayout(
        name="estimate",
        lines=[ProductionLine(id="l", name="l")],
        machines=[
            Machine(id="m", name="m", profile=kind.value, line="l", x=0, y=0, metadata={**meta, "initial_wear": 0.0})
        ],
    )


class ForwardModel:
    """Mean simulated sensors (while running) of one machine of ``kind`` in a given wear state."""

    def __init__(self, kind: MachineKind, metadata: Mapping[str, Any] | None = None, seed: int = 0) -> None:
        engine = Engine(_layout(kind, metadata or {}), seed=seed, noise=False)
        engine.next_pm[:] = np.inf
        g = engine.groups[0]
        for key in g.state:
            if key.endswith("_at"):  # failure and tool-change thresholds: not while we look
                g.state[key][:] = 1e12
        g.job["rnf_at"][:] = np.inf
        self.kind = kind
        self.model = MODELS[kind]
        self.unknowns = tuple(k for k in self.model.wear_keys if k not in NOT_OBSERVABLE)
        self.sensors = tuple(k for k in g.keys if k not in EXOGENOUS)
        self._snapshot: Snapshot = fork(engine)

    def means(self, wear: Mapping[str, float]) -> dict[str, float]:
        """Sensor -> mean over the window's running samples, with the wear variables set to ``wear``."""
        engine = self._snapshot.engine()
        g = engine.groups[0]
        for key, value in wear.items():
            g.state[key][0] = value
        engine.step(FORWARD_DT_S, int(WARM_UP_S / FORWARD_DT_S))
        for key, value in wear.items():  # the warm-up wore the parts a little: the window starts at the guess
            g.state[key][0] = value
        frame = engine.step(FORWARD_DT_S, int(WINDOW_S / FORWARD_DT_S))
        running = frame.status[:, 0] == RUNNING
        rows = frame.values[running] if running.any() else frame.values
        cols = frame.columns.of_machine(0)
        return {frame.columns.keys[int(frame.columns.key[c])]: float(rows[:, c].mean()) for c in cols}


def sensor_scale(kind: MachineKind, key: str) -> float:
    """The unit a residual of ``key`` is measured in: measurement noise or 2 % of the normal band."""
    spec = sensor_specs(kind)[key]
    return max(float(MODELS[kind].noise.get(key, 0.0)), 0.02 * (spec.normal_high - spec.normal_low), 1e-6)


def estimate_wear(
    machine_id: str,
    kind: MachineKind,
    observed: Mapping[str, float],
    metadata: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
) -> WearEstimate:
    """Fit the wear of one machine to ``observed`` (sensor -> mean of its recent readings while running)."""
    forward = ForwardModel(kind, metadata, seed)
    used = [k for k in forward.sensors if k in observed and np.isfinite(observed[k])]
    if not used:
        return WearEstimate(machine_id, kind, dict.fromkeys(forward.unknowns, 0.0), float("nan"), {}, 0)
    scale = np.array([sensor_scale(kind, k) for k in used])
    target = np.array([float(observed[k]) for k in used])
    upper = np.array([UPPER.get(k, 1.0) for k in forward.unknowns])

    def residuals(x: F64) -> F64:
        sim = forward.means(dict(zip(forward.unknowns, x.tolist(), strict=True)))
        out: F64 = (np.array([sim[k] for k in used]) - target) / scale
        return out

    best: Any = None
    for start in (0.2, 0.5, 0.8):
        fit = least_squares(residuals, upper * start, bounds=(np.zeros_like(upper), upper), diff_step=1e-3, max_nfev=60)
        if best is None or fit.cost < best.cost:
            best = fit
    res = residuals(best.x)
    return WearEstimate(
        machine_id=machine_id,
        kind=kind,
        wear={k: round(float(v), 4) for k, v in zip(forward.unknowns, best.x, strict=True)},
        fit_error=round(float(np.sqrt(np.mean(res**2))), 4),
        residuals={k: round(float(r), 3) for k, r in zip(used, res, strict=True)},
        sensors_used=len(used),
    )


def running_means(values: Mapping[str, F64], kind: MachineKind, activity_key: str) -> dict[str, float]:
    """Mean of each sensor over the samples where the machine moved (its activity sensor above 10 % of the normal
    band's lower edge), from aligned arrays of recent readings; all samples when it never moved."""
    activity = values.get(activity_key)
    spec = sensor_specs(kind).get(activity_key)
    mask = None
    if activity is not None and spec is not None:
        mask = np.asarray(activity) >= 0.1 * spec.normal_low
        if not mask.any():
            mask = None
    out = {}
    for key, series in values.items():
        arr = np.asarray(series, dtype=np.float64)
        chosen = arr[mask] if mask is not None and mask.shape == arr.shape else arr
        chosen = chosen[np.isfinite(chosen)]
        if chosen.size:
            out[key] = float(chosen.mean())
    return out


def apply_estimate(engine: Engine, estimate: WearEstimate) -> None:
    """Put the fitted wear into machine ``estimate.machine_id`` of ``engine``."""
    g, j = engine.group_of(engine.index[estimate.machine_id])
    for key, value in estimate.wear.items():
        g.state[key][j] = value
