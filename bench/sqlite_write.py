"""The SQLite write path in process: batches of the peers workload written one after the other, with the rollup
refresh after every fifth batch and at the end (as the background refresh, every 5 s, would catch up), wall time
and process CPU (all threads) per value stored. No HTTP: what a change to the store's write path costs or saves.

    PYTHONPATH=$PWD/src:$PWD .venv/bin/python bench/sqlite_write.py [--size 5040] [--batches 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from tempfile import TemporaryDirectory

from peers import Workload

from factorytwin.layout import load_layout
from factorytwin.store import ReadingColumns, open_store


def batches(wl: Workload, size: int, count: int) -> list[ReadingColumns]:
    """``count`` batches of ``size`` values, each of new instants."""
    out, instant = [], 0
    for _ in range(count):
        cols = ReadingColumns()
        for ts, mid, vals in wl.sets(instant, size):
            for key, value in vals.items():
                cols.machine_ids.append(mid)
                cols.sensors.append(key)
                cols.ts_ms.append(ts * 1000)
                cols.values.append(value)
        instant += wl.instants(size)
        out.append(cols)
    return out


async def main_async(size: int, count: int) -> None:
    data = batches(Workload.default(), size, count)
    with TemporaryDirectory(prefix="ft-bench-sqlite-write-") as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        await store.open()
        await store.register_machines(load_layout().machines)
        c0, w0, n = time.process_time(), time.perf_counter(), 0
        for i, batch in enumerate(data):
            n += await store.write_batch(batch)
            if i % 5 == 4:
                await store.refresh_rollups(10**12)
        await store.refresh_rollups(10**12)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        await store.close()
    print(
        f"{n:,} values: {wall / n * 1e6:.2f} µs wall, {cpu / n * 1e6:.2f} µs CPU per value; "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=5_040, help="values per batch")
    parser.add_argument("--batches", type=int, default=120, help="batches written")
    args = parser.parse_args()
    asyncio.run(main_async(args.size, args.batches))


if __name__ == "__main__":
    main()
