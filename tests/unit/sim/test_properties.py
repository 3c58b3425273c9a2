"""Physical invariants of the simulator, as hypothesis property tests.

The physics is checked on the models' true values (before measurement noise and before the engine clips to the
physical range), so that a clip cannot hide a broken invariant.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factorytwin.domain import Command, CommandKind, MachineKind, sensor_specs
from factorytwin.sim import apply_command
from factorytwin.sim.physics import KindResult

from .helpers import engine_for, group

KINDS = st.sampled_from(list(MachineKind))
CUTTING = st.sampled_from([MachineKind.CNC_MILL, MachineKind.LATHE])
SPEED = st.floats(min_value=0.0, max_value=120.0)
WEAR = st.floats(min_value=0.0, max_value=1.0)
SEED = st.integers(min_value=0, max_value=2**32 - 1)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _true_block(kind: MachineKind, seed: int, speed_pct: float, wear: float, seconds: int = 1800) -> KindResult:
    engine = engine_for(kind, seed=seed, initial_wear=wear)
    engine.speed_pct[0] = speed_pct
    t = np.arange(1, seconds + 1, dtype=np.float64)
    block = engine.block_inputs(t, 1.0)[0][0]
    g = group(engine)
    return g.model.simulate(block, g.state, g.consts)


@FAST
@given(kind=CUTTING, seed=SEED, speed_pct=SPEED, wear=WEAR)
def test_power_is_torque_times_angular_speed(kind: MachineKind, seed: int, speed_pct: float, wear: float) -> None:
    r = _true_block(kind, seed, speed_pct, wear)
    omega = r.values["spindle_speed"] * 2.0 * math.pi / 60.0
    np.testing.assert_allclose(r.values["power"] * 1000.0, r.values["torque"] * omega, rtol=1e-9, atol=1e-9)


@FAST
@given(kind=KINDS, seed=SEED, speed_pct=SPEED, wear=WEAR)
def test_true_values_lie_in_the_physical_range(kind: MachineKind, seed: int, speed_pct: float, wear: float) -> None:
    r = _true_block(kind, seed, speed_pct, wear)
    for key, spec in sensor_specs(kind).items():
        values = np.broadcast_to(r.values[key], r.values["air_temp"].shape)
        assert np.isfinite(values).all(), key
        assert values.min() >= spec.low, (key, values.min())
        assert values.max() <= spec.high, (key, values.max())
        if spec.unit == "K":  # plausible for a factory hall
            assert values.min() > 250.0, key
            assert values.max() < 420.0, key


@FAST
@given(kind=KINDS, seed=SEED, speed_pct=SPEED, wear=WEAR)
def test_wear_never_decreases_within_a_block(kind: MachineKind, seed: int, speed_pct: float, wear: float) -> None:
    r = _true_block(kind, seed, speed_pct, wear)
    for key in group(engine_for(kind)).model.wear_keys:
        traj = r.state[key]
        assert (np.diff(traj, axis=0) >= -1e-12).all(), key


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from([MachineKind.CNC_MILL, MachineKind.HYDRAULIC_PRESS]), seed=SEED, wear=WEAR)
def test_wear_sensor_is_monotonic_between_renewals(kind: MachineKind, seed: int, wear: float) -> None:
    engine = engine_for(kind, seed=seed, initial_wear=wear, noise=True)
    key = "tool_wear" if kind is MachineKind.CNC_MILL else "seal_wear"
    frame = engine.step(1.0, 12 * 3600)
    col = next(c for c in frame.columns.of_machine(0) if frame.columns.keys[int(frame.columns.key[c])] == key)
    values = frame.values[:, col]
    renewals = {e.t for e in frame.events if e.event in ("maintenance", "repair")}
    for r in np.flatnonzero(np.diff(values) < 0):
        assert float(frame.t[r]) in renewals, f"{key} fell at t={frame.t[r + 1]} without a maintenance or repair"


@FAST
@given(kind=KINDS, seed=SEED, wear=WEAR)
def test_maintained_machine_wear_resets(kind: MachineKind, seed: int, wear: float) -> None:
    engine = engine_for(kind, seed=seed, initial_wear=wear)
    engine.step(1.0, 600)
    apply_command(engine, "m1", Command(command=CommandKind.MAINTAIN))
    g = group(engine)
    for key in g.model.wear_keys:
        assert g.state[key][0] == 0.0, key
    frame = engine.step(1.0, 60)
    values = frame.machine_values(frame.n - 1, 0)
    for key in ("tool_wear", "seal_wear"):
        if key in values:
            assert values[key] == 0.0
