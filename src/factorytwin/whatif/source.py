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

from factorytwin.domain import Event, EventKind, FactoryLayout, Machine, MachineKind, MachineStatus, kind_of
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
    kind: MachineKind | None = Field(
        description="the simulator's kind; null: a profile without physics (survival model)"
    )
    status: str = Field(description="live status taken over (offline: taken as running)")
    wear_source: str = Field(
        description="'fitted' to recent readings, or 'default' (no readings); for a profile without physics, "
        "'survival: ...' (the model fitted to its failure history) or 'no history: left out'"
    )
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


MAX_HISTORY_EVENTS = 20_000


async def collect_history(
    store: Store, machines: Sequence[Machine], now: datetime, days: float | None = None
) -> dict[str, list[tuple[str, int, str, str]]]:
    """Per machine, its failures, maintenances and status changes of the last ``days`` (``survival.HISTORY_DAYS``)
    as ``ml.history.event_tuples``, oldest first: what a survival model of a machine without physics is fitted to."""
    from factorytwin.ml.history import event_tuples
    from factorytwin.whatif.survival import HISTORY_DAYS

    start = now - timedelta(days=days if days is not None else HISTORY_DAYS)
    kinds = [EventKind.STATUS, EventKind.FAULT, EventKind.MAINTENANCE]
    out = {}
    for machine in machines:
        events: list[Event] = []
        query = EventQuery(machine_id=machine.id, kinds=kinds, start=start, end=now, limit=1000)
        while len(events) < MAX_HISTORY_EVENTS:
            page = await store.events(query)
            events += page
            if len(page) < query.limit:
                break
            query = query.model_copy(update={"before": page[-1].ts, "before_id": page[-1].id})
        out[machine.id] = event_tuples(events)
    return out


def survival_notes(
    machines: Sequence[Machine],
    history: dict[str, list[tuple[str, int, str, str]]],
    live: Callable[[str], MachineState | None],
    now: datetime,
) -> tuple[dict[str, Any], list[ForkNote]]:
    """(machine id -> ``SurvivalFit`` for each machine that has a history, a fork note for every one)."""
    from factorytwin.whatif.survival import fit_survival

    fits: dict[str, Any] = {}
    notes = []
    for machine in machines:
        fit = fit_survival(machine.id, history.get(machine.id, []), now)
        state = live(machine.id)
        if fit is not None:
            fits[machine.id] = fit
        notes.append(
            ForkNote(
                machine_id=machine.id,
                kind=None,
                status=(state.status if state is not None else MachineStatus.OFFLINE).value,
                wear_source=fit.note if fit is not None else "no history: left out (no failure model to draw from)",
                hours_since_maintenance=round(fit.age_h, 2) if fit is not None else None,
            )
        )
    return fits, notes


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
