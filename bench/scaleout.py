"""Scale-out: N ``factorytwin serve`` processes on one PostgreSQL database and one broker, MQTT shared subscription.

The same workload as ``bench/peers.py``'s MQTT part (one reading set per QoS 1 message, one ``mosquitto_pub -l``
per machine of the default layout, through one private Mosquitto) goes into 1 process and then into 2 (or
``--processes``) processes that split the telemetry through ``$share/factorytwin/ft/+/telemetry``
(``FT_MQTT_SHARED_SUBSCRIPTION=true``, each with its own ``FT_MQTT_CLIENT_ID``), interleaved over the repetitions,
each run on a fresh database. The rate is messages ÷ the time until the processes' ``ingested_messages`` add up to
what was published; afterwards the readings in the database are counted and must equal what was published. The
clock starts once every process's start-up work in the background (numeric-stack import, KPI warm-up) is over.
Printed: N processes ÷ 1 process (issue 15's goal: >= 1.6 for two, as far as two cores allow; the broker, the
publishers and PostgreSQL share those cores); and the servers' CPU per message (all processes together, from
/proc), steadier than the rate on a loaded box: how much work a second process adds.

    .venv/bin/python bench/scaleout.py [--quick] [--reps 3] [--messages 30000] [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from databases import fresh_postgres
from figures import record
from peers import Workload, broker, factorytwin, mqtt_lines, publish


async def ingested(http: httpx.AsyncClient) -> int:
    """The process's count of committed MQTT messages (a busy server may drop a health poll: retried)."""
    for _ in range(50):
        with contextlib.suppress(httpx.HTTPError, KeyError):
            r = await http.get("/api/v1/health")
            return int(r.json()["sections"]["mqtt"]["ingested_messages"])
        await asyncio.sleep(0.1)
    raise RuntimeError("a server's health did not answer")


async def settled(http: httpx.AsyncClient) -> None:
    """Wait for the server's start-up work in the background: the numeric-stack import (a thread right after
    start-up, as ``bench/peers.py`` waits for) and the KPI warm-up (``KPI_WARM_DELAY_S`` after start-up, each
    process its own). A run measured over them counts seconds of imports and tallies as ingest time, twice over
    with two processes."""
    for _ in range(600):
        with contextlib.suppress(httpx.HTTPError, KeyError):
            sections = (await http.get("/api/v1/health")).json()["sections"]
            kpi = sections["kpi"]
            if sections["ml"]["ready"] and (kpi["warmed"] or kpi["error"] or not kpi["warm_days"]):
                return
        await asyncio.sleep(0.1)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(work: Path, lines: dict[str, bytes], port: int, processes: int, tag: str) -> tuple[float, float]:
    """Messages/s into ``processes`` servers on one fresh database, and the servers' CPU µs per message (all of
    them together, over the measured window); checks the stored readings afterwards."""
    messages = sum(data.count(b"\n") for data in lines.values())
    values = sum(len(json.loads(line)["values"]) for data in lines.values() for line in data.splitlines())
    async with fresh_postgres() as dsn:
        with contextlib.ExitStack() as stack:
            clients: list[httpx.AsyncClient] = []
            pids: list[int] = []
            for k in range(processes):  # one after the other: the first one migrates the database
                env = {
                    "FT_DATABASE_URL": dsn,
                    "FT_MQTT_URL": f"mqtt://127.0.0.1:{port}",
                    "FT_MQTT_CLIENT_ID": f"ft-{tag}-{k}",
                    "FT_MQTT_SHARED_SUBSCRIPTION": "true" if processes > 1 else "false",
                }
                url, pid, headers = stack.enter_context(factorytwin(env, work / f"ft-{tag}-{k}.log"))
                pids.append(pid)
                clients.append(httpx.AsyncClient(base_url=url, timeout=30, headers=headers))
            try:
                await asyncio.gather(*(settled(c) for c in clients))
                base = sum(await asyncio.gather(*(ingested(c) for c in clients)))
                cpu0 = sum(cpu_s(pid) for pid in pids)
                t0 = time.perf_counter()
                procs = publish(port, "ft", lines)
                while sum(await asyncio.gather(*(ingested(c) for c in clients))) - base < messages:
                    if time.perf_counter() - t0 > 600:
                        raise RuntimeError("MQTT ingest did not finish")
                    await asyncio.sleep(0.02)
                rate = messages / (time.perf_counter() - t0)
                cpu_us = (sum(cpu_s(pid) for pid in pids) - cpu0) / messages * 1e6
                for proc in procs:
                    proc.wait(timeout=30)
            finally:
                for c in clients:
                    await c.aclose()
        conn = await asyncpg.connect(dsn)
        try:
            stored = int(await conn.fetchval("SELECT count(*) FROM readings"))
        finally:
            await conn.close()
    if stored != values:
        raise RuntimeError(f"{tag}: {stored:,} readings stored, {values:,} published")
    print(
        f"  {tag}: {processes} process(es), {messages:,} messages, {stored:,} readings all stored: {rate:,.0f} msg/s,"
        f" server CPU {cpu_us:.0f} µs/message (load {os.getloadavg()[0]:.1f})"
    )
    return rate, cpu_us


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ft-bench-scaleout-") as tmp:
        work = Path(tmp)
        with broker(work, args.broker_inflight) as port:
            lines = mqtt_lines(Workload.default(), args.messages)
            one: list[tuple[float, float]] = []
            many: list[tuple[float, float]] = []
            for rep in range(args.reps):
                one.append(await run(work, lines, port, 1, f"one{rep}"))
                many.append(await run(work, lines, port, args.processes, f"many{rep}"))
    r1, rn = statistics.median(r for r, _ in one), statistics.median(r for r, _ in many)
    c1, cn = statistics.median(c for _, c in one), statistics.median(c for _, c in many)
    n = args.processes
    print(f"MQTT into PostgreSQL: 1 process {r1:,.0f} msg/s, {n} processes {rn:,.0f} msg/s = {rn / r1:.2f} x")
    print(f"server CPU per message: 1 process {c1:.0f} µs, {n} processes {cn:.0f} µs (all of them) = {cn / c1:.2f} x")
    record("MQTT into PostgreSQL, 1 process", r1, "msg/s")
    record(f"MQTT into PostgreSQL, {args.processes} processes", rn, "msg/s")
    record(f"MQTT into PostgreSQL, {args.processes} processes ÷ 1", rn / r1, "x", goal=">= 1.6")
    record(f"server CPU per MQTT message, {args.processes} processes ÷ 1", cn / c1, "x", better="lower")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--messages", type=int, default=30_000, help="MQTT messages per run")
    parser.add_argument("--processes", type=int, default=2, help="processes of the scaled-out side")
    parser.add_argument("--broker-inflight", type=int, default=20, help="the broker's max_inflight_messages")
    parser.add_argument("--quick", action="store_true", help="one repetition of 10,000 messages")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.messages = 1, 10_000
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    asyncio.run(main_async(args))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
