"""A simulated factory history as the twin's store holds it: readings and status events, written hour by hour as
the simulator's publisher delivers them, for the train/serve parity and serving tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from factorytwin.domain import Event, Machine
from factorytwin.layout import load_layout
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.timeseries import HistorySpec, age_origin_ms, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle
from factorytwin.sim.engine import Engine
from factorytwin.store.base import ReadingColumns, Store

HOURS = 72
SAMPLE_S = 600.0  # one reading set every 10 simulated minutes
STEP_MS = 3_600_000
SPEC = HistorySpec()


@dataclass(frozen=True)
class SimHistory:
    """Every reading (columns, sorted by time) and event of a simulated factory, and its machines."""

    machines: list[Machine]
    start: datetime
    ts_ms: np.ndarray
    machine_ids: np.ndarray
    sensors: np.ndarray
    values: np.ndarray
    events: list[Event]


def stepped(
    engine: Engine, dt_s: float, n_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[Event]]:
    """``engine.step(dt_s, n_steps)`` as long columns (ts ms, machine id, sensor key, value; finite values only)
    and its events, stamped from ``engine.start``."""
    frame = engine.step(dt_s, n_steps)
    start_ms = int(engine.start.timestamp() * 1000)
    n, c = frame.values.shape
    ts = np.repeat(start_ms + np.round(frame.t * 1000).astype("int64"), c)
    mids = np.tile(np.asarray(engine.machine_ids, dtype=object)[frame.columns.machine], n)
    keys = np.tile(np.asarray(frame.columns.keys, dtype=object)[frame.columns.key], n)
    vals = frame.values.reshape(-1)
    ok = np.isfinite(vals)
    events = [e.to_domain(engine.start + timedelta(seconds=e.t)) for e in frame.events]
    return ts[ok], mids[ok], keys[ok], vals[ok], events


def simulate(hours: int = HOURS, seed: int = 3) -> SimHistory:
    """``hours`` of the default 16-machine factory, one reading set per ``SAMPLE_S``."""
    layout = load_layout()
    engine = Engine(layout, seed=seed)
    ts, mids, keys, vals, events = stepped(engine, SAMPLE_S, int(hours * 3600 / SAMPLE_S))
    return SimHistory(list(layout.machines), engine.start, ts, mids, keys, vals, events)


async def replay(
    store: Store,
    history: SimHistory,
    from_h: int,
    to_h: int,
    on_step: Callable[[int], Awaitable[None]] | None,
) -> None:
    """Write the readings and events of hours ``[from_h, to_h)`` into ``store`` one hour at a time; after each
    hour call ``on_step`` with that hour's end (ms), when everything before it is stored."""
    start_ms = int(history.start.timestamp() * 1000)
    ev_ms = np.array([int(e.ts.timestamp() * 1000) for e in history.events], dtype="int64")
    for h in range(from_h, to_h):
        lo, hi = start_ms + h * STEP_MS, start_ms + (h + 1) * STEP_MS
        sel = (history.ts_ms >= lo) & (history.ts_ms < hi)
        cols = ReadingColumns(
            [str(m) for m in history.machine_ids[sel]],
            [str(s) for s in history.sensors[sel]],
            [int(t) for t in history.ts_ms[sel]],
            [float(v) for v in history.values[sel]],
        )
        events = [e for e, t in zip(history.events, ev_ms, strict=True) if lo <= t < hi]
        await store.register_machines(history.machines) if h == from_h else None
        await store.write_batch(cols, events)
        if on_step is not None:
            await on_step(hi)


def fitted_bundle(readings: pd.DataFrame, events: pd.DataFrame, machines: list[Machine]) -> ModelBundle:
    """A small history model of ``SPEC`` (quality does not matter here, only that every head exists)."""
    origins = {m.id: age_origin_ms(m.metadata) for m in machines}
    data = prepare_history(readings, events, SPEC, origins)
    cfg = TrainConfig(n_estimators=20, inner_folds=2)
    spec = {"step_s": SPEC.step_s, "window": SPEC.window, "horizon_h": SPEC.horizon_h, "signals": list(SPEC.signals)}
    return fit_bundle(data, cfg, spec=spec)
