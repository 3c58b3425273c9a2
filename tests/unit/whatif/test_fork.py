"""A fork continues exactly as the original for the same seed, and is independent of it."""

from __future__ import annotations

import pickle

import numpy as np

from factorytwin.layout import load_layout
from factorytwin.sim import Engine, Frame
from factorytwin.whatif.fork import fork, restore


def _same(a: Frame, b: Frame) -> None:
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.status, b.status)
    assert a.events == b.events


def _running_plant() -> Engine:
    """The default plant with fast demo faults, two simulated hours in: worn parts, failures under way."""
    engine = Engine(load_layout(), seed=5, demo_faults=True)
    engine.step(1.0, 7200)
    return engine


def test_a_fork_reproduces_the_next_simulated_hour_exactly() -> None:
    original = _running_plant()
    snapshot = fork(original)
    forked = restore(snapshot)
    a, b = original.step(1.0, 3600), forked.step(1.0, 3600)
    _same(a, b)
    assert any(e.event == "failure" for e in a.events)  # the hour is not trivially quiet
    assert snapshot.t == 7200.0
    assert snapshot.taken_at.isoformat() == "2025-01-01T02:00:00+00:00"


def test_a_snapshot_survives_pickling_for_a_worker_process() -> None:
    original = _running_plant()
    snapshot = pickle.loads(pickle.dumps(fork(original)))
    _same(original.step(60.0, 60), snapshot.engine().step(60.0, 60))


def test_forks_are_independent_of_the_original_and_of_each_other() -> None:
    original = _running_plant()
    snapshot = fork(original)
    first = snapshot.engine()
    first.stop_machine(0)
    first.step(1.0, 600)
    original.step(1.0, 600)
    second = snapshot.engine()
    assert second.t == 7200.0
    assert second.status[0] == snapshot.state["status"][0]
    _same(restore(snapshot).step(1.0, 300), second.step(1.0, 300))


def test_a_run_seed_gives_the_same_future_for_the_same_seed_and_another_for_another() -> None:
    snapshot = fork(_running_plant())
    a, b, c = snapshot.engine(seed=11), snapshot.engine(seed=11), snapshot.engine(seed=12)
    fa, fb, fc = a.step(1.0, 1800), b.step(1.0, 1800), c.step(1.0, 1800)
    _same(fa, fb)
    assert not np.array_equal(fa.values, fc.values)
