"""The live twin's own cost per reading, in process: ``TwinService.on_ingested`` (state, alarm rules, health,
stream fan-out, serialisation) for a plant of ``--machines`` mills reporting at 1 Hz, with stream clients watching
nothing, 50 machines, or every machine. CPU time (``time.process_time``), so the figure does not depend on what
else the shared box runs; the clients' queues are drained after each batch, as their senders would.

    .venv/bin/python bench/twin_fanout.py [--machines 10000] [--seconds 5] [--reps 3] [--sets-per-batch 200] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from figures import record

from factorytwin.config import Settings
from factorytwin.domain import Machine, ReadingSet, TelemetryBatch
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin.bus import InProcessBus
from factorytwin.twin.service import TwinService
from factorytwin.twin.stream import StreamClient

MILL = {
    "air_temp": 299.5,
    "process_temp": 309.5,
    "spindle_speed": 2025.0,
    "torque": 34.0,
    "power": 6.25,
    "tool_wear": 100.0,
    "vibration": 2.25,
    "motor_current": 24.5,
}


def batches(ids: list[str], seconds: int, per_batch: int) -> list[TelemetryBatch]:
    """``seconds`` seconds of every machine reporting once a second, in batches of ``per_batch`` reading sets
    (as ingest hands them over), values varying a little so health and state messages move as they would."""
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    out: list[TelemetryBatch] = []
    for second in range(seconds):
        ts = t0 + timedelta(seconds=second)
        sets = [
            ReadingSet(machine_id=m, ts=ts, values={**MILL, "torque": 34.0 + (i + second) % 7 * 0.1})
            for i, m in enumerate(ids)
        ]
        out += [TelemetryBatch(readings=sets[i : i + per_batch], events=[]) for i in range(0, len(sets), per_batch)]
    return out


def drain(clients: list[StreamClient]) -> int:
    """Take every queued text off the clients' queues (what their senders do); return the bytes taken."""
    size = 0
    for client in clients:
        while not client.queue.empty():
            text = client.queue.get_nowait()
            if text is not None:
                size += len(text)
        client.pending_bytes = 0
    return size


async def run_case(
    ids: list[str], watch: list[int | None], work: list[TelemetryBatch], profile: bool, queue: int | None
) -> tuple[float, int]:
    """CPU µs per reading set of ``on_ingested`` over ``work`` with clients watching ``watch`` (None: all), and
    how many clients the hub dropped (``queue``: the hub's ``queue_size``, when given)."""
    with tempfile.TemporaryDirectory(prefix="ft-bench-fanout-") as tmp:
        store = SQLiteStore(Path(tmp) / "t.db")
        await store.open()
        settings = Settings(database_url="sqlite:///unused.db", stream_interval_s=0.25)
        twin = TwinService(settings, store, InProcessBus())
        machines = [Machine(id=m, name=m, profile="cnc_mill", line="line-a", x=0.0, y=0.0) for m in ids]
        await store.register_machines(machines)
        await twin.start()  # reads them back (as the code before this bench did too)
        if queue is not None:
            twin.hub.queue_size = queue
        try:
            clients = [twin.hub.connect(None if n is None else ids[:: max(1, len(ids) // n)][:n]) for n in watch]
            drain(clients)
            for b in work[: len(ids) // len(work[0].readings) + 1]:  # the first report of each: offline -> running
                await twin.on_ingested(b, new_readings=1)
                drain(clients)
            profiler = cProfile.Profile() if profile else None
            sets = 0
            began = time.process_time()
            if profiler is not None:
                profiler.enable()
            for b in work:
                await twin.on_ingested(b, new_readings=1)
                twin.hub.flush_due()
                drain(clients)
                sets += len(b.readings)
            if profiler is not None:
                profiler.disable()
            spent = time.process_time() - began
            if profiler is not None:
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return spent / sets * 1e6, sum(c.dropped for c in clients)
        finally:
            await twin.stop()
            await store.close()


async def main_async(args: argparse.Namespace) -> None:
    """Every case, one after the other, on the same batches."""
    ids = [f"mill-{i:05d}" for i in range(args.machines)]
    work = batches(ids, args.seconds, args.sets_per_batch)
    cases: dict[str, list[int | None]] = {
        "no client": [],
        "a client watching 50 machines": [50],
        "a client watching every machine": [None],
        "one client of each": [50, None],
    }
    for name, watch in cases.items():
        runs = [await run_case(ids, watch, work, args.profile, args.queue) for _ in range(args.reps)]
        us, dropped = min(r[0] for r in runs), max(r[1] for r in runs)  # the least disturbed run
        readings_per_s = 1e6 / us * len(MILL)
        print(
            f"{args.machines:,} machines, {name}: {us:.1f} µs CPU per reading set of 8 values "
            f"(one core keeps up with {readings_per_s:,.0f} readings/s); clients dropped: {dropped}"
        )
        record(f"twin per reading set, {args.machines:,} machines, {name}", us, "µs", better="lower")


def main() -> None:
    """Parse the options and run."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--machines", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=5, help="seconds of 1 Hz reports fed (after one warm-up round)")
    ap.add_argument("--sets-per-batch", type=int, default=200)
    ap.add_argument("--reps", type=int, default=3, help="runs per case; the lowest CPU time is reported")
    ap.add_argument("--queue", type=int, default=None, help="the hub's queue_size (default: the server's)")
    ap.add_argument("--profile", action="store_true", help="print cProfile's top functions of each case")
    args = ap.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
