"""Ingest benchmark: the real server (``factorytwin serve`` in a subprocess) against SQLite and PostgreSQL.

A few concurrent clients POST batches of reading sets (every machine of the default layout, all its sensors,
~7.5 values per set) for a fixed duration; every batch carries new timestamps, so every value is a new row.
Prints stored readings per second for each backend, with latency percentiles and the command line.

    .venv/bin/python bench/ingest.py [--duration 15] [--clients 4] [--batch 1000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from access import bearer_headers
from databases import fresh_postgres
from figures import record

from factorytwin.auth import Role
from factorytwin.domain import kind_of, sensor_specs
from factorytwin.layout import load_layout

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bodies(batch: int) -> Iterator[tuple[bytes, int]]:
    """Endless distinct batch bodies (JSON bytes) and their value counts; each instant is 100 ms after the last.

    Built from per-machine string fragments (only the timestamp changes), so the client spends its CPU on HTTP,
    not on making JSON.
    """
    machines = load_layout().machines
    parts = []
    for m in machines:
        values = {k: round((s.normal_low + s.normal_high) / 2, 3) for k, s in sensor_specs(kind_of(m)).items()}
        parts.append((f'{{"machine_id":"{m.id}","ts":"', f'","values":{json.dumps(values)}}}', len(values)))
    instant = 0
    while True:
        items, count = [], 0
        for i in range(batch):
            head, tail, n = parts[i % len(parts)]
            if i and i % len(parts) == 0:
                instant += 1
            ts = (T0 + timedelta(milliseconds=100 * instant)).isoformat()
            items.append(f"{head}{ts}{tail}")
            count += n
        instant += 1
        yield ('{"readings":[' + ",".join(items) + "]}").encode(), count


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(database_url: str, log: Path) -> Iterator[tuple[str, int, dict[str, str]]]:
    """``factorytwin serve`` in a subprocess on a free port; yields its base URL, process id and an operator's
    credential headers."""
    headers = bearer_headers(database_url, Role.OPERATOR)
    port = free_port()
    exe = Path(sys.executable).parent / "factorytwin"
    cmd = [str(exe), "serve", "--port", str(port), "--database-url", database_url]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {log}")
                time.sleep(0.1)
            yield url, proc.pid, headers
        finally:
            proc.terminate()
            proc.wait(timeout=30)


async def load(
    url: str, headers: dict[str, str], duration: float, clients: int, batch: int, pid: int | None = None
) -> dict[str, float]:
    """Post batches from ``clients`` concurrent clients for ``duration`` seconds; return the figures.

    With the server's ``pid``, also its CPU seconds per million stored readings (a figure that other load on the
    machine does not distort as much as the rate)."""
    source = bodies(batch)
    # Prepared before the clock starts: enough bodies for 600,000 values/s, then more are made on demand.
    ready = [next(source) for _ in range(max(8, int(duration * 600_000 / (batch * 7.5))))]
    latencies: list[float] = []
    stored = sent = overloaded = 0

    async def client(http: httpx.AsyncClient, deadline: float) -> None:
        nonlocal stored, sent, overloaded
        while time.perf_counter() < deadline:
            body, count = ready.pop() if ready else next(source)
            start = time.perf_counter()
            r = await http.post("/api/v1/telemetry", content=body, headers={"content-type": "application/json"})
            if r.status_code == 503:
                overloaded += 1
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                continue
            r.raise_for_status()
            latencies.append(time.perf_counter() - start)
            sent += count
            stored += r.json()["new_readings"]

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=headers) as http:
        for _ in range(2):  # warm-up, not counted (it is stored, and counted by the server's health)
            body, _n = next(source)
            (await http.post("/api/v1/telemetry", content=body)).raise_for_status()
        cpu_before = cpu_seconds(pid) if pid else 0.0
        began = time.perf_counter()
        deadline = began + duration
        await asyncio.gather(*(client(http, deadline) for _ in range(clients)))
        elapsed = time.perf_counter() - began
        cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "values_sent": sent,
        "stored": stored,
        "elapsed_s": elapsed,
        "readings_per_s": stored / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "overloaded": overloaded,
        "server_cpu_s_per_million": cpu / stored * 1e6 if stored else 0.0,
        "server_cpu_share": cpu / elapsed,
    }


async def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """Start a fresh server on ``backend`` and load it."""
    async with contextlib.AsyncExitStack() as stack:
        if backend == "sqlite":
            database_url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            database_url = await stack.enter_async_context(fresh_postgres())
        with server(database_url, workdir / f"server-{backend}.log") as (url, pid, headers):
            return await load(url, headers, args.duration, args.clients, args.batch, pid)


def main() -> None:
    """Parse the options, run each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per backend")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--batch", type=int, default=1000, help="reading sets per POST")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    args = parser.parse_args()
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; server: factorytwin serve (1 process, uvicorn); {args.clients} clients")
    with tempfile.TemporaryDirectory(prefix="ft-bench-") as tmp:
        for backend in args.backends.split(","):
            r = asyncio.run(run_backend(backend.strip(), args, Path(tmp)))
            goal = ">= 200,000" if backend.strip() == "sqlite" else ""
            record(f"HTTP batch ingest into {backend.strip()}", r["readings_per_s"], "readings/s", goal=goal)
            print(
                f"{backend:>10}: {r['readings_per_s']:>10,.0f} readings/s stored  "
                f"({r['stored']:,} in {r['elapsed_s']:.1f} s, {r['requests']} POSTs of {args.batch} reading sets, "
                f"latency p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms, 503s {r['overloaded']}; "
                f"server CPU {r['server_cpu_s_per_million']:.2f} s per million readings, "
                f"{r['server_cpu_share']:.2f} cores busy)"
            )
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine)")


if __name__ == "__main__":
    main()
