"""Live-twin benchmark: reading -> WebSocket latency, and MQTT ingest throughput into PostgreSQL.

1. Latency. ``factorytwin serve`` (a subprocess, SQLite) with a generated layout of ``--machines`` mills. A producer
   POSTs reading sets stamped with the time they are sent, at 1,000 and 10,000 sensor values ("readings") per
   second, spread over all machines; a WebSocket client subscribed to every machine takes, for each ``reading``
   message, now minus the reading's timestamp. With enough machines each reports less often than the stream's
   coalescing interval, so what is measured is the pipeline (HTTP, validation, commit, twin, stream), not the
   deliberate coalescing delay.
2. MQTT ingest. The server with ``FT_MQTT_URL`` set, on a fresh PostgreSQL database, and a private Mosquitto; a
   publisher sends QoS 1 messages of ``--sets-per-message`` reading sets of one machine each, to
   ``ft/<machine>/telemetry``; the figure is readings committed per second, from the first publish until the
   server's MQTT counters show every reading ingested.

    .venv/bin/python bench/live.py [--duration 10] [--machines 500] [--mqtt-readings 600000] [--skip-mqtt]
    .venv/bin/python bench/live.py --machines 10000 --hz 1 --skip-mqtt   # 80,000 readings/s; clients of all and of 50
    .venv/bin/python bench/live.py --machines 10000 --hz 1 --gateways 20 --skip-mqtt   # the same via 20 gateways

With ``--hz`` every machine reports all its 8 sensors that often (1,000 machines at 1 Hz: 8,000 readings/s) and two
WebSocket clients are measured, one watching every machine and one watching 50 (``--watch``); the server's RSS is
printed after each rate, and whether the server closed a client (1013: too slow). With ``--gateways G`` the
readings come as a plant's edge gateways (Kepware, Node-RED, ThingsBoard IoT Gateway) send them: G producers, each
one multi-machine batch of its 1/G of the machines per period, instead of one producer's batch every 20 ms.
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
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
from access import bearer_headers
from databases import fresh_postgres
from figures import record
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from factorytwin.domain import MachineKind, kind_of, sensor_specs
from factorytwin.layout import load_layout

TICK_S = 0.02  # the producer sends one POST every 20 ms
MILL_VALUES = {k: round((s.normal_low + s.normal_high) / 2, 3) for k, s in sensor_specs(MachineKind.CNC_MILL).items()}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_layout(path: Path, machines: int, ids: list[str] | None = None) -> list[str]:
    """A layout of ``machines`` mills on one line (named ``ids``, default ``mill-0000``...); return their ids."""
    ids = [f"mill-{i:04d}" for i in range(machines)] if ids is None else ids[:machines]
    rows = [
        f"  - {{id: {m}, name: {m}, kind: cnc_mill, line: line-a, x: {i % 50}, y: {i // 50}}}"
        for i, m in enumerate(ids)
    ]
    path.write_text("name: Bench Works\nlines:\n  - {id: line-a, name: A}\nmachines:\n" + "\n".join(rows) + "\n")
    return ids


@contextlib.contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``factorytwin serve`` in a subprocess on a free port with ``FT_*`` settings from ``env``; yields its URL and
    an admin's credential headers (made in its database before it starts)."""
    with server_process(env, log) as (url, headers, _):
        yield url, headers


@contextlib.contextmanager
def server_process(
    env: dict[str, str], log: Path, timeout_s: float = 30.0
) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    """As ``server``, yielding the process too."""
    headers = bearer_headers(env["FT_DATABASE_URL"])
    port = free_port()
    exe = Path(sys.executable).parent / "factorytwin"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout_s
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {log}")
                time.sleep(0.1)
            yield url, headers, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[int]:
    """A private Mosquitto on a free port; yields the port."""
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of ``samples`` (seconds), in milliseconds."""
    if len(samples) < 2:
        return (float("nan"),) * 3
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[98] * 1000, max(samples) * 1000


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main_thread_cpu_s(pid: int) -> float:
    """CPU seconds the process's main thread (the event loop: HTTP, validation, twin, stream) has used so far; the
    rest of ``cpu_s`` is its other threads (the SQLite writer, the ML warm-up)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_snapshot_end(raw: str) -> bool:
    """True for the last (or only) message of a snapshot: a snapshot may come in chunks, the last says so."""
    return raw.startswith('{"type":"snapshot"') and '"last":false' not in raw[:200]


