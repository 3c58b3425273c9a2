"""Monte-Carlo what-if: many seeded futures of a forked plant under each plan, in worker processes; results with
80 % intervals and each scenario's difference from the baseline.

``run_whatif`` splits the runs into chunks; a chunk simulates the same replicas (one seed) under the baseline and
under every scenario (common random numbers, see ``replicas``), in a ``ProcessPoolExecutor`` of spawned workers at
a lower CPU priority, so the live twin in the API process is not slowed. Progress is told after each chunk;
``cancel`` (a ``threading.Event``) stops the job: chunks not started are dropped and running ones stop at their
next block (a shared ``multiprocessing.Event``); ``Cancelled`` is raised.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

import numpy as np
from numpy.typing import NDArray

from factorytwin.errors import FactoryTwinError
from factorytwin.ml.schedule import CostModel
from factorytwin.whatif.fan import fan, fan_grid
from factorytwin.whatif.fork import Snapshot
from factorytwin.whatif.plan import Timetable
from factorytwin.whatif.replicas import DEFAULT_BLOCK_S, DEFAULT_DT_S, ReplicaEngine, Tally
from factorytwin.whatif.results import (
    Comparison,
    Difference,
    MachineOutcome,
    PlantOutcome,
    ScenarioOutcome,
    Spread,
    TimeToFailure,
    WhatIfResult,
)
from factorytwin.whatif.survival import SurvivalFit, draw_survival, join

F64 = NDArray[np.float64]
LOW_Q, HIGH_Q = 0.10, 0.90  # the 80 % interval
Z80 = 1.2815515655446004  # two-sided 80 % of a normal
WORKER_NICENESS = 10
SURVIVAL_POINTS = 24
Progress = Callable[[float], None]


class Cancelled(FactoryTwinError):
    """The what-if job was cancelled before it finished."""


# -------------------------------------------------------------------------------------------------- simulation
def _speed_at(table: Timetable, base: F64, t: float) -> F64:
    speed = base.copy()
    for start, end, i, pct in table.speeds:
        if start <= t < end:
            speed[i] = pct
    return speed


def _stopped_at(table: Timetable, n: int, t: float) -> NDArray[np.bool_]:
    out = np.zeros(n, dtype=bool)
    for start, end, i in table.stopped:
        if start <= t < end:
            out[i] = True
    return out


def simulate_plan(
    snapshot: Snapshot,
    table: Timetable,
    replicas: int,
    seed: int,
    *,
    dt_s: float = DEFAULT_DT_S,
    block_s: float = DEFAULT_BLOCK_S,
    cancel: ProcessEvent | threading.Event | None = None,
) -> Tally:
    """``replicas`` futures of the snapshot's plant over the timetable's horizon under its plan."""
    engine = ReplicaEngine(snapshot, replicas, seed, block_s=block_s)
    n, t0 = engine.n_plant, engine.t
    table = table.only(n)
    engine.tally = Tally(replicas, n, table.horizon_s, t0)
    every = n * np.arange(replicas)
    base_speed = engine.speed_pct[:n].copy()
    base_run = engine.wanted_run[:n].copy()
    for i, at in table.moved_pm.items():
        engine.next_pm[i + every] = t0 + at
    for i in table.removed_pm:
        engine.next_pm[i + every] = np.inf
    speed, stopped = base_speed.copy(), np.zeros(n, dtype=bool)
    visits = list(table.added_visits)
    grid = fan_grid(table.horizon_s)
    stops = sorted({0.0, *[c for c in table.change_times() if c > 0.0], *grid, table.horizon_s})
    for t in stops:  # at a fan point that is no change of the plan, the plan's state below is as it was: no-op
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        if t > 0.0:
            _advance(engine, t0 + t, dt_s, cancel)
        if t in grid:
            engine.tally.snap(t)
        if t >= table.horizon_s:
            break
        want_speed, want_stop = _speed_at(table, base_speed, t), _stopped_at(table, n, t)
        for i in np.flatnonzero(want_speed != speed).tolist():
            for k in i + every:
                engine.set_speed(int(k), float(want_speed[i]))
        for i in np.flatnonzero(want_stop & ~stopped).tolist():
            for k in i + every:
                engine.stop_machine(int(k))
        for i in np.flatnonzero(~want_stop & stopped & base_run).tolist():
            for k in i + every:
                engine.start_machine(int(k))
        speed, stopped = want_speed, want_stop
        while visits and visits[0][0] <= t:
            _, i, hours = visits.pop(0)
            for k in i + every:
                engine.start_maintenance(int(k), hours, "planned")
    return engine.tally


def _advance(engine: ReplicaEngine, until: float, dt_s: float, cancel: ProcessEvent | threading.Event | None) -> None:
    # Advance a day at a time, to look at the cancel flag now and then.
    while engine.t < until - 1e-9:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        engine.advance(min(until, engine.t + 86400.0), dt_s)


@dataclass(frozen=True)
class Chunk:
    """One worker task: ``replicas`` runs with ``seed`` under every plan (the baseline first)."""

    tables: tuple[Timetable, ...]
    replicas: int
    seed: int
    dt_s: float
    block_s: float


_WORKER: dict[str, Any] = {}


def _worker_init(snapshot: Snapshot, cancel: ProcessEvent) -> None:
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _WORKER["snapshot"], _WORKER["cancel"] = snapshot, cancel


def _run_chunk(chunk: Chunk) -> list[Tally]:
    snapshot: Snapshot = _WORKER["snapshot"]
    cancel: ProcessEvent | None = _WORKER.get("cancel")
    return [
        simulate_plan(snapshot, t, chunk.replicas, chunk.seed, dt_s=chunk.dt_s, block_s=chunk.block_s, cancel=cancel)
        for t in chunk.tables
    ]


def _chunks(
    tables: Sequence[Timetable], runs: int, seed: int, chunk_runs: int, dt_s: float, block_s: float
) -> list[Chunk]:
    count = max(1, math.ceil(runs / chunk_runs))
    sizes = [runs // count + (1 if c < runs % count else 0) for c in range(count)]
    return [Chunk(tuple(tables), size, seed * 1_000_003 + c, dt_s, block_s) for c, size in enumerate(sizes) if size]


def run_tallies(
    snapshot: Snapshot,
    tables: Sequence[Timetable],
    runs: int,
    *,
    seed: int = 0,
    workers: int = 2,
    chunk_runs: int = 50,
    dt_s: float = DEFAULT_DT_S,
    block_s: float = DEFAULT_BLOCK_S,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[Tally]:
    """Per plan, the tally of all ``runs``; ``workers`` 0 runs in this process (tests, small jobs)."""
    chunks = _chunks(tables, runs, seed, chunk_runs, dt_s, block_s)
    snapshot = Snapshot({**snapshot.state, "noise_pool": np.empty(0)})  # 16 MB the replicas never read
    done: list[list[Tally]] = []
    if workers <= 0:
        for chunk in chunks:
            _WORKER["snapshot"], _WORKER["cancel"] = snapshot, cancel
            done.append(_run_chunk(chunk))
            if progress is not None:
                progress(len(done) / len(chunks))
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
    else:
        ctx = multiprocessing.get_context("spawn")
        stop = ctx.Event()
        with ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)), mp_context=ctx, initializer=_worker_init, initargs=(snapshot, stop)
        ) as pool:
            pending: set[Future[list[Tally]]] = {pool.submit(_run_chunk, c) for c in chunks}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    done += [f.result() for f in finished]
                    if finished and progress is not None:
                        progress(len(done) / len(chunks))
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("cancelled")
            finally:
                if pending:
                    stop.set()
                    for f in pending:
                        f.cancel()
    return [_merge([chunk[p] for chunk in done]) for p in range(len(tables))]


def _merge(parts: Sequence[Tally]) -> Tally:
    first = parts[0]
    out = Tally(sum(p.replicas for p in parts), first.machines, first.horizon_s, first.t0)
    for name in ("failures", "downtime_s", "visits", "tool_changes", "first_failure_s", "running_s", "output_s"):
        setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
    out.snap_s = list(first.snap_s)
    out.snaps = [np.concatenate([p.snaps[k] for p in parts], axis=1) for k in range(len(first.snap_s))]
    for mode in sorted({m for p in parts for m in p.modes}):
        out.modes[mode] = np.concatenate([p.modes.get(mode, np.zeros_like(p.failures)) for p in parts])
    return out


# ----------------------------------------------------------------------------------------------------- summary
def spread(values: F64 | NDArray[np.int64]) -> Spread:
    """Mean and 80 % interval of per-run values."""
    v = np.asarray(values, dtype=np.float64)
    return Spread(
        mean=round(float(v.mean()), 4),
        low=round(float(np.quantile(v, LOW_Q)), 4),
        high=round(float(np.quantile(v, HIGH_Q)), 4),
    )


def difference(scenario: F64 | NDArray[np.int64], baseline: F64 | NDArray[np.int64]) -> Difference:
    """Paired difference over runs: mean, its 80 % confidence interval (normal), P(scenario lower)."""
    d = np.asarray(scenario, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    se = float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else 0.0
    mean = float(d.mean())
    return Difference(
        mean=round(mean, 4),
        low=round(mean - Z80 * se, 4),
        high=round(mean + Z80 * se, 4),
        p_lower=round(float((d < 0).mean()), 4),
    )


def time_to_failure(first_s: F64, horizon_s: float) -> TimeToFailure:
    """The distribution of the first failure's time over runs (censored at the horizon)."""
    hours = np.sort(first_s) / 3600.0
    finite = np.isfinite(hours)

    def q(p: float) -> float | None:
        k = math.ceil(p * hours.size) - 1
        return round(float(hours[k]), 2) if 0 <= k < hours.size and finite[k] else None

    grid = np.linspace(0.0, horizon_s / 3600.0, SURVIVAL_POINTS + 1)[1:]
    survival = [round(float((hours > g).mean()), 4) for g in grid]
    return TimeToFailure(
        p_failure=round(float(finite.mean()), 4),
        p10_h=q(0.1),
        p50_h=q(0.5),
        p90_h=q(0.9),
        survival_h=[round(float(g), 3) for g in grid],
        survival=survival,
    )


