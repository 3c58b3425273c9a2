"""Where an API scenario starts: the live twin's present, turned into a simulator state.

The API does not run the simulator (the simulator talks to it over the wire, as a real machine would), so the
fork of the API is built, not copied, and what is estimated is written down here and in ``docs/WHATIF.md``:

- **wear and damage**: fitted per machine to its readings of the last ``READINGS_WINDOW`` (``estimate``); a
  machine without readings there keeps the simulator's default start (a random 0-60 % of life used), said so;
- **when its next preventive maintenance is due**: the last maintenance event in the store plus the kind's
  interval; with none stored, the simulator's random draw (age unknown);
- **status**: the twin's live status: failed is under repair for the kind's median repair time from now,
  maintenance lasts the preventive 4 h from now, stopped stays stopped; offline machines are taken as running;
- **not estimated**: per-machine constants (wear rates, failure thresholds, bearing life) are drawn by the
  simulator's seed; temperatures settle within the first simulated half hour; the job in progress is drawn anew.

``collect_inputs`` reads what is needed (async, cheap); ``build_snapshot`` does the CPU work (the fits) and runs in
the scenario job's worker thread, fitting the machines in a process pool.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from factorytwin.domain import EventKind, FactoryLayout, Machine, MachineKind, MachineStatus, kind_of
from factorytwin.store.base import EventQuery, Store
from factorytwin.twin.messages import MachineState

READINGS_WINDOW = timedelta(hours=1)
MAX_READINGS_PER_MACHINE = 200_000


@dataclass(frozen=True)
class MachineInput:
    """What the twin and the store know of one machine now (picklable)."""

    machine: Machine
    status: MachineStatus | None
    series: dict[str, list[float]] = field(default_factory=dict)  # sensor -> values, aligned by timestamp
    last_maintenance: datetime | None = None


class ForkNote(BaseModel):
    """How one machine's simulated state was obtained."""

    machine_id: str
    kind: MachineKind
    status: str = Field(description="live status taken over (offline: taken as running)")
    wear_source: str = Field(description="'fitted' to recent readings, or 'default' (no readings)")
    wear: dict[str, float] = Field(default_factory=dict)
    fit_error: float | None = Field(default=None, description="RMS of the scaled sensor residuals of the fit")
    readings_used: int = 0
    hours_since_maintenance: float | None = Field(default=None, description="from the store; null: unknown")


async def collect_inputs(
    store: Store, machines: Sequence[Machine], live: Callable[[str], MachineState | None], now: datetime
) -> list[MachineInput]:
    """The recent readings, live status and last maintenance of every machine."""
    out = []
    for machine in machines:
        cols = await store.read_range(machine.id, now - READINGS_WINDOW, now)
        by_ts: dict[int, dict[str, float]] = {}
        for i, (sensor, ts, value) in enumerate(zip(cols.sensors, cols.ts_ms, cols.values, strict=True)):
            if i >= MAX_READINGS_PER_MACHINE:
                break
            by_ts.setdefault(ts, {})[sensor] = value
        keys = sorted({k for row in by_ts.values() for k in row})
        series = {k: [by_ts[ts].get(k, float("nan")) for ts in sorted(by_ts)] for k in keys}
        query = EventQuery(machine_id=machine.id, kinds=[EventKind.MAINTENANCE], end=now, limit=1)
        last = await store.events(query)
        state = live(machine.id)
        out.append(
            MachineInput(
                machine=machine,
                status=state.status if state is not None else None,
                series=series,
                last_maintenance=last[0].ts if last else None,
            )
        )
    return out


def _fit(item: MachineInput) -> tuple[str, Any]:
    import numpy as np

    from factorytwin.domain import ACTIVITY_SENSOR
    from factorytwin.whatif.estimate import estimate_wear, running_means

    kind = kind_of(item.machine)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in item.series.items()}
    observed = running_means(arrays, kind, ACTIVITY_SENSOR[kind])
    return item.machine.id, estimate_wear(item.machine.id, kind, observed, item.machine.metadata)


def build_snapshot(
    layout: FactoryLayout, inputs: Sequence[MachineInput], now: datetime, seed: int, pool: Executor | None = None
) -> tuple[Any, list[ForkNote]]:
    """(``Snapshot`` of a simulator in the twin's present, how each machine's state was obtained)."""
    from factorytwin.sim.engine import PM_HOURS, Engine
    from factorytwin.sim.state import FAILED, MAINTENANCE
    from factorytwin.whatif.estimate import apply_estimate
    from factorytwin.whatif.fork import fork

    engine = Engine(layout, seed=seed, start=now, noise=False)
    with_readings = [item for item in inputs if item.series]
    fits = dict(pool.map(_fit, with_readings) if pool is not None else map(_fit, with_readings))
    notes = []
    for item in inputs:
        mid = item.machine.id
        i = engine.index[mid]
        g, j = engine.group_of(i)
        estimate = fits.get(mid)
        if estimate is not None:
            apply_estimate(engine, estimate)
        since = (now - item.last_maintenance).total_seconds() / 3600.0 if item.last_maintenance else None
        if since is not None:
            engine.next_pm[i] = max(0.0, g.model.pm_interval_days * 86400.0 - since * 3600.0)
        status = item.status
        if status is MachineStatus.FAILED:
            engine.status[i] = FAILED
            engine.until[i] = statistics.median(g.model.repair_hours.values()) * 3600.0
            engine.abort_job(g, j)
        elif status is MachineStatus.MAINTENANCE:
            engine.status[i] = MAINTENANCE
            engine.until[i] = PM_HOURS * 3600.0
            engine.abort_job(g, j)
        elif status is MachineStatus.STOPPED:
            engine.stop_machine(i)
        notes.append(
            ForkNote(
                machine_id=mid,
                kind=kind_of(item.machine),
                status=(status or MachineStatus.OFFLINE).value,
                wear_source="fitted" if estimate is not None and estimate.sensors_used else "default",
                wear={k: float(v[j]) for k, v in g.state.items() if k in g.model.wear_keys},
                fit_error=estimate.fit_error if estimate is not None and estimate.sensors_used else None,
                readings_used=max((len(v) for v in item.series.values()), default=0),
                hours_since_maintenance=round(since, 2) if since is not None else None,
            )
        )
    return fork(engine), notes