def find_all(text: str, part: str) -> Iterator[int]:
    """Every index where ``part`` starts in ``text``."""
    i = text.find(part)
    while i >= 0:
        yield i
        i = text.find(part, i + len(part))


async def latency_run(
    url: str,
    headers: dict[str, str],
    machines: list[str],
    rate: float,
    duration: float,
    watchers: dict[str, list[str] | None] | None = None,
    gateways: int | None = None,
    hz: float = 1.0,
    ws_batch: bool = False,
) -> dict[str, Any]:
    """Produce ``rate`` readings/s for ``duration`` s; return reading -> WebSocket latencies.

    Without ``gateways`` one producer POSTs a batch every ``TICK_S`` of the machines due then (round robin). With
    ``gateways`` G, G producers each own 1/G of the machines and POST one batch of all of them every ``1 / hz`` s,
    as an edge gateway does; the G schedules are spread evenly over the period. A gateway has one request in
    flight at a time; its reading sets are stamped with their scheduled time, so a gateway that falls behind shows
    as latency (and as late batches), not as a lower rate.

    ``watchers``: one WebSocket client per entry, subscribed to those machines (None: all); the figures of the
    first are the top-level ``p50``/``p99``/``max``/``messages``, every watcher's are in ``by_watcher`` (with the
    seconds its snapshot took to arrive and the close code if the server closed it)."""
    watchers = watchers if watchers is not None else {"all": None}
    per_set = len(MILL_VALUES)
    sets_per_tick = rate / per_set * TICK_S
    values = json.dumps(MILL_VALUES)
    latencies: dict[str, list[float]] = {name: [] for name in watchers}
    worst_by_second: dict[str, dict[int, float]] = {name: {} for name in watchers}
    closed: dict[str, int | None] = dict.fromkeys(watchers)
    frames = dict.fromkeys(watchers, 0)  # WebSocket frames received while measuring (a batch is one)
    snapshot_s: dict[str, float] = {}
    measuring = False

    async def listen(name: str, ws: Any) -> None:
        samples = latencies[name]
        worst = worst_by_second[name]
        try:
            async for raw in ws:
                if not measuring:
                    continue
                frames[name] += 1
                if raw.startswith('{"type":"reading"'):
                    starts = [raw.index('"ts":"') + 6]  # cheaper than json.loads: the client shares the CPU
                elif raw.startswith('{"type":"batch"'):  # several messages in one frame (?batch=true)
                    starts = [raw.index('"ts":"', i) + 6 for i in find_all(raw, '{"type":"reading"')]
                else:
                    continue
                now = datetime.now(UTC)
                second = int(time.perf_counter() - warmup_end)
                for start in starts:
                    lag = (now - datetime.fromisoformat(raw[start : raw.index('"', start)])).total_seconds()
                    samples.append(lag)
                    worst[second] = max(worst.get(second, 0.0), lag)
        except ConnectionClosed as exc:
            closed[name] = exc.rcvd.code if exc.rcvd is not None else -1

    async def open_watcher(name: str, ids: list[str] | None) -> Any:
        params = ([] if ids is None else ["machines=" + ",".join(ids)]) + (["batch=true"] if ws_batch else [])
        query = "?" + "&".join(params) if params else ""
        began = time.perf_counter()
        ws = await ws_connect(
            url.replace("http", "ws") + "/api/v1/stream" + query,
            max_size=None,
            additional_headers=headers,
            open_timeout=120,
        )
        while not is_snapshot_end(str(await ws.recv())):
            pass
        snapshot_s[name] = time.perf_counter() - began
        return ws

    sockets = {name: await open_watcher(name, ids) for name, ids in watchers.items()}
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=gateways or 8), headers=headers
    ) as http:
        listeners = [asyncio.create_task(listen(name, ws)) for name, ws in sockets.items()]
        posts: set[asyncio.Task[None]] = set()
        errors = 0

        posted = 0  # readings the server answered for, warm-up included: the denominator of its CPU per reading

        transport_errors = overloaded = 0

        async def post(body: bytes, readings: int) -> None:
            # A connection reset is retried, and a 503 after its Retry-After, as a gateway would (the batch is
            # idempotent); only the gateway that got it waits.
            nonlocal errors, posted, transport_errors, overloaded
            for attempt in range(10):
                try:
                    r = await http.post("/api/v1/telemetry", content=body, headers={"content-type": "application/json"})
                except httpx.TransportError:
                    transport_errors += 1
                    continue
                if r.status_code == 503 and attempt < 9:
                    overloaded += 1
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                    continue
                errors += r.status_code >= 300
                posted += readings * (r.status_code < 300)
                return
            errors += 1

        owed, next_machine, sent = 0.0, 0, 0
        warmup_end = time.perf_counter() + 2.0
        end = warmup_end + duration
        tick = time.perf_counter()
        late_ticks = 0

        async def gateway(phase: float, ids: list[str], period: float) -> None:
            """Every ``period`` s (from ``phase`` s on) one batch of all of ``ids``, stamped with its scheduled time."""
            nonlocal sent, late_ticks
            due = tick + phase
            while due < end:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                late_ticks += time.perf_counter() - due > period  # a whole period behind its schedule
                ts = (datetime.now(UTC) - timedelta(seconds=time.perf_counter() - due)).isoformat()
                body = '{"readings":[' + ",".join(f'{{"machine_id":"{m}","ts":"{ts}","values":{values}}}' for m in ids)
                count = measuring
                await post((body + "]}").encode(), len(ids) * per_set)
                if count:
                    sent += len(ids) * per_set
                due += period

        if gateways:
            shares = [machines[g::gateways] for g in range(gateways)]
            producers = [
                asyncio.create_task(gateway(g / (hz * gateways), ids, 1.0 / hz)) for g, ids in enumerate(shares)
            ]
            while (now := time.perf_counter()) < end:
                if not measuring and now >= warmup_end:
                    measuring = True
                await asyncio.sleep(min(0.05, max(0.0, end - now)))
            await asyncio.gather(*producers)
        while (now := time.perf_counter()) < end:
            if not measuring and now >= warmup_end:
                measuring = True
            owed += sets_per_tick
            n, owed = int(owed), owed - int(owed)
            ts = datetime.now(UTC).isoformat()
            items = []
            for _ in range(n):
                items.append(f'{{"machine_id":"{machines[next_machine]}","ts":"{ts}","values":{values}}}')
                next_machine = (next_machine + 1) % len(machines)
            if items:
                task = asyncio.create_task(post(('{"readings":[' + ",".join(items) + "]}").encode(), n * per_set))
                posts.add(task)
                task.add_done_callback(posts.discard)
                if measuring:
                    sent += n * per_set
            tick += TICK_S
            late_ticks += tick < time.perf_counter()
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))
        await asyncio.gather(*posts)
        drained = time.perf_counter() - end  # how long after the last scheduled batch the server answered it
        await asyncio.sleep(0.5)
        measuring = False
        for task in listeners:
            task.cancel()
        for ws in sockets.values():
            with contextlib.suppress(Exception):
                await ws.close()
    by_watcher: dict[str, dict[str, Any]] = {}
    for name in watchers:
        p50, p99, worst = percentiles(latencies[name])
        by_watcher[name] = {
            "p50": p50,
            "p99": p99,
            "max": worst,
            "messages": len(latencies[name]),
            "frames": frames[name],
            "closed": closed[name],
            "snapshot_s": snapshot_s[name],
            "worst_by_second_ms": [round(worst_by_second[name].get(i, 0.0) * 1000) for i in range(int(duration) + 1)],
        }
    first = by_watcher[next(iter(watchers))]
    return {
        "sent": sent,
        "achieved": sent / duration,
        "posted": posted,
        "drain_s": drained,
        "errors": errors,
        "transport_errors": transport_errors,
        "overloaded": overloaded,
        "late_ticks": late_ticks,
        "by_watcher": by_watcher,
        **first,
    }