@dataclass(frozen=True)
class _Sums:
    failures: F64
    downtime_h: F64
    visits: F64
    maintenance_cost: F64
    downtime_cost: F64
    total_cost: F64
    output_h: F64


def _costs(t: Tally, cost: CostModel) -> tuple[F64, F64]:
    maintenance = t.failures * cost.failure_repair_cost + t.visits * cost.pm_cost
    return maintenance.astype(np.float64), t.downtime_s / 3600.0 * cost.downtime_cost_per_h


def _sums(t: Tally, cost: CostModel) -> _Sums:
    maintenance, downtime = _costs(t, cost)
    return _Sums(
        failures=t.failures.sum(axis=1).astype(np.float64),
        downtime_h=t.downtime_s.sum(axis=1) / 3600.0,
        visits=t.visits.sum(axis=1).astype(np.float64),
        maintenance_cost=maintenance.sum(axis=1),
        downtime_cost=downtime.sum(axis=1),
        total_cost=(maintenance + downtime).sum(axis=1),
        output_h=t.output_s.sum(axis=1) / 3600.0,
    )


def summarise(name: str, t: Tally, machine_ids: Sequence[str], cost: CostModel) -> ScenarioOutcome:
    """One plan's tally as results per machine and for the plant."""
    maintenance, _ = _costs(t, cost)
    machines = [
        MachineOutcome(
            machine_id=mid,
            failures=spread(t.failures[:, i]),
            failure_modes={m: round(float(c[:, i].mean()), 4) for m, c in t.modes.items() if c[:, i].any()},
            downtime_h=spread(t.downtime_s[:, i] / 3600.0),
            maintenance_visits=spread(t.visits[:, i]),
            tool_changes=spread(t.tool_changes[:, i]),
            maintenance_cost=spread(maintenance[:, i]),
            running_h=spread(t.running_s[:, i] / 3600.0),
            time_to_failure=time_to_failure(t.first_failure_s[:, i], t.horizon_s),
            fan=fan(t, cost, i),
        )
        for i, mid in enumerate(machine_ids)
    ]
    s = _sums(t, cost)
    plant = PlantOutcome(
        failures=spread(s.failures),
        downtime_h=spread(s.downtime_h),
        maintenance_visits=spread(s.visits),
        maintenance_cost=spread(s.maintenance_cost),
        downtime_cost=spread(s.downtime_cost),
        total_cost=spread(s.total_cost),
        output_h=spread(s.output_h),
        fan=fan(t, cost, None),
    )
    return ScenarioOutcome(name=name, machines=machines, plant=plant)


