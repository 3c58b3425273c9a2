"""The estimator recovers known wear from simulated readings (noise on, other operations than its own)."""

from __future__ import annotations

import numpy as np
import pytest

from factorytwin.domain import ACTIVITY_SENSOR, MachineKind
from factorytwin.layout import load_layout
from factorytwin.sim import Engine
from factorytwin.whatif.estimate import WearEstimate, apply_estimate, estimate_wear, running_means
from tests.unit.sim.helpers import engine_for

# The stated error of the estimator: how far from the true wear a fit of one hour of readings may land.
TOLERANCE = {"tool_wear": 5.0, "seal_wear": 3.0, "bearing": 0.05, "clog": 0.05, "fouling": 0.08, "joint": 0.06}


def _readings(kind: MachineKind, wear: dict[str, float]) -> dict[str, float]:
    """One hour of noisy readings (10 s apart) of a machine with ``wear``, reduced to running means."""
    engine = engine_for(kind, seed=21, noise=True)
    g = engine.groups[0]
    for key in g.state:
        if key.endswith("_at"):
            g.state[key][:] = 1e12  # no failure or tool change while we record
    for key, value in wear.items():
        g.state[key][0] = value
    engine.step(10.0, 180)
    for key, value in wear.items():
        g.state[key][0] = value
    frame = engine.step(10.0, 360)
    cols = frame.columns.of_machine(0)
    values = {frame.columns.keys[int(frame.columns.key[c])]: frame.values[:, c] for c in cols}
    return running_means(values, kind, ACTIVITY_SENSOR[kind])


@pytest.mark.parametrize(
    ("kind", "wear"),
    [
        (MachineKind.CNC_MILL, {"tool_wear": 120.0, "bearing": 0.55}),
        (MachineKind.HYDRAULIC_PRESS, {"seal_wear": 40.0, "fouling": 0.5, "bearing": 0.6}),
        (MachineKind.PUMP, {"clog": 0.7, "bearing": 0.5}),
        (MachineKind.ROBOT_ARM, {"joint": 0.6, "bearing": 0.5}),
    ],
)
def test_known_wear_is_recovered_within_the_stated_error(kind: MachineKind, wear: dict[str, float]) -> None:
    estimate = estimate_wear("m1", kind, _readings(kind, wear), seed=3)
    for key, true in wear.items():
        assert estimate.wear[key] == pytest.approx(true, abs=TOLERANCE[key]), key
    assert np.isfinite(estimate.fit_error)
    assert estimate.sensors_used >= 5


def test_without_readings_nothing_is_fitted_and_the_fit_error_says_so() -> None:
    estimate = estimate_wear("m1", MachineKind.PUMP, {}, seed=3)
    assert estimate.sensors_used == 0
    assert np.isnan(estimate.fit_error)


def test_an_estimate_is_put_into_the_engine() -> None:
    engine = Engine(load_layout(), seed=1)
    apply_estimate(engine, WearEstimate("press-02", MachineKind.HYDRAULIC_PRESS, {"seal_wear": 77.0}, 0.1))
    g, j = engine.group_of(engine.index["press-02"])
    assert g.state["seal_wear"][j] == 77.0