async def prime(url: str, headers: dict[str, str], machines: list[str], wait_warmups: bool = False) -> None:
    """One reading set of every machine first: each machine's first report (offline -> running) is not measured."""
    ts = datetime.now(UTC).isoformat()
    values = json.dumps(MILL_VALUES)
    items = [f'{{"machine_id":"{m}","ts":"{ts}","values":{values}}}' for m in machines]
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:
        for i in range(0, len(items), 1000):
            body = ('{"readings":[' + ",".join(items[i : i + 1000]) + "]}").encode()
            r = await http.post("/api/v1/telemetry", content=body, headers={"content-type": "application/json"})
            r.raise_for_status()
        await asyncio.sleep(1.0)
        # With ``wait_warmups`` the start-up warm-ups (the KPI day tallies, the ML imports in a thread) are over
        # before the measurement starts (what they took is printed); without, the measurement overlaps them.
        deadline = time.monotonic() + 300
        while wait_warmups and time.monotonic() < deadline:
            sections = (await http.get("/api/v1/health")).json().get("sections", {})
            kpi, ml = sections.get("kpi", {}), sections.get("ml", {})
            if (kpi.get("warmed") or kpi.get("error") or not kpi.get("warm_days")) and ml.get("ready", True):
                print(f"warm-ups done: KPI day tallies in {kpi.get('seconds')} s, ML ready {ml.get('ready')}")
                break
            await asyncio.sleep(0.5)


