"""Helpers for the simulator's tests: one-machine factories and direct access to a machine's state."""

from __future__ import annotations

from typing import Any

import numpy as np

from factorytwin.domain import FactoryLayout, Machine, MachineKind, ProductionLine
from factorytwin.sim.engine import Engine
from factorytwin.sim.jobs import KindGroup
from factorytwin.sim.state import Frame


def one_machine_layout(kind: MachineKind, **metadata: Any) -> FactoryLayout:
    """A factory with a single machine ``m1`` of ``kind``."""
    return FactoryLayout(
        name="test",
        lines=[ProductionLine(id="l1", name="Line 1")],
        machines=[Machine(id="m1", name="M1", profile=kind, line="l1", x=0, y=0, metadata=metadata)],
    )


def engine_for(kind: MachineKind, *, seed: int = 1, noise: bool = False, **metadata: Any) -> Engine:
    """A one-machine engine, no preventive maintenance due, new parts (``initial_wear`` 0) unless told."""
    metadata.setdefault("initial_wear", 0.0)
    engine = Engine(one_machine_layout(kind, **metadata), seed=seed, noise=noise)
    engine.next_pm[:] = np.inf
    return engine


def group(engine: Engine) -> KindGroup:
    """The kind group of machine 0."""
    return engine.group_of(0)[0]


def hold_job(engine: Engine, **params: float) -> None:
    """Make machine 0's current operation last for ever, with the given parameters and no random failure."""
    g = group(engine)
    for key, value in params.items():
        g.job[key][0] = value
    g.job["rnf_at"][0] = np.inf
    g.job_end[0] = 1e12


def series(engine: Engine, frame: Frame, key: str, machine: int = 0) -> np.ndarray:
    """The samples of sensor ``key`` of ``machine`` in ``frame``."""
    col = [c for c in frame.columns.of_machine(machine) if frame.columns.keys[int(frame.columns.key[c])] == key]
    return frame.values[:, col[0]]


def failures(frame: Frame) -> list[str | None]:
    """The failure modes of the frame's failure events, in order."""
    return [e.mode for e in frame.events if e.event == "failure"]
