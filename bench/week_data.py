"""A week of stored history for the start-up and retraining benchmarks: every machine of the built-in layout, one
reading set every ``step_s`` seconds ending now, and the synthetic failure/maintenance events of the mills (so that
a retrain has failures to learn from)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import numpy as np

from factorytwin.domain import Event, EventKind, MachineStatus, kind_of, sensor_specs
from factorytwin.layout import load_layout
from factorytwin.ml.synthetic import synthetic_history
from factorytwin.store import open_store
from factorytwin.store.base import ReadingColumns

DAYS = 7
BATCH_VALUES = 50_000


async def write_week(database_url: str, step_s: float = 30.0, seed: int = 3) -> int:
    """Fill ``database_url`` with a week of readings and the mills' events; return how many values were stored."""
    machines = list(load_layout(None).machines)
    mills, events = synthetic_history(machines=4, days=DAYS, seed=seed)
    end_ms = int(datetime.now(UTC).timestamp() * 1000) - 60_000
    shift = end_ms - int(mills["ts"].max())
    store = open_store(database_url)
    await store.open()
    await store.register_machines(machines)
    rng = np.random.default_rng(seed)
    steps = int(DAYS * 86400 / step_s)
    start_ms = end_ms - int(steps * step_s * 1000)
    stored = 0
    try:
        for machine in machines:
            sensors = list(sensor_specs(kind_of(machine)))
            synthetic = mills[mills["machine_id"] == machine.id]
            cols = ReadingColumns()
            for i in range(steps):
                ts = start_ms + int(i * step_s * 1000)
                for sensor in sensors:
                    if len(synthetic) and sensor in synthetic.columns:
                        # the mill's synthetic 10-minute value in force at ts, with a little noise
                        j = min(len(synthetic) - 1, max(0, int((ts - shift - int(synthetic["ts"].iloc[0])) / 600_000)))
                        value = float(synthetic[sensor].iloc[j]) + float(rng.normal(0, 0.01))
                    else:
                        value = float(rng.normal(50, 5))
                    cols.machine_ids.append(machine.id)
                    cols.sensors.append(sensor)
                    cols.ts_ms.append(ts)
                    cols.values.append(value)
                if len(cols) >= BATCH_VALUES:
                    stored += await store.write_batch(cols)
                    cols = ReadingColumns()
            if len(cols):
                stored += await store.write_batch(cols)
        evs = []
        for e in events.itertuples():
            failure = e.event == "failure"
            evs.append(
                Event(
                    machine_id=str(e.machine_id),
                    ts=datetime.fromtimestamp((int(e.ts) + shift) / 1000, tz=UTC),
                    kind=EventKind.FAULT if failure else EventKind.MAINTENANCE,
                    status=MachineStatus.FAILED if failure else MachineStatus.RUNNING,
                    message=str(e.event),
                    data={"mode": str(e.mode)} if failure else {"event": "repair"},
                )
            )
        await store.write_batch(ReadingColumns(), evs)
    finally:
        await store.close()
    return stored


if __name__ == "__main__":
    import sys

    n = asyncio.run(write_week(sys.argv[1]))
    print(f"stored {n} values of {DAYS} days, ending {datetime.now(UTC) - timedelta(minutes=1):%H:%M} UTC")