async def warmups(url: str, headers: dict[str, str]) -> str:
    """What the server's start-up warm-ups are doing now (the ``kpi`` and ``ml`` sections of ``/health``)."""
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:
        sections = (await http.get("/api/v1/health")).json().get("sections", {})
    kpi, ml = sections.get("kpi", {}), sections.get("ml", {})
    if not kpi.get("warm_days"):
        tallies = "off (FT_KPI_WARM_DAYS=0)"
    elif kpi.get("warmed"):
        tallies = f"done in {kpi.get('seconds')} s"
    else:
        tallies = "failed" if kpi.get("error") else "RUNNING"
    return f"KPI warm-up {tallies}, ML ready {ml.get('ready')}"


async def mqtt_run(url: str, headers: dict[str, str], port: int, total: int, sets_per_message: int) -> dict[str, Any]:
    """Publish ``total`` readings over MQTT (QoS 1); return readings committed per second."""
    machines = load_layout().machines
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    payloads: list[tuple[str, bytes, int]] = []
    count, instant = 0, 0
    while count < total:
        for m in machines:
            specs = sensor_specs(kind_of(m))
            vals = json.dumps({k: round((s.normal_low + s.normal_high) / 2, 3) for k, s in specs.items()})
            sets = [
                f'{{"machine_id":"{m.id}","ts":"{(t0 + timedelta(seconds=instant + j)).isoformat()}","values":{vals}}}'
                for j in range(sets_per_message)
            ]
            n = sets_per_message * len(specs)
            payloads.append((f"ft/{m.id}/telemetry", ('{"readings":[' + ",".join(sets) + "]}").encode(), n))
            count += n
        instant += sets_per_message
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:

        async def ingested() -> int:
            return int((await http.get("/api/v1/health")).json()["sections"]["mqtt"]["readings"])

        async with aiomqtt.Client("127.0.0.1", port, identifier=f"bench-pub-{uuid.uuid4().hex[:6]}") as client:
            began = time.perf_counter()
            for topic, body, _ in payloads:
                await client.publish(topic, body, qos=1)
            published = time.perf_counter() - began
        while (done := await ingested()) < count:  # noqa: ASYNC110 - polling another process's counter
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - began
    return {"readings": done, "messages": len(payloads), "elapsed": elapsed, "publish_s": published}


