"""Connectors at plant scale: OPC UA subscriptions and Modbus polling into a real ``factorytwin serve``.

The server runs in a subprocess on a fresh SQLite store with no machines; the bench provisions over the API a
profile of 10 sensors and ``--machines`` machines of it, then:

1. **OPC UA**: an asyncua server in this process serves one object per machine with 10 Double variables, all
   written every ``--period`` seconds. One connector (configured over ``POST /connectors``) subscribes to every
   variable. Figures: values stored per second (from the connector's ``values_total``) beside the values the
   server offered (the ratio is the connector's share of the machine's raw limit: what the device produced),
   and reading -> WebSocket latency p50/p99 (the stream's ``reading`` messages carry the OPC UA source timestamp).
2. **Modbus TCP**: one pymodbus server with one unit per machine, 10 holding registers each; one connector per
   device polling every 1 s. Figures: values stored per second beside the ideal (machines x 10 per second).
3. **The simulator over OPC UA**: ``factorytwin simulate --opcua`` in real time serving ``--machines`` machines of
   the bundled profiles (the default factory's, repeated), every sensor written once a second, read through the
   connector of ``factorytwin demo --opcua``. Figures as in 1, the offered rate being sensors x 1/s.

    .venv/bin/python bench/connectors.py [--machines 100] [--seconds 20] [--period 1.0] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from asyncua import ua
from asyncua.server.server import Server
from figures import record
from live import free_port, server
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from websockets.asyncio.client import connect as ws_connect

from factorytwin.demo import opcua_connector
from factorytwin.domain import FactoryLayout
from factorytwin.layout import load_layout
from factorytwin.profiles.registry import ProfileRegistry

BIN = Path(sys.executable).parent

SENSORS = [f"s{i}" for i in range(10)]
PROFILE = {
    "id": "bench-unit",
    "name": "Bench unit",
    "sensors": [
        {"key": k, "label": k, "unit": "bar", "low": 0.0, "high": 70000.0, "normal_low": 0.0, "normal_high": 65000.0}
        for k in SENSORS
    ],
    "appearance": {"kind": "primitive", "shape": "box", "width": 1.0, "height": 1.0, "depth": 1.0},
}


@contextlib.contextmanager
def plant_server(workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``factorytwin serve`` (``bench/live.py``'s) on a fresh SQLite store whose plant starts empty."""
    layout = workdir / "empty.yaml"
    layout.write_text("name: Connector bench\nlines:\n  - {id: bench, name: Bench}\nmachines: []\n")
    env = {"FT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "FT_LAYOUT": str(layout), "FT_MQTT_URL": ""}
    with server(env, workdir / "serve.log") as running:
        yield running


async def provision(api: httpx.AsyncClient, machines: list[str]) -> None:
    """The profile and its machines, over the API."""
    (await api.post("profiles", json=PROFILE)).raise_for_status()
    for i, mid in enumerate(machines):
        body = {"id": mid, "name": mid, "profile": "bench-unit", "line": "bench", "x": float(i % 20), "y": i / 20}
        (await api.post("machines", json=body)).raise_for_status()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def values_total(api: httpx.AsyncClient, ids: list[str]) -> int:
    total = 0
    for cid in ids:
        status = (await api.get(f"connectors/{cid}")).json()["status"]
        total += int(status["values_total"]) if status else 0
    return total


async def measure_opcua(
    url: str, api: httpx.AsyncClient, config: dict[str, Any], offered: Callable[[], float], seconds: float
) -> tuple[float, float, list[float]]:
    """Create the OPC UA connector ``config`` over the API and measure, over ``seconds``: values stored per second
    (its ``values_total``), values offered per second (``offered()``: a running count of what the server wrote) and
    the reading -> WebSocket latencies (the readings carry the OPC UA source timestamp)."""
    latencies: list[float] = []
    measuring = False

    async def listen(ws: Any) -> None:
        async for raw in ws:
            if measuring and raw.startswith('{"type":"reading"'):
                now = datetime.now(UTC)
                start = raw.index('"ts":"') + 6
                latencies.append((now - datetime.fromisoformat(raw[start : raw.index('"', start)])).total_seconds())

    cid = config["id"]
    headers = {"Authorization": api.headers["Authorization"]}
    async with ws_connect(
        url.replace("http", "ws") + "/api/v1/stream", max_size=None, additional_headers=headers
    ) as ws:
        await ws.recv()  # the snapshot
        listener = asyncio.create_task(listen(ws))
        (await api.post("connectors", json=config)).raise_for_status()
        deadline = time.monotonic() + 60
        while (await api.get(f"connectors/{cid}")).json()["status"]["state"] != "connected":
            if time.monotonic() > deadline:
                raise RuntimeError("the OPC UA connector did not connect")
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # warm-up: the initial values of every item, first ticks
        v0, o0, t0 = await values_total(api, [cid]), offered(), time.perf_counter()
        measuring = True
        await asyncio.sleep(seconds)
        measuring = False
        v1, o1, t1 = await values_total(api, [cid]), offered(), time.perf_counter()
        listener.cancel()
    (await api.delete(f"connectors/{cid}")).raise_for_status()
    return (v1 - v0) / (t1 - t0), (o1 - o0) / (t1 - t0), latencies


def report_opcua(label: str, rate: float, offered_rate: float, latencies: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    print(label)
    print(f"  stored {rate:,.0f} values/s of {offered_rate:,.0f} offered ({rate / offered_rate:.2f}x)")
    print(f"  reading -> WebSocket p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(latencies)} messages)")
    return p50, p99


async def opcua_part(url: str, api: httpx.AsyncClient, machines: list[str], seconds: float, period: float) -> None:
    """A device: an asyncua server in this process, ``len(SENSORS)`` Double variables per machine, all written
    every ``period`` seconds."""
    port = free_port()
    ua_server = Server()
    await ua_server.init()
    ua_server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench/")
    idx = await ua_server.register_namespace("urn:factorytwin:bench")
    variables: list[Any] = []
    mappings = []
    for mid in machines:
        obj = await ua_server.nodes.objects.add_object(f"ns={idx};s={mid}", mid)
        for key in SENSORS:
            node_id = f"ns={idx};s={mid}.{key}"
            variables.append(await obj.add_variable(node_id, f"{idx}:{key}", 0.0, ua.VariantType.Double))
            mappings.append({"node_id": node_id, "machine_id": mid, "sensor": key})
    await ua_server.start()
    offered = 0
    stop = asyncio.Event()

    async def produce() -> None:
        nonlocal offered
        tick = 0
        while not stop.is_set():
            began = time.perf_counter()
            tick += 1
            for var in variables:
                await var.write_value(ua.Variant(float(tick % 60000), ua.VariantType.Double))
            offered += len(variables)
            await asyncio.sleep(max(0.0, period - (time.perf_counter() - began)))

    config = {
        "kind": "opcua",
        "id": "bench-plc",
        "endpoint": f"opc.tcp://127.0.0.1:{port}/bench/",
        "publishing_interval_ms": 100,
        "mappings": mappings,
    }
    producer = asyncio.create_task(produce())
    try:
        rate, offered_rate, latencies = await measure_opcua(url, api, config, lambda: offered, seconds)
    finally:
        stop.set()
        await producer
        await ua_server.stop()
    label = f"OPC UA device: {len(machines)} machines x {len(SENSORS)} variables every {period:g} s"
    p50, p99 = report_opcua(label, rate, offered_rate, latencies)
    record("OPC UA subscription ingest", rate, "values/s", goal=f"= offered ({offered_rate:,.0f}/s)")
    record("OPC UA stored / offered", rate / offered_rate, "x", goal="1.0")
    record("OPC UA reading -> WebSocket p50", p50, "ms", better="lower")
    record("OPC UA reading -> WebSocket p99", p99, "ms", goal="< 250 ms", better="lower")


def simulated_plant(count: int) -> FactoryLayout:
    """``count`` machines of the default factory's kinds (its machines repeated), all on the bench's line."""
    base = load_layout()
    machines = [
        base.machines[i % len(base.machines)].model_copy(
            update={"id": f"sim-{i:03d}", "name": f"Sim {i}", "line": "bench", "x": float(i % 20) * 3, "y": i // 20 * 3}
        )
        for i in range(count)
    ]
    return base.model_copy(update={"lines": [base.lines[0].model_copy(update={"id": "bench"})], "machines": machines})


@contextlib.contextmanager
def simulator(layout_file: Path, port: int, log: Path) -> Iterator[str]:
    """``factorytwin simulate`` in real time (1x) serving the layout's machines over OPC UA on ``port``."""
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    cmd = [str(BIN / "factorytwin"), "simulate", "--speed", "1", "--opcua", endpoint, "--layout", str(layout_file)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the simulator did not serve OPC UA: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield endpoint
        finally:
            proc.terminate()
            proc.wait(timeout=30)


async def simulator_part(url: str, api: httpx.AsyncClient, count: int, seconds: float, workdir: Path) -> None:
    """The simulator itself (``factorytwin simulate --opcua``) serving ``count`` machines of the bundled profiles,
    each sensor written once a simulated second (real time), read through the connector ``factorytwin demo
    --opcua`` uses (``demo.opcua_connector``, here with a 100 ms publishing interval like the device part)."""
    layout = simulated_plant(count)
    for m in layout.machines:
        body = {"id": m.id, "name": m.name, "profile": m.profile, "line": "bench", "x": m.x, "y": m.y}
        (await api.post("machines", json=body)).raise_for_status()
    layout_file = workdir / "simulated.json"
    layout_file.write_text(layout.model_dump_json())
    variables = sum(len(ProfileRegistry.bundled().sensors(m)) for m in layout.machines)
    with simulator(layout_file, free_port(), workdir / "simulate.log") as endpoint:
        config = opcua_connector(layout, endpoint) | {"publishing_interval_ms": 100}
        began = time.perf_counter()
        rate, offered_rate, latencies = await measure_opcua(
            url, api, config, lambda: (time.perf_counter() - began) * variables, seconds
        )
    label = f"OPC UA simulator: {count} simulated machines, {variables} sensor variables, each written every 1 s"
    _, p99 = report_opcua(label, rate, offered_rate, latencies)
    record("OPC UA from the simulator", rate, "values/s", goal=f"= offered ({offered_rate:,.0f}/s)")
    record("OPC UA simulator stored / offered", rate / offered_rate, "x", goal="1.0")
    record("OPC UA simulator reading -> WebSocket p99", p99, "ms", goal="< 250 ms", better="lower")


async def modbus_part(api: httpx.AsyncClient, machines: list[str], seconds: float) -> None:
    port = free_port()
    regs = [SimData(0, count=len(SENSORS), values=1234, datatype=DataType.REGISTERS)]
    bits = [SimData(0, values=False, datatype=DataType.BITS)]
    devices = [SimDevice(id=i + 1, simdata=(bits, list(bits), regs, list(regs))) for i in range(len(machines))]
    mb = ModbusTcpServer(devices, address=("127.0.0.1", port))
    await mb.serve_forever(background=True)
    ids = []
    try:
        for i, mid in enumerate(machines):
            cid = f"rtu-{i:03d}"
            ids.append(cid)
            registers = [
                {"address": j, "data_type": "uint16", "machine_id": mid, "sensor": key} for j, key in enumerate(SENSORS)
            ]
            body = {
                "kind": "modbus",
                "id": cid,
                "host": "127.0.0.1",
                "port": port,
                "unit_id": i + 1,
                "poll_interval_s": 1.0,
                "registers": registers,
            }
            (await api.post("connectors", json=body)).raise_for_status()
        await asyncio.sleep(4)  # every connector connected, first polls done
        v0, t0 = await values_total(api, ids), time.perf_counter()
        await asyncio.sleep(seconds)
        v1, t1 = await values_total(api, ids), time.perf_counter()
    finally:
        for cid in ids:
            await api.delete(f"connectors/{cid}")
        await mb.shutdown()  # type: ignore[no-untyped-call]  # pymodbus leaves it unannotated
    rate, ideal = (v1 - v0) / (t1 - t0), len(machines) * len(SENSORS) / 1.0
    print(f"Modbus: {len(machines)} devices x {len(SENSORS)} registers polled every 1 s")
    print(f"  stored {rate:,.0f} values/s of {ideal:,.0f} polled at the interval ({rate / ideal:.2f}x)")
    record("Modbus polling at 1 s", rate, "values/s", goal=f"= {ideal:,.0f}/s")
    record("Modbus stored / ideal", rate / ideal, "x", goal="1.0")


async def main_async(args: argparse.Namespace) -> None:
    machines = [f"unit-{i:03d}" for i in range(args.machines)]
    with tempfile.TemporaryDirectory() as tmp, plant_server(Path(tmp)) as (url, headers):
        async with httpx.AsyncClient(base_url=f"{url}/api/v1/", headers=headers, timeout=60) as api:
            await provision(api, machines)
            await opcua_part(url, api, machines, args.seconds, args.period)
            await modbus_part(api, machines, args.seconds)
            await simulator_part(url, api, args.machines, args.seconds, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window of each part")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between OPC UA value changes")
    parser.add_argument("--quick", action="store_true", help="20 machines, 5 s windows")
    args = parser.parse_args()
    if args.quick:
        args.machines, args.seconds = 20, 5.0
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
