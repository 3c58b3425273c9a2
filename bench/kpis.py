"""KPI benchmark: KPI query latency over a simulated year of the default factory, and export throughput and RSS.

    .venv/bin/python bench/kpis.py                       # a year of events (SQLite), a week of 60 s readings
    .venv/bin/python bench/kpis.py --days 30 --reading-days 1
    .venv/bin/python bench/kpis.py --db /tmp/kpi-year.db     # keep the store file; a second run reuses it
    .venv/bin/python bench/kpis.py --url postgresql://postgres@127.0.0.1:5432/kpibench   # an empty database
    .venv/bin/python bench/kpis.py --old      # also time the computation before the compact read and the cache

The year is the engine's own (production reports hourly, shift breaks on, failures and maintenance as simulated),
stepped at 60 s and written to a fresh SQLite store. Exports are timed through ``export.encode`` (the bytes the
HTTP route streams), consumed and dropped; RSS is sampled while they run. Each KPI request is timed cold (a store
opened for it: an empty KPI cache) and warm (median of 3 more). Figures: docs/BENCHMARKS.md "KPIs and exports".
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from factorytwin.domain import Event, EventKind, FactoryLayout
from factorytwin.export import ExportFormat, encode, tables
from factorytwin.export.formats import Chunks, Column
from factorytwin.kpi import Grouping, KpiQuery, KpiService, Scope
from factorytwin.kpi.cache import cache_of
from factorytwin.kpi.service import LOOKBACK_EVENTS, warm_up_query
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.sim.production import ShiftPlan
from factorytwin.store import EventQuery, ReadingColumns, open_store, redact_url

START = datetime(2025, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    """Current resident set size in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e6


async def main(days: int, reading_days: int, db: Path | None = None, url: str | None = None, old: bool = False) -> None:
    layout = load_layout()
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            path = db if db is not None else Path(tmp) / "kpi.db"
            url = f"sqlite:///{path}"
        store = open_store(url)
        await store.open()
        stored = (await store.stats()).events
        await store.close()
        if not stored:
            await build(url, days, reading_days)
        else:
            print(f"reusing the {stored} events of {redact_url(url)} (stored by an earlier run)")
        await measure(url, days, layout, old)


async def build(url: str, days: int, reading_days: int) -> None:
    """Simulate ``days`` of the default factory and store them in the (empty) store at ``url``."""
    layout = load_layout()
    engine = Engine(layout, seed=0, start=START, shifts=ShiftPlan())
    engine.announce()
    t0 = time.perf_counter()
    events = []
    readings = ReadingColumns()
    steps_per_day = 1440
    for day in range(days):
        frame = engine.step(60.0, steps_per_day)
        events += [e.to_domain(START + timedelta(seconds=e.t)) for e in frame.events]
        if day < reading_days:
            ts = (START.timestamp() + frame.t) * 1000
            for c in range(frame.values.shape[1]):
                m = engine.machine_ids[int(frame.columns.machine[c])]
                key = frame.columns.keys[int(frame.columns.key[c])]
                readings.machine_ids += [m] * frame.n
                readings.sensors += [key] * frame.n
                readings.ts_ms += ts.astype(np.int64).tolist()
                readings.values += frame.values[:, c].tolist()
    sim_s = time.perf_counter() - t0
    store = open_store(url)
    await store.open()
    await store.register_machines(layout.machines)
    t0 = time.perf_counter()
    for i in range(0, len(events), 5000):
        await store.write_events(events[i : i + 5000])
    for i in range(0, len(readings), 200_000):
        part = ReadingColumns(
            readings.machine_ids[i : i + 200_000],
            readings.sensors[i : i + 200_000],
            readings.ts_ms[i : i + 200_000],
            readings.values[i : i + 200_000],
        )
        await store.write_batch(part)
    load_s = time.perf_counter() - t0
    print(
        f"simulated {days} days in {sim_s:.1f} s: {len(events)} events, {len(readings)} readings "
        f"(stored in {load_s:.1f} s)"
    )
    await store.close()