async def main_async(args: argparse.Namespace) -> None:
    """Run both parts and print the figures."""
    with tempfile.TemporaryDirectory(prefix="ft-bench-live-") as tmp:
        work = Path(tmp)
        machines = write_layout(work / "layout.yaml", args.machines)
        env = {
            "FT_DATABASE_URL": f"sqlite:///{work / 'live.db'}",
            "FT_LAYOUT_PATH": str(work / "layout.yaml"),
            "FT_STREAM_INTERVAL_S": str(args.stream_interval),
        }
        if args.no_kpi_warmup:
            env["FT_KPI_WARM_DAYS"] = "0"
        if args.hz is not None:  # every machine reports all its sensors ``hz`` times a second
            args.rates = [args.machines * len(MILL_VALUES) * args.hz]
            if args.watch is None:
                args.watch = [0, 50]
        watchers: dict[str, list[str] | None] = {}
        for n in args.watch or [0]:
            watchers["all" if n == 0 else f"{n} machines"] = (
                None if n == 0 else machines[:: max(1, len(machines) // n)][:n]
            )
        with server_process(env, work / "server-latency.log", timeout_s=300) as (url, headers, proc):
            await prime(url, headers, machines, args.after_warmups)
            for rate in [] if args.skip_latency else args.rates:
                before = await warmups(url, headers)
                cpu0, loop0, wall0 = cpu_s(proc.pid), main_thread_cpu_s(proc.pid), time.perf_counter()
                r = await latency_run(
                    url, headers, machines, rate, args.duration, watchers, args.gateways, args.hz or 1.0, args.ws_batch
                )
                cpu, loop_cpu = cpu_s(proc.pid) - cpu0, main_thread_cpu_s(proc.pid) - loop0
                busy = cpu / (time.perf_counter() - wall0)
                rss = rss_mb(proc.pid)
                print(f"warm-ups at the start of the run: {before}; at its end: {await warmups(url, headers)}")
                case = f"{args.machines:,} machines" if args.hz is not None else ""
                if args.gateways:
                    case += f" via {args.gateways} gateways"
                if args.ws_batch:
                    case += ", clients with ?batch=true"
                for name, w in r["by_watcher"].items():
                    label = f"{rate:,.0f} readings/s" + (f", {case}, client watching {name}" if case else "")
                    record(f"reading -> WebSocket p50 at {label}", w["p50"], "ms", better="lower")
                    record(
                        f"reading -> WebSocket p99 at {label}",
                        w["p99"],
                        "ms",
                        goal="< 250 ms" if case else ("< 50 ms" if rate >= 10_000 else ""),
                        better="lower",
                    )
                    print(
                        f"reading -> WebSocket at {rate:>6,.0f} readings/s, watching {name}: p50 {w['p50']:.1f} ms  "
                        f"p99 {w['p99']:.1f} ms  max {w['max']:.1f} ms  ({w['messages']:,} reading messages in "
                        f"{w['frames']:,} frames for "
                        f"{r['sent']:,} readings, {args.machines} machines, HTTP errors {r['errors']}, "
                        f"producer late ticks {r['late_ticks']}); snapshot {w['snapshot_s']:.2f} s; "
                        f"closed by the server: {w['closed'] if w['closed'] is not None else 'no'}"
                    )
                    print(f"  worst latency in each measured second (ms): {w['worst_by_second_ms']}")
                producer = f"{args.gateways} gateways, one batch each per period" if args.gateways else "one producer"
                print(
                    f"offered {rate:,.0f} readings/s, sent {r['achieved']:,.0f} readings/s over the measured window "
                    f"({producer}; late batches/ticks {r['late_ticks']}; retried: {r['overloaded']} answers 503 "
                    f"(store writer queue full), {r['transport_errors']} connection errors)"
                )
                if case:
                    record(f"server RSS, {case} at {rate:,.0f} readings/s", rss, "MiB", better="lower")
                per_reading = cpu * 1e6 / max(1, r["posted"])
                label = f"server CPU per reading at {rate:,.0f} readings/s {case}".strip()
                record(label, per_reading, "µs", better="lower")
                print(
                    f"server RSS after {rate:,.0f} readings/s: {rss:.0f} MiB; server CPU {cpu:.1f} s = {busy:.0%} of "
                    f"one core over the run, {per_reading:.1f} µs per reading answered ({r['posted']:,}; at this cost "
                    f"{rate:,.0f} readings/s need {per_reading * rate / 1e6:.2f} cores); the last batch was answered "
                    f"{r['drain_s']:.1f} s after it was due; load average {os.getloadavg()[0]:.1f}"
                )
                loop_us = loop_cpu * 1e6 / max(1, r["posted"])
                record(
                    f"server event-loop thread CPU per reading at {rate:,.0f} readings/s {case}".strip(), loop_us, "µs"
                )
                print(
                    f"  of which the event-loop thread {loop_cpu:.1f} s ({loop_us:.1f} µs per reading: "
                    f"{loop_us * rate / 1e6:.2f} cores at this rate, and it cannot use more than one), other threads "
                    f"{cpu - loop_cpu:.1f} s"
                )
        if args.skip_mqtt:
            return
        async with fresh_postgres() as dsn:
            with mosquitto(work) as port:
                env = {"FT_DATABASE_URL": dsn, "FT_MQTT_URL": f"mqtt://127.0.0.1:{port}", "FT_MQTT_CLIENT_ID": "bench"}
                with server(env, work / "server-mqtt.log") as (url, headers):
                    r = await mqtt_run(url, headers, port, args.mqtt_readings, args.sets_per_message)
                    record("MQTT ingest into PostgreSQL", r["readings"] / r["elapsed"], "readings/s", goal=">= 30,000")
                    print(
                        f"MQTT ingest into PostgreSQL: {r['readings'] / r['elapsed']:>8,.0f} readings/s  "
                        f"({r['readings']:,} readings in {r['messages']:,} QoS 1 messages of {args.sets_per_message} "
                        f"reading sets, {r['elapsed']:.1f} s; publishing took {r['publish_s']:.1f} s)"
                    )


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per rate (after 2 s warm-up)")
    parser.add_argument("--rates", type=float, nargs="+", default=[1000.0, 10000.0], help="readings per second")
    parser.add_argument("--machines", type=int, default=500, help="machines the readings are spread over")
    parser.add_argument(
        "--hz",
        type=float,
        default=None,
        help="every machine reports this often (sets --rates); e.g. 1 with 10,000 machines",
    )
    parser.add_argument(
        "--gateways",
        type=int,
        default=None,
        help="G edge gateways, each POSTing one batch of its 1/G of the machines per period (needs --hz)",
    )
    parser.add_argument(
        "--ws-batch", action="store_true", help="the WebSocket clients ask for batch frames (?batch=true)"
    )
    parser.add_argument(
        "--watch",
        type=int,
        nargs="+",
        default=None,
        help="WebSocket clients: 0 watches every machine, n watches n machines (default 0; with --hz: 0 50)",
    )
    parser.add_argument(
        "--after-warmups", action="store_true", help="measure once the KPI and ML warm-ups after start-up are done"
    )
    parser.add_argument(
        "--no-kpi-warmup",
        action="store_true",
        help="start the server with FT_KPI_WARM_DAYS=0 (at 10,000 machines the warm-up runs for minutes)",
    )
    parser.add_argument("--stream-interval", type=float, default=0.25, help="FT_STREAM_INTERVAL_S of the server")
    parser.add_argument("--mqtt-readings", type=int, default=600_000, help="readings published over MQTT")
    parser.add_argument("--sets-per-message", type=int, default=50, help="reading sets per MQTT message")
    parser.add_argument("--skip-mqtt", action="store_true", help="latency only")
    parser.add_argument("--skip-latency", action="store_true", help="MQTT ingest only")
    args = parser.parse_args()
    if args.gateways is not None and (args.hz is None or not 1 <= args.gateways <= args.machines):
        parser.error("--gateways needs --hz and 1 <= G <= --machines")
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; server: factorytwin serve (1 process, uvicorn) in a subprocess")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
