"""Every benchmark of the project in one go (``make bench``), and one table of their figures.

Runs each ``bench/*.py`` in a subprocess, one after the other (the machine has two cores: running them together
would measure each other), shows their output, gathers their ``BENCH-RESULT`` lines (``bench/figures.py``) and
writes a table with the machine's description, the date and the commands into ``docs/BENCHMARKS.md`` between the
``run_all`` markers. Each figure stands beside its goal and, where there is one, a published anchor.

    .venv/bin/python bench/run_all.py [--only ingest,sim] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from figures import PREFIX
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
console = Console()


@dataclass
class Bench:
    """One benchmark script: its arguments (full run and ``--quick`` run) and the anchors its figures meet."""

    key: str
    script: str
    args: list[str]
    quick_args: list[str]
    anchors: dict[str, str] = field(default_factory=dict)


# 10,000 machines at 1 Hz through 20 edge gateways, both WebSocket clients batched (issue 15's live-twin goal).
LIVE_10K = (
    *("--machines", "10000", "--hz", "1", "--skip-mqtt", "--no-kpi-warmup", "--after-warmups"),
    *("--gateways", "20", "--ws-batch"),
)

BENCHES = [
    Bench(
        "peers",
        "peers.py",
        [],
        ["--quick"],
        {
            "InfluxDB": "InfluxDB 1.6 (Debian) on this box, same client and data, WAL fsync on every write",
            "mosquitto_pub": "Mosquitto's own C clients through the same broker",
            "raw": "the store alone on this box: SQLite executemany / PostgreSQL COPY into a bare table",
        },
    ),
    Bench("scaleout", "scaleout.py", [], ["--quick"], {"÷ 1": "the same bench with one process, same run"}),
    Bench("pg-ingest", "pg_ingest.py", [], ["--duration", "2"], {"raw COPY": "the same rows, same run"}),
    Bench(
        "live-10k",
        "live.py",
        [*LIVE_10K, "--duration", "15"],
        [*LIVE_10K, "--duration", "5"],
        {"WebSocket": "Grafana Live: a few hundred ms"},
    ),
    Bench(
        "ingest",
        "ingest.py",
        ["--duration", "15"],
        ["--duration", "5"],
        {
            "HTTP batch ingest": "ThingsBoard: ~950 HTTP msg/s on 4 vCPU; "
            "~5,000 msg/s on 2 vCPU with PostgreSQL + Kafka",
        },
    ),
    Bench(
        "mqtt-live",
        "live.py",
        [],
        ["--duration", "4", "--mqtt-readings", "200000"],
        {
            "MQTT ingest": "ThingsBoard: ~5,000 msg/s on 2 vCPU with PostgreSQL + Kafka",
            "WebSocket": "Grafana Live: a few hundred ms",
        },
    ),
    Bench("connectors", "connectors.py", [], ["--quick"]),
    Bench("history", "history.py", ["--days", "120"], ["--days", "7"]),
    # Three years of one sensor at 1 Hz per backend (94.6 M readings each: about a quarter of an hour in all).
    Bench("history-years", "history.py", ["--days", "0", "--years", "3"], ["--days", "0", "--years", "0.1"]),
    Bench("sim", "sim.py", [], ["--hours", "2"]),
    Bench("ml-latency", "ml_latency.py", [], []),
    Bench(
        "ml-ai4i", "ml_ai4i.py", ["--no-plot"], ["--no-plot", "--folds", "3"], {"F1": "published leakage-free ~0.895"}
    ),
    Bench(
        "ml-rtf-turbofan",
        "ml_rtf_turbofan.py",
        [],
        ["--train-units", "80", "--test-units", "40"],
        {"baseline RUL RMSE": "plain LightGBM rolling-window baseline, same run (bench/ml_rtf.py)"},
    ),
    Bench("dashboard", "web_fps.py", ["--machines", "16"], ["--machines", "16", "--seconds", "5", "--warmup", "3"]),
    Bench("startup", "startup.py", ["--runs", "5"], ["--runs", "2"]),
    Bench("retrain", "retrain.py", [], []),
    Bench("kpis", "kpis.py", [], ["--days", "30", "--reading-days", "1"]),
    Bench("whatif", "whatif.py", [], ["--runs", "20", "--live-duration", "5"]),
]


def machine_description() -> str:
    """Cores, memory, CPU model, OS and Python of this machine."""
    mem_gib = 0.0
    cpu = platform.processor() or "unknown CPU"
    try:
        meminfo = Path("/proc/meminfo").read_text()
        found = re.search(r"MemTotal:\s+(\d+)", meminfo)
        mem_gib = int(found.group(1)) / 2**20 if found else mem_gib
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = match.group(1).strip() if match else cpu
    except (OSError, AttributeError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load:.1f} at the start"
    )


def run(bench: Bench, quick: bool) -> tuple[list[dict[str, Any]], float, int, str]:
    """Run one benchmark, echoing its output; its figures, wall time, exit code and command."""
    args = bench.quick_args if quick else bench.args
    cmd = [sys.executable, str(ROOT / "bench" / bench.script), *args]
    shown = shlex.join([".venv/bin/python", f"bench/{bench.script}", *args])
    console.rule(f"[bold]{bench.key}[/]: {shown}")
    began = time.perf_counter()
    figures: list[dict[str, Any]] = []  # JSON lines written by bench/figures.record
    with subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(PREFIX):
                figures.append(json.loads(line[len(PREFIX) :]))
            else:
                sys.stdout.write(line)
    return figures, time.perf_counter() - began, proc.returncode, shown


def anchor_for(bench: Bench, name: str) -> str:
    """The published anchor whose key appears in the figure's name."""
    return next((text for key, text in bench.anchors.items() if key.lower() in name.lower()), "")