def compare(name: str, scenario: Tally, baseline: Tally, machine_ids: Sequence[str], cost: CostModel) -> Comparison:
    """A scenario against the baseline, run by run."""
    s, b = _sums(scenario, cost), _sums(baseline, cost)
    return Comparison(
        name=name,
        failures=difference(s.failures, b.failures),
        downtime_h=difference(s.downtime_h, b.downtime_h),
        maintenance_cost=difference(s.maintenance_cost, b.maintenance_cost),
        total_cost=difference(s.total_cost, b.total_cost),
        output_h=difference(s.output_h, b.output_h),
        machine_failures={
            mid: difference(scenario.failures[:, i], baseline.failures[:, i]) for i, mid in enumerate(machine_ids)
        },
    )


def run_whatif(
    snapshot: Snapshot,
    scenarios: Sequence[tuple[str, Timetable]],
    baseline: Timetable,
    runs: int,
    *,
    seed: int = 0,
    workers: int = 2,
    chunk_runs: int = 50,
    dt_s: float = DEFAULT_DT_S,
    block_s: float = DEFAULT_BLOCK_S,
    cost: CostModel | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    started_at: datetime | None = None,
    carried: Sequence[tuple[int, SurvivalFit]] = (),
) -> WhatIfResult:
    """Simulate the baseline and every scenario ``runs`` times from ``snapshot``; results and comparisons.

    ``carried``: machines without physics, (their index in the timetables, their survival model); their futures
    are drawn by ``whatif.survival`` (the same draws under every plan) and reported after the simulated ones."""
    import time

    began = time.perf_counter()
    cost = cost or CostModel()
    tables = [baseline, *(table for _, table in scenarios)]
    tallies = run_tallies(
        snapshot,
        tables,
        runs,
        seed=seed,
        workers=workers,
        chunk_runs=chunk_runs,
        dt_s=dt_s,
        block_s=block_s,
        progress=progress,
        cancel=cancel,
    )
    ids = snapshot.machine_ids
    if carried:
        surv_seed = seed * 1_000_003 + 999_983
        tallies = [
            join(t, draw_survival(carried, table, runs, surv_seed)) for t, table in zip(tallies, tables, strict=True)
        ]
        ids = [*ids, *(fit.machine_id for _, fit in carried)]
    base = tallies[0]
    return WhatIfResult(
        started_at=started_at or snapshot.taken_at,
        horizon_h=baseline.horizon_s / 3600.0,
        runs=runs,
        dt_s=dt_s,
        block_s=block_s,
        seed=seed,
        baseline=summarise("baseline", base, ids, cost),
        scenarios=[
            summarise(name, t, ids, cost).model_copy(update={"notes": table.notes})
            for (name, table), t in zip(scenarios, tallies[1:], strict=True)
        ],
        comparisons=[compare(name, t, base, ids, cost) for (name, _), t in zip(scenarios, tallies[1:], strict=True)],
        wall_s=round(time.perf_counter() - began, 3),
    )
