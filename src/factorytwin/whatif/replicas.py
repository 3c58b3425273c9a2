"""Many futures of one plant at once: ``ReplicaEngine`` steps R copies of a snapshot's machines as one engine.

The engine's own ``step`` cuts every block at the first failure, service or timer of *any* machine, which is exact
but makes a block per event: with 200 copies of a 16-machine plant that is a cut every few simulated seconds, and
one copy at a time costs 2.5 s per 14 simulated days (about 600 blocks of Python overhead). Here a block is cut
only at a fixed grid (``block_s``, an hour by default) and at the plan's change times, and every machine keeps
its own trigger: the physics, job draws and transitions are the engine's own (``KindModel.simulate``,
``jobs_in_block``, ``_fail``, ``_service``, ``start_maintenance``), only the bookkeeping differs:

- a machine that fails or needs a service inside a block keeps its state from that sample (as ``Engine`` does)
  and stays put until the block ends; its outage is counted from the trigger, so repairs longer than the rest of
  the block are exact; a quick tool change (10 min) loses on average the rest of its block (documented bias);
- a repair or maintenance that ends inside a block ends at one of the block's two edges, the later one with the
  probability that keeps the expected running time exact (stochastic rounding);
- the random stream of the blocks (jobs, random failures) is kept apart from the stream of the transitions (repair
  times, new tool lives), so that two scenarios run with the same seed see the same jobs for as long as their
  blocks coincide (common random numbers: the difference between scenarios has less noise than each);
- no sensor values are kept (noise off, no frame built): a Monte-Carlo run only needs what happened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from factorytwin.domain import FailureMode
from factorytwin.sim.engine import PM_HOURS, Engine
from factorytwin.sim.jobs import KindGroup
from factorytwin.sim.state import FAILED, Hall
from factorytwin.whatif.fork import Snapshot, _copy_state

F64 = NDArray[np.float64]
DEFAULT_DT_S = 120.0
DEFAULT_BLOCK_S = 3600.0


@dataclass
class Tally:
    """What happened to each machine of each replica: arrays (replicas, machines)."""

    replicas: int
    machines: int
    horizon_s: float
    t0: float
    failures: NDArray[np.int64] = field(init=False)
    downtime_s: F64 = field(init=False)
    visits: NDArray[np.int64] = field(init=False)  # preventive and planned maintenance (not tool changes)
    tool_changes: NDArray[np.int64] = field(init=False)
    first_failure_s: F64 = field(init=False)  # after the fork; inf: none within the horizon
    running_s: F64 = field(init=False)
    output_s: F64 = field(init=False)  # running seconds x speed fraction: the production model's stand-in
    modes: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    snap_s: list[float] = field(default_factory=list)  # seconds after the fork of each snap (the fan charts)
    snaps: list[F64] = field(default_factory=list)  # (4, replicas, machines): failures, downtime_s, visits, output_s

    def snap(self, t_s: float) -> None:
        """Keep the running totals as they are ``t_s`` after the fork (one point of the fan charts)."""
        self.snap_s.append(t_s)
        self.snaps.append(np.stack([self.failures, self.downtime_s, self.visits, self.output_s]).astype(np.float64))

    def __post_init__(self) -> None:
        shape = (self.replicas, self.machines)
        self.failures = np.zeros(shape, dtype=np.int64)
        self.downtime_s = np.zeros(shape)
        self.visits = np.zeros(shape, dtype=np.int64)
        self.tool_changes = np.zeros(shape, dtype=np.int64)
        self.first_failure_s = np.full(shape, np.inf)
        self.running_s = np.zeros(shape)
        self.output_s = np.zeros(shape)

    def outage(self, r: int, i: int, t: float, seconds: float) -> None:
        """Machine ``i`` of replica ``r`` down from ``t`` (engine time) for ``seconds``, clipped to the horizon."""
        end = self.t0 + self.horizon_s
        self.downtime_s[r, i] += max(0.0, min(t + seconds, end) - t)


class ReplicaEngine(Engine):
    """R copies of a snapshot's plant, stepped together (see the module docstring). Machine ``i`` of replica ``r``
    is machine ``r * n + i`` of this engine."""

    def __init__(self, snapshot: Snapshot, replicas: int, seed: int, *, block_s: float = DEFAULT_BLOCK_S) -> None:
        # Deliberately not Engine.__init__: the state comes from the snapshot, repeated ``replicas`` times.
        base: dict[str, Any] = _copy_state(snapshot.state)
        n = len(base["machine_ids"])
        self.replicas, self.n_plant = replicas, n
        vars(self).update(base)
        self.noise = False
        self.noise_pool = np.empty(0)
        self.machine_ids = list(base["machine_ids"]) * replicas
        self.kinds = list(base["kinds"]) * replicas
        self.product_types = list(base["product_types"]) * replicas
        for name in ("status", "speed_pct", "wanted_run", "until", "next_pm"):
            setattr(self, name, np.tile(base[name], replicas))
        self.repairing = list(base["repairing"]) * replicas
        hall: Hall = base["hall"]
        hall.offset = np.tile(hall.offset, replicas)
        self.pending = []
        self.groups = [self._replicate(g, n, replicas) for g in base["groups"]]
        self._where = {int(i): (g, j) for g in self.groups for j, i in enumerate(g.idx.tolist())}
        self.rng = np.random.default_rng([seed, 0])  # blocks: jobs, random failures
        self.event_rng = np.random.default_rng([seed, 1])  # transitions: repair times, new thresholds, rounding
        self.block_s = block_s
        self.tally = Tally(replicas, n, math.inf, self.t)

    @staticmethod
    def _replicate(g: KindGroup, n: int, replicas: int) -> KindGroup:
        def tile(d: dict[str, F64]) -> dict[str, F64]:
            return {k: np.tile(v, replicas) for k, v in d.items()}

        idx = (g.idx[None, :] + n * np.arange(replicas)[:, None]).ravel().astype(np.intp)
        return KindGroup(
            model=g.model,
            idx=idx,
            cols=g.cols,
            span=g.span,
            keys=g.keys,
            noise_sd=g.noise_sd,
            low=g.low,
            high=g.high,
            consts=tile(g.consts),
            state=tile(g.state),
            job=tile(g.job),
            job_start=np.tile(g.job_start, replicas),
            job_end=np.tile(g.job_end, replicas),
        )

    # -------------------------------------------------------------------------------------------- bookkeeping
    def group_of(self, i: int) -> tuple[KindGroup, int]:
        """The kind group of machine ``i`` and its position there (a table: the engine's scan is per call)."""
        return self._where[i]

    def emit(self, i: int, event: str, mode: str | None = None, message: str = "", **data: object) -> None:
        """Tally the event instead of keeping it."""
        r, m = divmod(i, self.n_plant)
        tally = self.tally
        if event == "failure":
            tally.failures[r, m] += 1
            if mode is not None:
                tally.modes.setdefault(mode, np.zeros_like(tally.failures))[r, m] += 1
            tally.first_failure_s[r, m] = min(tally.first_failure_s[r, m], self.t - tally.t0)
            hours = data.get("repair_hours", 0.0)
            tally.outage(r, m, self.t, float(hours) * 3600.0 if isinstance(hours, int | float) else 0.0)
        elif event == "maintenance":
            if data.get("reason") == "service":
                tally.tool_changes[r, m] += 1
                tally.outage(r, m, self.t, self.group_of(i)[0].model.service_minutes * 60.0)
            else:
                tally.visits[r, m] += 1
                hours = data.get("hours", PM_HOURS)
                tally.outage(r, m, self.t, float(hours) * 3600.0 if isinstance(hours, int | float) else 0.0)

    def _on_event_stream(self, action: Any, *args: Any) -> None:
        blocks, self.rng = self.rng, self.event_rng
        try:
            action(*args)
        finally:
            self.rng = blocks

    def start_maintenance(self, i: int, hours: float, reason: str) -> None:
        """The engine's maintenance, drawing from the transitions' stream."""
        blocks, self.rng = self.rng, self.event_rng
        try:
            super().start_maintenance(i, hours, reason)
        finally:
            self.rng = blocks

    # ---------------------------------------------------------------------------------------------- stepping
    def advance(self, until: float, dt: float) -> None:
        """Step every replica from ``self.t`` to engine time ``until`` (blocks of ``block_s`` at most)."""
        per_block = max(1, int(self.block_s // dt))
        while self.t < until - 1e-9:
            n = max(1, min(per_block, math.ceil((until - self.t) / dt - 1e-9)))
            self._replica_block(dt, n)

    def _replica_block(self, dt: float, n: int) -> None:
        t = self.t + dt * np.arange(1, n + 1, dtype=np.float64)
        triggered: list[tuple[float, KindGroup, int, int]] = []
        for g, (block, jobs, idx, starts) in zip(self.groups, self.block_inputs(t, dt), strict=True):
            result = g.model.simulate(block, g.state, g.consts)
            cand = self._first_trigger(g, result, n)
            k = np.minimum(cand.fail_row, n - 1)
            rows = np.arange(len(g.idx))
            for key, traj in result.state.items():
                g.state[key] = np.array(np.broadcast_to(traj, (n, len(rows)))[k, rows], dtype=np.float64)
            at = idx[k, rows]
            g.job = {key: v[rows, at] for key, v in jobs.items()}
            g.job_start = starts[rows, at]
            g.job_end = g.job_start + g.job["dur"]
            moving = block.moving[0]
            kept_s = (k + 1) * dt * moving
            r, m = np.divmod(g.idx, self.n_plant)
            self.tally.running_s[r, m] += kept_s
            self.tally.output_s[r, m] += kept_s * block.speed
            for j in np.flatnonzero(cand.fail_row < n).tolist():
                triggered.append((float(t[k[j]]), g, j, int(cand.mode_at[j])))
        end = float(t[-1])
        for when, g, j, mode_i in sorted(triggered, key=lambda x: x[0]):
            self.t = when
            if mode_i < 0:
                self._on_event_stream(self._service, g, j)
            else:
                self._on_event_stream(self._fail, g, j, g.model.modes[mode_i])
        self.t = end
        self._replica_timers()

    def _replica_timers(self) -> None:
        """Outages that end by the next block edge end now with the probability that keeps running time exact;
        preventive maintenances that are due start now."""
        coin = self.event_rng.random(self.until.shape[0])
        for i in np.flatnonzero(self.until <= self.t + self.block_s * coin + 1e-9).tolist():
            g, j = self.group_of(i)
            mode = self.repairing[i]
            if mode is not None:
                self._on_event_stream(self._renew, g, j, g.model.repair_resets[FailureMode(mode)])
            self.status[i] = self.resume_status(i)
            self.until[i] = np.inf
            self.repairing[i] = None
            self.abort_job(g, j)
        for i in np.flatnonzero((self.next_pm <= self.t + 1e-9) & (self.status < FAILED)).tolist():
            self.start_maintenance(i, PM_HOURS, "preventive")
