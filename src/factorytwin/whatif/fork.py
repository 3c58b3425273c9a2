"""Fork the simulator: a snapshot of an engine's full state, restored into new, independent engines.

A snapshot holds every attribute of the engine (``vars(engine)``): the parts' wear and damage, temperatures, the
job in progress of every machine, statuses and timers (repairs, maintenance due), pending events and the random
generator's state. It is generic on purpose: an attribute the engine gains later is carried without a change here
(``tests/unit/whatif/test_fork.py`` checks that a fork continues exactly as the original).

What never changes after construction (the layout, the column map, the pool of measurement noise, the kind
models) is shared between the original and its forks instead of copied: the noise pool alone is 16 MB.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from factorytwin.sim.engine import Engine

SHARED_ATTRIBUTES = ("layout", "noise_pool", "columns", "keys", "machine_ids", "kinds", "index", "product_types")
"""Engine attributes that are read only after construction: shared by the original and its forks."""


@dataclass(frozen=True)
class Snapshot:
    """The full state of an engine at one instant (see the module docstring); picklable for a worker process."""

    state: dict[str, Any]

    @property
    def t(self) -> float:
        """Simulation seconds since the engine's start."""
        return float(self.state["t"])

    @property
    def taken_at(self) -> datetime:
        """The simulated wall time of the snapshot (UTC)."""
        start: datetime = self.state["start"]
        return start + timedelta(seconds=self.t)

    @property
    def machine_ids(self) -> list[str]:
        """The machines, in the engine's order."""
        ids: list[str] = self.state["machine_ids"]
        return list(ids)

    def engine(self, seed: int | None = None) -> Engine:
        """A new engine in this state; with ``seed`` its random stream is restarted from it (Monte-Carlo runs)."""
        return restore(self, seed)


def _copy_state(attributes: dict[str, Any]) -> dict[str, Any]:
    memo: dict[int, Any] = {}
    for name in SHARED_ATTRIBUTES:
        if name in attributes:
            memo[id(attributes[name])] = attributes[name]
    for group in attributes.get("groups", []):
        memo[id(group.model)] = group.model  # module-level singletons without state
    return {name: copy.deepcopy(value, memo) for name, value in attributes.items()}


def fork(engine: Engine) -> Snapshot:
    """Snapshot ``engine`` now; the engine is not changed and goes on independently of the snapshot."""
    return Snapshot(_copy_state(vars(engine)))


def restore(snapshot: Snapshot, seed: int | None = None) -> Engine:
    """A new engine in the snapshot's state (the snapshot stays reusable). Without ``seed`` it continues exactly
    as the original would have; with ``seed`` the same state goes on with the random stream of that seed."""
    engine = Engine.__new__(Engine)
    vars(engine).update(_copy_state(snapshot.state))
    if seed is not None:
        engine.rng = np.random.default_rng(seed)
    return engine
