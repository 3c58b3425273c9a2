"""The engine: deterministic, complete (every sensor of every kind), physically plausible output."""

from __future__ import annotations

import numpy as np
import pytest

from factorytwin.domain import CATALOGUE, MachineKind, sensor_specs
from factorytwin.layout import load_layout
from factorytwin.sim import Engine
from factorytwin.sim.state import RUNNING

from .helpers import engine_for


def test_same_seed_gives_identical_output() -> None:
    a = Engine(load_layout(), seed=7).step(1.0, 7200)
    b = Engine(load_layout(), seed=7).step(1.0, 7200)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.status, b.status)
    assert a.events == b.events


def test_different_seed_gives_different_output() -> None:
    a = Engine(load_layout(), seed=1).step(1.0, 600)
    b = Engine(load_layout(), seed=2).step(1.0, 600)
    assert not np.array_equal(a.values, b.values)


def test_step_by_one_matches_the_shape_of_a_block() -> None:
    engine = Engine(load_layout(), seed=3)
    frame = engine.step(1.0)
    assert frame.values.shape == (1, engine.n_columns)
    assert engine.t == 1.0
    assert engine.step(1.0, 10).t.tolist() == [float(t) for t in range(2, 12)]


def test_every_sensor_of_every_kind_is_produced() -> None:
    engine = Engine(load_layout(), seed=0)
    frame = engine.step(1.0, 60)
    for i, kind in enumerate(engine.kinds):
        produced = set(frame.machine_values(0, i))
        assert produced == {spec.key for spec in CATALOGUE[kind]}, kind
    dense = frame.dense()
    assert dense.shape == (60, len(engine.machine_ids), len(engine.keys))
    assert np.isfinite(frame.values).all()


@pytest.mark.parametrize("kind", list(MachineKind))
def test_healthy_machine_stays_in_physical_range_and_mostly_in_normal_band(kind: MachineKind) -> None:
    engine = engine_for(kind, noise=True, seed=11)
    frame = engine.step(1.0, 6 * 3600)
    running = frame.status[:, 0] == RUNNING
    assert running.mean() > 0.9
    for c in frame.columns.of_machine(0):
        key = frame.columns.keys[int(frame.columns.key[c])]
        spec = sensor_specs(kind)[key]
        values = frame.values[:, c]
        assert ((values >= spec.low) & (values <= spec.high)).all(), key
        inside = ((values[running] >= spec.normal_low) & (values[running] <= spec.normal_high)).mean()
        assert inside > 0.9, f"{kind.value}.{key}: only {inside:.0%} of running samples in the normal band"


def test_air_temperature_follows_a_daily_cycle() -> None:
    engine = engine_for(MachineKind.PUMP, noise=False)
    frame = engine.step(60.0, 24 * 60)  # one day at one sample a minute
    day = frame.values[:, 0]  # air_temp is the first sensor of every kind
    hours = (frame.t / 3600.0) % 24
    assert day[(hours > 13) & (hours < 17)].mean() > day[(hours > 1) & (hours < 5)].mean() + 2.5


def test_process_temperature_lags_the_load() -> None:
    engine = engine_for(MachineKind.CNC_MILL)
    g = engine.group_of(0)[0]
    g.state["delta_t"][0] = 1.0  # a cold process, as after a long stop
    frame = engine.step(1.0, 3600)
    process = frame.values[:, 1] - frame.values[:, 0]
    assert process[0] < 2.0
    assert 5.0 < process[600] < process[1800] < process[-1] + 0.5  # ~ 1 - e^-1 of the way after one time constant


def test_a_step_of_a_year_in_hour_chunks_keeps_time_consistent() -> None:
    engine = Engine(load_layout(), seed=5, max_block_s=900.0)
    total = 0
    for _ in range(4):
        total += engine.step(1.0, 3600).n
    assert total == 4 * 3600
    assert engine.t == 4 * 3600.0
