"""History benchmark: bucketed history over long ranges, raw aggregation vs. the one-minute rollup.

Loads ``--days`` of one sensor at 1 Hz into a fresh SQLite file and a fresh PostgreSQL database, then times
``Store.history`` (500 buckets) over 1, 7 and 30 days: first with every minute still dirty (the store aggregates
the raw readings), then after ``refresh_rollups`` (whole minutes come from the rollup). Prints the command line.

    .venv/bin/python bench/history.py [--days 30] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shlex
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from databases import fresh_postgres
from figures import record

from factorytwin.layout import load_layout
from factorytwin.store import HistoryQuery, ReadingColumns, Store, open_store, rollup

# No background refresh here: the first timings must see every minute dirty (raw aggregation).
rollup.REFRESH_INTERVAL_S = 10**9

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@contextlib.asynccontextmanager
async def fresh_store(backend: str, workdir: Path) -> AsyncIterator[Store]:
    """An open store on a fresh database of ``backend``, dropped afterwards."""
    async with contextlib.AsyncExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'history.db'}"
        else:
            url = await stack.enter_async_context(fresh_postgres())
        store = open_store(url)
        try:
            await store.open()
            await store.register_machines(load_layout().machines)
            yield store
        finally:
            await store.close()


async def timed(store: Store, days: int) -> tuple[float, int]:
    """Best of three history queries over ``days`` (ms) and the number of readings it covered."""
    query = HistoryQuery(machine_id="mill-01", sensor="torque", start=T0, end=T0 + timedelta(days=days), points=500)
    best = float("inf")
    count = 0
    for _ in range(3):
        began = time.perf_counter()
        buckets = await store.history(query)
        best = min(best, time.perf_counter() - began)
        count = sum(b.count for b in buckets)
    return best * 1000, count


async def run(backend: str, days: int, workdir: Path) -> None:
    """Load, time raw, refresh, time with the rollup; print one line per range."""
    async with fresh_store(backend, workdir) as store:
        t0 = int(T0.timestamp()) * 1000
        rng = random.Random(1)
        n = days * 86_400
        step = 200_000
        load_began = time.perf_counter()
        for k in range(0, n, step):
            m = min(step, n - k)
            ts = [t0 + (k + i) * 1000 for i in range(m)]
            values = [rng.uniform(0, 60) for _ in ts]
            await store.write_batch(ReadingColumns(["mill-01"] * m, ["torque"] * m, ts, values))
        load_s = time.perf_counter() - load_began
        record(f"history: loading {n / 1e6:.1f} M readings into {backend}", load_s, "s", better="lower")
        spans = sorted({d for d in (1, 7, 30) if d <= days} | {days})
        raw = {d: await timed(store, d) for d in spans}
        began = time.perf_counter()
        minutes = await store.refresh_rollups(10**9)
        refresh_s = time.perf_counter() - began
        rolled = {d: await timed(store, d) for d in spans}
        print(f"{backend}: {n:,} readings loaded in {load_s:.1f} s ({n / load_s:,.0f}/s, batches of {step:,})")
        for d in spans:
            record(f"history {d} d, 500 buckets, {backend}, raw", raw[d][0], "ms", better="lower")
            record(f"history {d} d, 500 buckets, {backend}, rollup", rolled[d][0], "ms", better="lower")
        print(f"{backend}: {n:,} readings; rollup refresh of {minutes:,} dirty minutes left: {refresh_s:.1f} s")
        for d in spans:
            print(f"  {d:>3} days, 500 buckets: raw {raw[d][0]:7.0f} ms   with rollup {rolled[d][0]:5.0f} ms")


def main() -> None:
    """Parse the options and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory(prefix="ft-bench-") as tmp:
        for backend in args.backends.split(","):
            asyncio.run(run(backend.strip(), args.days, Path(tmp)))


if __name__ == "__main__":
    main()
