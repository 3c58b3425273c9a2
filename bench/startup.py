"""How soon ``factorytwin serve`` is usable after the process starts: port listening, first ``GET /health`` 200,
first accepted ``POST /telemetry``; on an empty SQLite database and on one holding a week of data; with
``--machines N``, also a plant of N mills (a generated layout; the store seeded by a first start) holding one active
``offline`` alarm per machine, the state after a plant of N machines went silent.

    .venv/bin/python bench/startup.py [--runs 5] [--db week.db] [--machines 10000] [--only-machines]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from figures import record
from live import write_layout
from week_data import write_week

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the process helper lives beside its tests

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState
from factorytwin.store import open_store
from tests.integration.api.serve_process import serve_process


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def seed_alarms(db: Path, machines: list[str]) -> None:
    """One active ``offline`` alarm per machine, as a plant that went silent leaves behind."""
    store = open_store(f"sqlite:///{db}")
    await store.open()
    try:
        now = datetime.now(UTC)
        for machine_id in machines:
            await store.save_alarm(
                Alarm(
                    machine_id=machine_id,
                    type="offline",
                    severity=AlarmSeverity.MAJOR,
                    state=AlarmState.ACTIVE_UNACK,
                    message="no telemetry",
                    raised_at=now,
                    updated_at=now,
                )
            )
    finally:
        await store.close()


def plant_starts(runs: int, machines: int) -> tuple[list[tuple[float, float, float, float]], float]:
    """Start-up of a plant of ``machines`` mills with one active alarm each (see the module docstring); also the
    server's RSS (MiB) after the last start."""
    out = []
    rss = float("nan")
    with tempfile.TemporaryDirectory(prefix="ft-startup-plant-") as tmp:
        seed = Path(tmp) / "seed"
        seed.mkdir()
        layout = seed / "layout.yaml"
        # mill-01 among them: the start-up probe's first reading is for mill-01
        ids = write_layout(layout, machines, ["mill-01", *(f"mill-{i:05d}" for i in range(1, machines))])
        env = {"FT_LAYOUT_PATH": str(layout)}
        with serve_process(seed, env, timeout_s=600) as first:  # the first start stores the layout's machines
            print(f"{machines:,} machines: first start (layout stored): /health {first.health_s:.2f} s")
        asyncio.run(seed_alarms(seed / "factorytwin.db", ids))
        for _ in range(runs):
            work = Path(tmp) / "run"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            shutil.copy(seed / "factorytwin.db", work / "factorytwin.db")
            with serve_process(work, env, timeout_s=600) as server:
                assert server.health_s is not None
                assert server.ingest_s is not None
                assert server.listening_s is not None
                assert server.health_cpu_s is not None
                out.append((server.listening_s, server.health_s, server.ingest_s, server.health_cpu_s))
                rss = rss_mb(server.process.pid)
    return out, rss


def starts(runs: int, week: Path | None) -> list[tuple[float, float, float, float]]:
    """(listening, health, ingest) seconds after the process started and the CPU seconds it had used when /health
    answered, for each of ``runs`` fresh starts."""
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="ft-startup-") as tmp:
            work = Path(tmp)
            if week is not None:
                shutil.copy(week, work / "factorytwin.db")
            with serve_process(work) as server:
                assert server.listening_s is not None
                assert server.health_s is not None
                assert server.ingest_s is not None
                assert server.health_cpu_s is not None
                out.append((server.listening_s, server.health_s, server.ingest_s, server.health_cpu_s))
    return out


def report(name: str, runs: list[tuple[float, float, float, float]], goal_s: float = 1.0) -> None:
    """Median and worst of each moment."""
    with open("/proc/loadavg") as fh:
        print(f"{name}: load average {fh.read().split()[0]}")
    for i, what in enumerate(("listening", "/health", "first ingest", "CPU used by /health")):
        values = [r[i] for r in runs]
        print(f"{name}: {what}: median {statistics.median(values):.2f} s, max {max(values):.2f} s ({len(values)} runs)")
    record(
        f"start-up, {name}: /health after process start (median)",
        statistics.median(r[1] for r in runs),
        "s",
        goal=f"< {goal_s:g} s idle",
        better="lower",
    )
    record(
        f"start-up, {name}: CPU used by /health (median)",
        statistics.median(r[3] for r in runs),
        "s",
        goal="< 1 s",
        better="lower",
    )
    record(
        f"start-up, {name}: first ingest after process start (median)",
        statistics.median(r[2] for r in runs),
        "s",
        goal="< 3 s",
        better="lower",
    )


def main() -> None:
    """Measure on an empty database and on a week of data."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", type=Path, default=None, help="a SQLite file from bench/week_data.py (default: build one)")
    ap.add_argument("--machines", type=int, default=0, help="also a plant of this many machines with active alarms")
    ap.add_argument("--only-machines", action="store_true", help="only the --machines case")
    args = ap.parse_args()
    if args.machines:
        runs, rss = plant_starts(args.runs, args.machines)
        name = f"{args.machines:,} machines, {args.machines:,} active alarms"
        report(name, runs, goal_s=10.0)
        print(f"{name}: server RSS after start-up {rss:.0f} MiB (pid of the last run; command: {' '.join(sys.argv)})")
        record(f"start-up, {name}: RSS after start-up", rss, "MiB", better="lower")
        if args.only_machines:
            return
    report("empty database", starts(args.runs, None))
    with tempfile.TemporaryDirectory(prefix="ft-week-") as tmp:
        week = args.db
        if week is None:
            week = Path(tmp) / "week.db"
            asyncio.run(write_week(f"sqlite:///{week}"))
        report("a week of data", starts(args.runs, week))


if __name__ == "__main__":
    main()
