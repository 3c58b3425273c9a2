"""factorytwin beside a peer on the same box: InfluxDB 1.6 (HTTP line protocol), the raw limits, and Mosquitto.

Same workload and same client for every side: the default layout (16 machines, ~7.5 sensors each, at 1 Hz), sent in
requests of 480 / 5,040 / 50,040 values by 4 concurrent ``httpx`` clients, three interleaved repetitions (each size
on each side in turn, then again). InfluxDB 1.6 from Debian (``apt-get install influxdb`` if absent, never Docker)
runs on a private port with its own meta/data/WAL directories and ``wal-fsync-delay = "0s"`` (fsync on every write);
factorytwin runs ``factorytwin serve`` on SQLite and on a fresh PostgreSQL database (127.0.0.1:5432), authenticated
like every bench (``bench/access.py``). Afterwards the rows are counted on every side and must equal what was
acknowledged. Printed: factorytwin ÷ InfluxDB for the rate and for the server CPU per stored value (from /proc; on
PostgreSQL the database's backends are counted with the server), and factorytwin ÷ the raw limits (SQLite
``executemany`` of the same rows into a bare table, synchronous=FULL in WAL mode; PostgreSQL ``COPY`` through
``asyncpg.copy_records_to_table``). Then MQTT with one reading set per message (QoS 1), published by Mosquitto's
own C client (one ``mosquitto_pub -l`` per machine) through one private broker, into factorytwin and into
``mosquitto_sub -C`` (the broker's own delivery rate, same publishers, same payloads).

    .venv/bin/python bench/peers.py [--quick] [--duration 4] [--reps 3] [--mqtt-messages 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shlex
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from access import bearer_headers
from databases import fresh_postgres
from figures import record
from ingest import cpu_seconds, free_port

from factorytwin.auth import Role
from factorytwin.domain import kind_of, sensor_specs
from factorytwin.layout import load_layout
from factorytwin.store import sqlite_blocks

T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
SIZES = (480, 5_040, 50_040)
CLIENTS = 4


@dataclass
class Workload:
    """The layout's machines and their sensor values; every instant (1 s apart) carries every machine once."""

    machines: list[tuple[str, dict[str, float]]]

    @classmethod
    def default(cls) -> Workload:
        ms = load_layout().machines
        return cls(
            [
                (m.id, {k: round((s.normal_low + s.normal_high) / 2, 3) for k, s in sensor_specs(kind_of(m)).items()})
                for m in ms
            ]
        )

    def sets(self, instant: int, values: int) -> Iterator[tuple[int, str, dict[str, float]]]:
        """Reading sets from ``instant`` on until ``values`` values are covered: (second, machine, values)."""
        n = 0
        while n < values:
            for mid, vals in self.machines:
                if n >= values:
                    return
                yield T0 + instant, mid, vals
                n += len(vals)
            instant += 1

    def instants(self, values: int) -> int:
        per = sum(len(v) for _, v in self.machines)
        return -(-values // per)


def json_body(sets: list[tuple[int, str, dict[str, float]]]) -> tuple[bytes, int]:
    items = []
    for ts, mid, vals in sets:
        iso = datetime.fromtimestamp(ts, UTC).isoformat()
        inner = ",".join(f'"{k}":{v}' for k, v in vals.items())
        items.append(f'{{"machine_id":"{mid}","ts":"{iso}","values":{{{inner}}}}}')
    return ('{"readings":[' + ",".join(items) + "]}").encode(), sum(len(v) for _, _, v in sets)


def line_body(sets: list[tuple[int, str, dict[str, float]]]) -> tuple[bytes, int]:
    lines = [
        f"readings,machine={mid} " + ",".join(f"{k}={v}" for k, v in vals.items()) + f" {ts}" for ts, mid, vals in sets
    ]
    return "\n".join(lines).encode(), sum(len(v) for _, _, v in sets)


@dataclass
class Side:
    """One receiver of the workload: how to make a body, where to post it, whose CPU to count."""

    name: str
    url: str
    path: str
    headers: dict[str, str]
    encode: Callable[[list[tuple[int, str, dict[str, float]]]], tuple[bytes, int]]
    pids: Callable[[], list[int]]
    instant: int = 0  # the next unused second: every request carries new rows
    acked: int = 0
    runs: dict[int, list[dict[str, float]]] = field(default_factory=dict)

    def cpu(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total


async def drive(side: Side, wl: Workload, size: int, duration: float) -> dict[str, float]:
    """4 clients post bodies of ``size`` values to ``side`` for ``duration`` s; rate and CPU per value."""
    step = wl.instants(size)
    pool: list[tuple[bytes, int]] = []
    for _ in range(max(8, int(duration * 300_000 / size))):
        pool.append(side.encode(list(wl.sets(side.instant, size))))
        side.instant += step
    pool.reverse()
    stored = 0
    rejected = 0

    async def client(http: httpx.AsyncClient, deadline: float) -> None:
        nonlocal stored, rejected
        while time.perf_counter() < deadline and pool:
            body, count = pool.pop()
            r = await http.post(side.path, content=body)
            if r.status_code == 503:
                rejected += 1
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                continue
            r.raise_for_status()
            stored += count

    async with httpx.AsyncClient(
        base_url=side.url, timeout=120, headers=side.headers, limits=httpx.Limits(max_connections=CLIENTS)
    ) as http:
        body, count = side.encode(list(wl.sets(side.instant, size)))  # warm-up, counted in acked, not in the rate
        side.instant += step
        (await http.post(side.path, content=body)).raise_for_status()
        side.acked += count
        cpu0, t0 = side.cpu(), time.perf_counter()
        await asyncio.gather(*(client(http, t0 + duration) for _ in range(CLIENTS)))
        elapsed, cpu = time.perf_counter() - t0, side.cpu() - cpu0
    side.acked += stored
    return {"rate": stored / elapsed, "cpu_us": cpu / stored * 1e6 if stored else float("nan"), "503": rejected}


@contextlib.contextmanager
def influxdb(work: Path) -> Iterator[tuple[str, int]]:
    """InfluxDB 1.6 on a private port with its own directories and fsync on every WAL write; (URL, pid)."""
    if shutil.which("influxd") is None:
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "influxdb"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    port, rpc = free_port(), free_port()
    d = work / "influx"
    conf = work / "influxdb.conf"
    conf.write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{rpc}"\n'
        f'[meta]\n  dir = "{d}/meta"\n'
        f'[data]\n  dir = "{d}/data"\n  wal-dir = "{d}/wal"\n  wal-fsync-delay = "0s"\n  query-log-enabled = false\n'
        f"[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n  auth-enabled = false\n'
        f"[continuous_queries]\n  enabled = false\n"
    )
    proc = subprocess.Popen(["influxd", "-config", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/ping", timeout=1).status_code == 204:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("influxd did not start")
            time.sleep(0.1)
        httpx.post(f"{url}/query", params={"q": "CREATE DATABASE bench"}).raise_for_status()
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def factorytwin(env: dict[str, str], log: Path) -> Iterator[tuple[str, int, dict[str, str]]]:
    """``factorytwin serve`` with ``FT_*`` settings ``env``; (URL, pid, operator headers)."""
    headers = bearer_headers(env["FT_DATABASE_URL"], Role.OPERATOR)
    port = free_port()
    exe = Path(sys.executable).parent / "factorytwin"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {log}")
                time.sleep(0.1)
            yield url, proc.pid, headers
        finally:
            proc.terminate()
            proc.wait(timeout=30)


async def pg_backends(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        name = dsn.rsplit("/", 1)[1]
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        return [int(r["pid"]) for r in rows]
    finally:
        await conn.close()


async def raw_sqlite(path: Path, wl: Workload, size: int, duration: float, state: dict[str, int]) -> float:
    """Values/s of ``executemany`` of the same rows into a bare table, one commit per request's rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS r (machine INTEGER NOT NULL, sensor INTEGER NOT NULL, ts INTEGER NOT NULL,"
        " value REAL NOT NULL, PRIMARY KEY (machine, sensor, ts)) WITHOUT ROWID"
    )
    n, busy = 0, 0.0
    for rows in raw_rows(wl, state, size):
        if busy > duration:
            break
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO r VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        busy += time.perf_counter() - t0
        n += len(rows)
    rate = n / busy
    state["raw_sqlite"] = state.get("raw_sqlite", 0) + n
    conn.close()
    return rate


def raw_rows(wl: Workload, state: dict[str, int], size: int = 0) -> Iterator[list[tuple[int, int, int, float]]]:
    """Endless requests' rows (machine, sensor, ms, value) of ``size`` values, on new instants."""
    ids = {mid: i for i, (mid, _) in enumerate(wl.machines)}
    keys: dict[str, int] = {}
    while True:
        rows = [
            (ids[mid], keys.setdefault(k, len(keys)), ts * 1000, v)
            for ts, mid, vals in wl.sets(state["instant"], size)
            for k, v in vals.items()
        ][:size]
        state["instant"] += wl.instants(size)
        yield rows


async def raw_copy(conn: asyncpg.Connection, wl: Workload, size: int, duration: float, state: dict[str, int]) -> float:
    """Values/s of ``COPY`` (``copy_records_to_table``) of the same rows into a bare table, one per request."""
    n, busy = 0, 0.0
    for rows in raw_rows(wl, state, size):
        if busy > duration:
            break
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("r", records=rows)
        busy += time.perf_counter() - t0
        n += len(rows)
    state["raw_pg"] = state.get("raw_pg", 0) + n
    return n / busy


async def count_influx(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        r = await http.get("/query", params={"db": "bench", "q": "SELECT count(*) FROM readings"})
        series = r.json()["results"][0].get("series", [])
        return int(sum(v for v in series[0]["values"][0][1:] if v)) if series else 0


@contextlib.asynccontextmanager
async def sides(work: Path, wl: Workload) -> AsyncIterator[tuple[list[Side], str, Callable[[], Any]]]:
    """The three HTTP sides running; also the PostgreSQL DSN and a counter of every side's rows."""
    async with fresh_postgres() as dsn:
        lite = f"sqlite:///{work / 'ft.db'}"
        with (
            factorytwin({"FT_DATABASE_URL": lite}, work / "ft-sqlite.log") as (lurl, lpid, lh),
            factorytwin({"FT_DATABASE_URL": dsn}, work / "ft-pg.log") as (purl, ppid, ph),
            influxdb(work) as (iurl, ipid),
        ):
            backends: list[int] = []

            def pg_pids() -> list[int]:
                return [ppid, *backends]

            json_h = {**lh, "content-type": "application/json"}
            out = [
                Side("sqlite", lurl, "/api/v1/telemetry", json_h, json_body, lambda: [lpid]),
                Side(
                    "postgresql",
                    purl,
                    "/api/v1/telemetry",
                    {**ph, "content-type": "application/json"},
                    json_body,
                    pg_pids,
                ),
                Side("influxdb", iurl, "/write?db=bench&precision=s", {}, line_body, lambda: [ipid]),
            ]
            for s in out[:2]:  # the first request opens the store's connections
                await drive(s, wl, 480, 0.2)
            backends.extend(await pg_backends(dsn))

            async def counts() -> dict[str, int]:
                c = sqlite3.connect(f"file:{work / 'ft.db'}?mode=ro", uri=True)
                lite_n = int(c.execute(sqlite_blocks.COUNT_ALL).fetchone()[0])
                c.close()
                conn = await asyncpg.connect(dsn)
                pg_n = int(await conn.fetchval("SELECT count(*) FROM readings"))
                await conn.close()
                return {"sqlite": lite_n, "postgresql": pg_n, "influxdb": await count_influx(iurl)}

            yield out, dsn, counts


@contextlib.contextmanager
def broker(work: Path, inflight: int) -> Iterator[int]:
    """A private Mosquitto on a free port with ``max_inflight_messages inflight``; yields the port."""
    port = free_port()
    conf = work / f"mosquitto-{port}.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages {inflight}\n"
    )
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


def mqtt_lines(wl: Workload, messages: int) -> dict[str, bytes]:
    """``messages`` single reading sets (1 s apart per machine) as one stdin of lines per machine."""
    out: dict[str, list[bytes]] = {}
    for ts, mid, vals in itertools.islice(wl.sets(0, 10**12), messages):
        body = json_body([(ts, mid, vals)])[0].removeprefix(b'{"readings":[').removesuffix(b"]}")
        out.setdefault(mid, []).append(body)
    return {mid: b"\n".join(lines) + b"\n" for mid, lines in out.items()}


def publish(port: int, prefix: str, lines: dict[str, bytes]) -> list[subprocess.Popen[bytes]]:
    """One ``mosquitto_pub -l`` (QoS 1) per machine on ``<prefix>/<machine>/telemetry``, each reading its lines
    from its own file. (Written into a pipe instead, a machine's lines beyond the pipe's 64 kB block the write
    until that publisher has sent most of them, so the publishers start one after another: 10,000 messages of 16
    machines then measure as ~8,000/s through a broker that carries ~30,000/s.)"""
    procs = []
    spool = Path(tempfile.mkdtemp(prefix="ft-mqtt-lines-"))
    try:
        files = []
        for mid, data in lines.items():
            path = spool / f"{mid}.lines"
            path.write_bytes(data)
            files.append((mid, path.open("rb")))
        for mid, stdin in files:
            with stdin:
                cmd = ["mosquitto_pub", "-p", str(port), "-q", "1", "-t", f"{prefix}/{mid}/telemetry", "-l"]
                procs.append(subprocess.Popen(cmd, stdin=stdin))
    finally:
        shutil.rmtree(spool, ignore_errors=True)  # the publishers hold their files open
    return procs


async def mqtt_side(work: Path, lines: dict[str, bytes], backend_url: str, port: int, tag: str) -> float:
    """Messages/s committed by factorytwin, one reading set per QoS 1 message, from ``mosquitto_pub`` clients."""
    env = {"FT_DATABASE_URL": backend_url, "FT_MQTT_URL": f"mqtt://127.0.0.1:{port}", "FT_MQTT_CLIENT_ID": f"ft-{tag}"}
    messages = sum(data.count(b"\n") for data in lines.values())
    readings = sum(len(json.loads(line)["values"]) for data in lines.values() for line in data.splitlines())
    with factorytwin(env, work / f"ft-mqtt-{tag}.log") as (url, pid, headers):
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:

            async def ingested() -> int:
                for _ in range(50):  # a busy server may drop a health poll; the count is what matters
                    with contextlib.suppress(httpx.HTTPError):
                        r = await http.get("/api/v1/health")
                        return int(r.json()["sections"]["mqtt"]["ingested_messages"])
                    await asyncio.sleep(0.1)
                raise RuntimeError("the server's health did not answer")

            # Steady state: the server imports its numeric stack (numpy, pandas, LightGBM) in a thread right
            # after start-up; measured over it, a run counts seconds of imports as ingest time (and varies with it).
            for _ in range(600):
                with contextlib.suppress(httpx.HTTPError, KeyError):
                    if (await http.get("/api/v1/health")).json()["sections"]["ml"]["ready"]:
                        break
                await asyncio.sleep(0.1)
            base = await ingested()
            stored0 = int((await http.get("/api/v1/health")).json()["store"]["readings"])
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            procs = publish(port, "ft", lines)
            while (await ingested()) - base < messages:
                if time.perf_counter() - t0 > 600:
                    raise RuntimeError("MQTT ingest did not finish")
                await asyncio.sleep(0.02)
            rate = messages / (time.perf_counter() - t0)
            cpu_us = (cpu_seconds(pid) - cpu0) / messages * 1e6
            health = (await http.get("/api/v1/health")).json()
            section, stored = health["sections"]["mqtt"], int(health["store"]["readings"]) - stored0
            if stored != readings:  # the store's own count, kept in the write transaction
                raise RuntimeError(f"{tag}: {readings:,} readings published, {stored:,} stored")
            print(
                f"  {tag}: {section['ingested_messages']:,} messages ({stored:,} readings, all stored) in "
                f"{section['batches']:,} store batches, "
                f"factorytwin CPU {cpu_us:.0f} µs per message"
            )
            for proc in procs:
                proc.wait(timeout=30)
            return rate


def mosquitto_own(port: int, lines: dict[str, bytes]) -> float:
    """Messages/s from the same ``mosquitto_pub`` clients to one ``mosquitto_sub -C`` (QoS 1), same broker."""
    messages = sum(data.count(b"\n") for data in lines.values())
    sub = subprocess.Popen(
        ["mosquitto_sub", "-p", str(port), "-q", "1", "-t", "own/+/telemetry", "-C", str(messages)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    t0 = time.perf_counter()
    procs = publish(port, "own", lines)
    sub.wait(timeout=300)
    elapsed = time.perf_counter() - t0
    for proc in procs:
        proc.wait(timeout=30)
    return messages / elapsed


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


async def main_async(args: argparse.Namespace) -> int:
    wl = Workload.default()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="ft-bench-peers-") as tmp:
        work = Path(tmp)
        if "http" in args.parts:
            failures += await http_part(args, work, wl)
        if "mqtt" in args.parts:
            await mqtt_part(args, work, wl)
    return failures


async def http_part(args: argparse.Namespace, work: Path, wl: Workload) -> int:
    """The HTTP sides and the raw limits, interleaved; the ratios; the number of sides whose rows do not add up."""
    failures = 0
    raw: dict[str, dict[int, list[float]]] = {"sqlite": {}, "postgresql": {}}
    state = {"instant": 0}
    async with sides(work, wl) as (out, dsn, counts):
        rawpg = await asyncpg.connect(dsn)
        await rawpg.execute(
            "CREATE TABLE r (machine INTEGER NOT NULL, sensor INTEGER NOT NULL, ts BIGINT NOT NULL,"
            " value DOUBLE PRECISION NOT NULL, PRIMARY KEY (machine, sensor, ts))"
        )
        for rep in range(args.reps):
            for size in SIZES:
                for s in out:
                    r = await drive(s, wl, size, args.duration)
                    s.runs.setdefault(size, []).append(r)
                    print(
                        f"rep {rep + 1} {size:>6,} values/request {s.name:>10}: {r['rate']:>9,.0f} values/s, "
                        f"{r['cpu_us']:.2f} µs CPU/value, 503s {r['503']}",
                        flush=True,
                    )
                raw["sqlite"].setdefault(size, []).append(
                    await raw_sqlite(work / "raw.db", wl, size, args.duration, state)
                )
                raw["postgresql"].setdefault(size, []).append(await raw_copy(rawpg, wl, size, args.duration, state))
        rawpg_n = int(await rawpg.fetchval("SELECT count(*) FROM r"))
        await rawpg.close()
        found = await counts()
    print("\nrows counted afterwards (acknowledged -> found):")
    for s in out:
        ok = found[s.name] == s.acked
        failures += not ok
        print(f"  {s.name:>10}: {s.acked:,} -> {found[s.name]:,} {'ok' if ok else 'MISMATCH'}")
    print(f"  raw PostgreSQL: {state.get('raw_pg', 0):,} -> {rawpg_n:,}")
    influx = out[2]
    print("\nfactorytwin ÷ InfluxDB (median of the repetitions), and ÷ the raw limit of its store:")
    for s in out[:2]:
        for size in SIZES:
            rate = med([r["rate"] for r in s.runs[size]])
            cpu = med([r["cpu_us"] for r in s.runs[size]])
            irate = med([r["rate"] for r in influx.runs[size]])
            icpu = med([r["cpu_us"] for r in influx.runs[size]])
            rlim = med(raw[s.name][size])
            limit = "raw executemany" if s.name == "sqlite" else "raw COPY"
            print(
                f"  {s.name:>10} {size:>6,}: rate {rate / irate:.2f} x ({rate:,.0f} vs {irate:,.0f} values/s), "
                f"CPU/value {cpu / icpu:.2f} x ({cpu:.2f} vs {icpu:.2f} µs); {rate / rlim:.2f} of {limit} "
                f"({rlim:,.0f} values/s)"
            )
            record(
                f"HTTP {s.name} ÷ InfluxDB rate at {size:,} values/request",
                rate / irate,
                "x",
                goal=">= 1.0" if s.name == "sqlite" and size == 5_040 else "",
            )
            record(
                f"HTTP {s.name} ÷ InfluxDB CPU/value at {size:,} values/request",
                cpu / icpu,
                "x",
                goal="<= 1.0" if s.name == "sqlite" and size == 5_040 else "",
                better="lower",
            )
            record(
                f"HTTP {s.name} ÷ {limit} at {size:,} values/request",
                rate / rlim,
                "x",
                goal=">= 0.6" if s.name == "postgresql" else "",
            )
    return failures


async def mqtt_part(args: argparse.Namespace, work: Path, wl: Workload) -> None:
    """One reading set per message into factorytwin against Mosquitto's own clients, through one private broker."""
    with broker(work, args.broker_inflight) as port:
        lines = mqtt_lines(wl, args.mqtt_messages)
        own: list[float] = []
        ft: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        for rep in range(args.reps):
            own.append(mosquitto_own(port, lines))
            ft["sqlite"].append(await mqtt_side(work, lines, f"sqlite:///{work / f'mqtt{rep}.db'}", port, f"s{rep}"))
            async with fresh_postgres() as mdsn:
                ft["postgresql"].append(await mqtt_side(work, lines, mdsn, port, f"p{rep}"))
            print(
                f"rep {rep + 1} MQTT: mosquitto_pub->mosquitto_sub {own[-1]:,.0f} msg/s, factorytwin SQLite "
                f"{ft['sqlite'][-1]:,.0f} msg/s, PostgreSQL {ft['postgresql'][-1]:,.0f} msg/s",
                flush=True,
            )
        for b, goal in (("sqlite", ">= 10,000"), ("postgresql", ">= 5,000")):
            rate = med(ft[b])
            print(
                f"MQTT one reading set per message into {b}: {rate:,.0f} msg/s = {rate / med(own):.3f} x "
                f"Mosquitto's own clients ({med(own):,.0f} msg/s)"
            )
            record(f"MQTT 1 set/message into {b}", rate, "msg/s", goal=goal)
            record(f"MQTT 1 set/message into {b} ÷ mosquitto_pub/sub", rate / med(own), "x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per size per side per repetition")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--mqtt-messages", type=int, default=30_000, help="MQTT messages per backend per repetition")
    parser.add_argument("--parts", default="http,mqtt", help="comma-separated: http, mqtt")
    parser.add_argument(
        "--broker-inflight",
        type=int,
        default=20,
        help="the private Mosquitto's max_inflight_messages (20 is its default; 0 = no limit)",
    )
    parser.add_argument("--quick", action="store_true", help="a short run: 1 s per size, 1 repetition, 10,000 messages")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.reps, args.mqtt_messages = 1.0, 1, 10_000
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start; {CLIENTS} clients")
    failures = asyncio.run(main_async(args))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
