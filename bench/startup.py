"""How soon ``factorytwin serve`` is usable after the process starts: port listening, first ``GET /health`` 200,
first accepted ``POST /telemetry``; on an empty SQLite database and on one holding a week of data.

    .venv/bin/python bench/startup.py [--runs 5] [--db week.db]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from figures import record
from week_data import write_week

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the process helper lives beside its tests

from tests.integration.api.serve_process import serve_process


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


def report(name: str, runs: list[tuple[float, float, float, float]]) -> None:
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
        goal="< 1 s idle",
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
    args = ap.parse_args()
    report("empty database", starts(args.runs, None))
    with tempfile.TemporaryDirectory(prefix="ft-week-") as tmp:
        week = args.db
        if week is None:
            week = Path(tmp) / "week.db"
            asyncio.run(write_week(f"sqlite:///{week}"))
        report("a week of data", starts(args.runs, week))


if __name__ == "__main__":
    main()
