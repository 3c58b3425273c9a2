"""Fast mode: a labelled run-to-failure data set, streamed to parquet as fast as the machine allows.

The engine runs at ``dt`` (1 s) in blocks of an hour; each block is reduced to one row per machine per output
interval (``every``, the mean or the last sample) and written as it comes, so a year never sits in memory.

Readings file (kept exactly; the ML engineer reads it): machine_id (string), kind (string), ts (timestamp ms UTC,
the end of the interval), status (string, at the last sample of the interval), one float64 column per sensor key
of ``domain.all_sensor_keys()`` (NaN where the kind lacks it), product_type (string, L/M/H or empty).
Events file ``<stem>.events.parquet``: machine_id, kind, ts, event (failure|repair|maintenance|status|command),
mode (failure mode or null), status.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from factorytwin.domain import FactoryLayout
from factorytwin.sim.engine import Engine
from factorytwin.sim.state import STATUSES, Frame, SimEvent

Aggregation = Literal["mean", "last"]
ROW_GROUP_ROWS = 250_000


def events_path(out: Path) -> Path:
    """Where the events file of readings file ``out`` goes: ``<stem>.events.parquet`` beside it."""
    return out.with_name(out.stem + ".events.parquet")


def readings_schema(keys: list[str]) -> pa.Schema:
    """The readings file's schema."""
    fields = [
        pa.field("machine_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("ts", pa.timestamp("ms", tz="UTC")),
        pa.field("status", pa.string()),
    ]
    fields += [pa.field(key, pa.float64()) for key in keys]
    fields.append(pa.field("product_type", pa.string()))
    return pa.schema(fields)


EVENTS_SCHEMA = pa.schema(
    [
        pa.field("machine_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("ts", pa.timestamp("ms", tz="UTC")),
        pa.field("event", pa.string()),
        pa.field("mode", pa.string()),
        pa.field("status", pa.string()),
    ]
)


class IntervalReducer:
    """Reduces a stream of frames to one row per output interval: the mean or the last sample of each interval.

    An interval ``b`` holds the samples at ``b*every < t <= (b+1)*every``; a partial interval at the end of a
    frame is carried into the next frame.
    """

    def __init__(self, every_s: float, how: Aggregation) -> None:
        if every_s <= 0:
            raise ValueError("every must be positive")
        self.every = every_s
        self.how = how
        self._carry_sum: NDArray[np.float64] | None = None
        self._carry_n = 0
        self._carry_bucket = -1
        self._carry_last: NDArray[np.float64] | None = None
        self._carry_status: NDArray[np.int8] | None = None

    def push(self, frame: Frame) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
        """Complete intervals so far: (interval end times (B,), values (B, C), status (B, machines))."""
        bucket = np.ceil(frame.t / self.every - 1e-9).astype(np.int64) - 1
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ids = bucket[starts]
        ends = np.r_[starts[1:], frame.n] - 1
        if self.how == "mean":
            sums = np.add.reduceat(frame.values, starts, axis=0)
            counts = np.diff(np.r_[starts, frame.n]).astype(np.float64)
        else:
            sums = frame.values[ends].copy()
            counts = np.ones(len(starts))
        status = frame.status[ends]
        if self._carry_sum is not None and ids[0] == self._carry_bucket:
            if self.how == "mean":
                sums[0] += self._carry_sum
                counts[0] += self._carry_n
        elif self._carry_sum is not None:  # the carried interval ended exactly at the frame's edge
            sums = np.concatenate([self._carry_sum[None, :], sums])
            counts = np.r_[float(self._carry_n), counts]
            ids = np.r_[self._carry_bucket, ids]
            assert self._carry_status is not None
            status = np.concatenate([self._carry_status[None, :], status])
        # The last interval is complete only when the frame reaches its end time.
        complete = len(ids) if math.isclose(frame.t[-1], (ids[-1] + 1) * self.every) else len(ids) - 1
        self._carry_sum = sums[complete:][0].copy() if complete < len(ids) else None
        self._carry_n = int(counts[complete]) if complete < len(ids) else 0
        self._carry_bucket = int(ids[complete]) if complete < len(ids) else -1
        self._carry_status = status[complete].copy() if complete < len(ids) else None
        out = sums[:complete] / counts[:complete, None] if self.how == "mean" else sums[:complete]
        t_end = ((ids[:complete] + 1) * self.every).astype(np.float64)
        return t_end, np.asarray(out, dtype=np.float64), np.asarray(status[:complete], dtype=np.int8)

    def flush(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
        """The partial interval left at the end of the run, if any."""
        if self._carry_sum is None or self._carry_status is None:
            return np.empty(0), np.empty((0, 0)), np.empty((0, 0), dtype=np.int8)
        values = self._carry_sum / self._carry_n if self.how == "mean" else self._carry_sum
        out = (np.array([(self._carry_bucket + 1) * self.every]), values[None, :], self._carry_status[None, :])
        self._carry_sum = None
        return out


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """What a fast-mode run wrote and how long it took."""

    readings_path: Path
    events_path: Path
    rows: int
    events: list[SimEvent]
    simulated_s: float
    wall_s: float
    samples: int  # machines x sensors x steps simulated

    @property
    def samples_per_s(self) -> float:
        """Sensor samples simulated per second of wall time."""
        return self.samples / self.wall_s if self.wall_s > 0 else float("inf")


class _ReadingsWriter:
    """Turns reduced rows into the readings file's columns and writes them in row groups."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.engine = engine
        self.schema = readings_schema(engine.keys)
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        n = len(engine.machine_ids)
        self.machine_ids = np.array(engine.machine_ids, dtype=object)
        self.kinds = np.array([k.value for k in engine.kinds], dtype=object)
        self.products = np.array(engine.product_types, dtype=object)
        self.status_names = np.array([s.value for s in STATUSES], dtype=object)
        self.n = n
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def write(self, t_end: NDArray[np.float64], values: NDArray[np.float64], status: NDArray[np.int8]) -> None:
        b = len(t_end)
        if b == 0:
            return
        cols = self.engine.columns
        dense = np.full((b, self.n, len(cols.keys)), np.nan)
        dense[:, cols.machine, cols.key] = values
        rows = dense.reshape(b * self.n, len(cols.keys))
        epoch_ms = int(self.engine.start.timestamp() * 1000)
        ts_ms = (epoch_ms + np.round(t_end * 1000.0).astype(np.int64))[:, None].repeat(self.n, axis=1).ravel()
        arrays = [
            pa.array(np.tile(self.machine_ids, b), pa.string()),
            pa.array(np.tile(self.kinds, b), pa.string()),
            pa.array(ts_ms, pa.timestamp("ms", tz="UTC")),
            pa.array(self.status_names[status.ravel()], pa.string()),
        ]
        arrays += [pa.array(rows[:, k], pa.float64()) for k in range(len(cols.keys))]
        arrays.append(pa.array(np.tile(self.products, b), pa.string()))
        self._pending.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._pending_rows += b * self.n
        self.rows += b * self.n
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.writer.write_table(pa.Table.from_batches(self._pending, schema=self.schema))
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        self._flush()
        self.writer.close()


def write_events(engine: Engine, events: list[SimEvent], path: Path) -> None:
    """The events file: one row per event, in time order."""
    epoch_ms = int(engine.start.timestamp() * 1000)
    table = pa.table(
        {
            "machine_id": [e.machine_id for e in events],
            "kind": [e.kind for e in events],
            "ts": pa.array([epoch_ms + round(e.t * 1000.0) for e in events], pa.timestamp("ms", tz="UTC")),
            "event": [e.event for e in events],
            "mode": [e.mode for e in events],
            "status": [e.status.value for e in events],
        },
        schema=EVENTS_SCHEMA,
    )
    pq.write_table(table, str(path), compression="zstd")


def generate_dataset(
    layout: FactoryLayout,
    days: float,
    out: Path,
    *,
    every_s: float = 60.0,
    how: Aggregation = "mean",
    seed: int = 0,
    start: datetime | None = None,
    dt: float = 1.0,
    demo_faults: bool = False,
    on_progress: Callable[[float], None] | None = None,
) -> DatasetSummary:
    """Simulate ``days`` of ``layout`` at ``dt`` and stream one row per machine per ``every_s`` to ``out``."""
    if days <= 0:
        raise ValueError("days must be positive")
    if every_s < dt or not math.isclose(every_s / dt, round(every_s / dt)):
        raise ValueError(f"every ({every_s:g} s) must be a whole multiple of dt ({dt:g} s)")
    # The events file keeps its agreed kinds (failure, repair, maintenance, status, command): no production reports.
    engine = Engine(layout, seed=seed, start=start, demo_faults=demo_faults, production=False)
    total_steps = round(days * 86400.0 / dt)
    chunk = max(1, round(3600.0 / dt))
    out.parent.mkdir(parents=True, exist_ok=True)
    reducer = IntervalReducer(every_s, how)
    writer = _ReadingsWriter(engine, out)
    events: list[SimEvent] = []
    began = time.perf_counter()
    done = 0
    try:
        while done < total_steps:
            frame = engine.step(dt, min(chunk, total_steps - done))
            done += frame.n
            events.extend(frame.events)
            writer.write(*reducer.push(frame))
            if on_progress is not None:
                on_progress(done / total_steps)
        writer.write(*reducer.flush())
    finally:
        writer.close()
    wall = time.perf_counter() - began
    ev_path = events_path(out)
    write_events(engine, events, ev_path)
    return DatasetSummary(
        readings_path=out,
        events_path=ev_path,
        rows=writer.rows,
        events=events,
        simulated_s=done * dt,
        wall_s=wall,
        samples=done * engine.n_columns,
    )