def fmt(value: float) -> str:
    """A figure with sensible precision."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def main() -> None:
    """Run the selected benchmarks and write the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated keys: " + ",".join(b.key for b in BENCHES))
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test of the suite)")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    wanted = {k.strip() for k in args.only.split(",") if k.strip()}
    unknown = wanted - {b.key for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    machine = machine_description()
    started = datetime.now(UTC)
    rows: list[tuple[str, str, str, str, str]] = []
    runs: list[str] = []
    total = time.perf_counter()
    for bench in BENCHES:
        if wanted and bench.key not in wanted:
            continue
        figures, wall, code, shown = run(bench, args.quick)
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        runs.append(f"| `{shown}` | {wall:.0f} s | {status} |")
        for fig in figures:
            name, value, unit = str(fig["name"]), float(fig["value"]), str(fig["unit"])
            rows.append((bench.key, name, f"{fmt(value)} {unit}", str(fig.get("goal") or ""), anchor_for(bench, name)))
    elapsed = time.perf_counter() - total

    table = Table(title=f"factorytwin benchmarks ({elapsed / 60:.1f} min)")
    for col in ("bench", "figure", "value", "goal", "anchor"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)

    lines = [
        BEGIN,
        f"## All benchmarks in one run ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `{shlex.join(['.venv/bin/python', 'bench/run_all.py', *sys.argv[1:]])}` (or `make bench`), "
        f"{elapsed / 60:.1f} minutes in all. Machine: {machine}. Every figure below comes from this one run; the "
        "machine is shared, so compare figures of the same run, as ratios.",
        "",
        "| bench | figure | value | goal | anchor |",
        "|---|---|---|---|---|",
        *[f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |" for r in rows],
        "",
        "The anchors count messages (ThingsBoard: device messages of a few telemetry values each; Grafana Live: "
        "end-to-end push delay); our figures count sensor values (readings), so compare orders of magnitude. One "
        "HTTP request here carries 1,000 reading sets of about 7.5 values; one MQTT message 50 reading sets.",
        "",
        "| command | wall time | exit |",
        "|---|---|---|",
        *runs,
        END,
    ]
    if args.no_write:
        return
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        head, _, rest = text.partition("\n")
        text = f"{head}\n\n{block}\n{rest}"
    DOC.write_text(text)
    console.print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