async def measure(url: str, days: int, layout: FactoryLayout, old: bool = False) -> None:
    """Time the KPI requests and the exports on the store at ``url``."""
    store = open_store(url)
    await store.open()
    end = START + timedelta(days=days)
    cases = [
        ("plant, year, by day", KpiQuery(start=START, end=end, group=Grouping.DAY)),
        ("plant, year, total", KpiQuery(start=START, end=end)),
        (
            "line-a, year, by shift" if days <= 333 else "line-a, year, by day (a year of shifts is over the cap)",
            KpiQuery(
                scope=Scope.LINE,
                id="line-a",
                start=START,
                end=end,
                group=Grouping.SHIFT if days <= 333 else Grouping.DAY,
            ),
        ),
        (
            "mill-01, year, by day",
            KpiQuery(scope=Scope.MACHINE, id="mill-01", start=START, end=end, group=Grouping.DAY),
        ),
        ("plant, last 7 days, by hour", KpiQuery(start=end - timedelta(days=7), end=end, group=Grouping.HOUR)),
    ]
    lines = {line.id: line.name for line in layout.lines}
    for name, query in cases:
        # Cold: a store opened for this case alone, so its KPI cache (kpi.cache, one per store) is empty and its
        # SQLite connection's page cache too (the file's pages are in the OS cache either way). Warm: the median of
        # 3 more requests on the same store. Without the day tallies: 3 more with the KPI cache emptied before each.
        fresh = open_store(url)
        await fresh.open()
        service = KpiService(fresh, layout.machines, lines)
        t0 = time.perf_counter()
        report = await service.report(query)
        cold = time.perf_counter() - t0
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            report = await service.report(query)
            times.append(time.perf_counter() - t0)
        uncached = []
        for _ in range(3):  # the compact read and the arithmetic alone: the day tallies dropped before each
            cache_of(fresh, LOOKBACK_EVENTS).chains.clear()
            t0 = time.perf_counter()
            await service.report(query)
            uncached.append(time.perf_counter() - t0)
        if name == "plant, year, by day":
            # A late event of mid-year (a note: it changes no figure) cuts every kept day from there back.
            late = Event(machine_id="mill-01", ts=START + timedelta(days=days // 2, hours=12), kind=EventKind.NOTE)
            await fresh.write_events([late.model_copy(update={"message": f"bench late event {time.time()}"})])
            t0 = time.perf_counter()
            await service.report(query)
            print(f"KPI {name}, after a late event of day {days // 2}: {(time.perf_counter() - t0) * 1000:.0f} ms")
        # After the server's start-up warm-up (api.lifespan.warm_kpis): another fresh store, the warm-up's plant
        # year by day first, then this request once: what the first user after a restart gets.
        warmed = open_store(url)
        await warmed.open()
        warmed_service = KpiService(warmed, layout.machines, lines)
        t0 = time.perf_counter()
        await warmed_service.report(warm_up_query(366, end))
        warm_up = time.perf_counter() - t0
        t0 = time.perf_counter()
        await warmed_service.report(query)
        after_warm_up = time.perf_counter() - t0
        await warmed.close()
        if old:  # the computation before the compact read and the cache, kept as the tests' reference
            sys.path.insert(0, str(ROOT))
            from tests.unit.kpi.reference import ReferenceKpiService

            t0 = time.perf_counter()
            reference = await ReferenceKpiService(fresh, layout.machines, lines).report(query)
            took = (time.perf_counter() - t0) * 1000
            print(f"KPI {name}: the old computation {took:.0f} ms, the same report: {reference == report}")
        await fresh.close()
        print(
            f"KPI {name}: cold {cold * 1000:.0f} ms, warm median {statistics.median(times) * 1000:.0f} ms, "
            f"first after the start-up warm-up {after_warm_up * 1000:.0f} ms (warm-up {warm_up:.2f} s), "
            f"without the day tallies (warm connection) median {statistics.median(uncached) * 1000:.0f} ms "
            f"(OEE {report.total.oee}, availability {report.total.availability})"
        )
    exports: list[tuple[str, ExportFormat, list[Column], Callable[[], Chunks]]] = [
        (
            "events, year, CSV",
            ExportFormat.CSV,
            tables.EVENT_COLUMNS,
            lambda: tables.events(store, EventQuery(start=START, end=end)),
        ),
        (
            "events, year, Parquet",
            ExportFormat.PARQUET,
            tables.EVENT_COLUMNS,
            lambda: tables.events(store, EventQuery(start=START, end=end)),
        ),
        (
            "raw history, all machines, CSV",
            ExportFormat.CSV,
            tables.HISTORY_COLUMNS,
            lambda: tables.raw_history(store, [m.id for m in layout.machines], START, end, None),
        ),
        (
            "raw history, all machines, Parquet",
            ExportFormat.PARQUET,
            tables.HISTORY_COLUMNS,
            lambda: tables.raw_history(store, [m.id for m in layout.machines], START, end, None),
        ),
    ]
    for name, fmt, columns, source in exports:
        before = rss_mb()
        peak = before
        size = 0
        rows = 0

        async def counted(src: Chunks) -> Chunks:
            nonlocal rows, peak
            async for chunk in src:
                rows += len(chunk)
                peak = max(peak, rss_mb())
                yield chunk

        t0 = time.perf_counter()
        async for piece in encode(fmt, columns, counted(source())):
            size += len(piece)
        took = time.perf_counter() - t0
        print(
            f"export {name}: {rows} rows in {took:.1f} s = {rows / took:,.0f} rows/s, {size / 1e6:.1f} MB; "
            f"RSS {before:.0f} MB before, {peak:.0f} MB peak while streaming"
        )
    await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--reading-days", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="keep the store in this file (reused when it exists)")
    parser.add_argument("--url", default=None, help="a store URL instead (e.g. an empty PostgreSQL database)")
    parser.add_argument("--old", action="store_true", help="also time the old computation (tests/unit/kpi/reference)")
    args = parser.parse_args()
    asyncio.run(main(args.days, args.reading_days, args.db, args.url, args.old))
