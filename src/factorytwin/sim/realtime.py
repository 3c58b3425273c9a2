"""The real-time driver: paces the engine to the wall clock (times a speed-up) and publishes what it produces.

Every tick (1 s of wall time by default) the engine advances ``speed x tick`` simulated seconds at 1 Hz; the last
sample of each machine is published, stamped with the wall clock (the dashboard shows live data while the physics
runs ``speed`` times faster), together with every event of the tick. With an MQTT URL the driver also listens on
``ft/<machine_id>/commands`` and answers each command with an event of kind ``command``.

With ``--opcua``/``--modbus`` the driver also serves every machine as an OPC UA and/or a Modbus TCP server (a
``PlantServer``): each is started (bound) before the first tick, so a taken port ends the run at once with one
line, gets the last sample of every tick, applies the commands its clients send (OPC UA methods, Modbus writes), and
is stopped on the way out. Servers run alongside HTTP/MQTT publishing or instead of it.

``run_realtime`` is the reusable async entry: the ``demo`` command starts it inside its own event loop and stops it
cleanly by setting the ``stop`` event (or cancelling the task).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import aiomqtt

from factorytwin.domain import FactoryLayout
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.mqtt import MqttEndpoint, MqttLink, payload_bytes
from factorytwin.sim.commands import apply_command, machine_index, parse_command_message
from factorytwin.sim.engine import Engine
from factorytwin.sim.publish import HttpPublisher, MqttPublisher, Publisher
from factorytwin.sim.state import Frame

if TYPE_CHECKING:
    from factorytwin.sim.opcua_server import OpcUaOptions

log = logging.getLogger("factorytwin.sim.realtime")


class PlantServer(Protocol):
    """A server that serves the simulated machines in a plant protocol (``OpcUaSimServer``, ``ModbusSimServer``)."""

    commands: int  # commands its clients sent
    refused: int  # ... of which refused

    async def start(self) -> None:
        """Listen; ``OSError`` (one line) when it cannot."""

    async def update(self, frame: Frame) -> None:
        """Serve the last sample of ``frame`` from now on."""

    async def stop(self) -> None:
        """Close the connections and stop listening."""


@dataclass
class RealtimeStats:
    """What a real-time run did."""

    ticks: int = 0
    simulated_s: float = 0.0
    readings: int = 0
    events: int = 0
    commands: int = 0
    commands_refused: int = 0
    unsent: int = 0  # readings and events still queued when the run ended (receiver unreachable)


def frame_messages(engine: Engine, frame: Frame, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(reading sets, events) as JSON-ready dicts: the last sample of each machine and every event, at ``now``."""
    ts = now.isoformat()
    readings = [
        {"machine_id": mid, "ts": ts, "values": frame.machine_values(frame.n - 1, i)}
        for i, mid in enumerate(engine.machine_ids)
    ]
    events = [e.to_domain(now).model_dump(mode="json", exclude_none=True) for e in frame.events]
    return readings, events


async def listen_for_commands(
    engine: Engine,
    url: str | MqttEndpoint,
    stats: RealtimeStats,
    topic_prefix: str = "ft",
    client_id: str | None = None,
) -> None:
    """Apply every command arriving on ``<prefix>/+/commands`` to the engine, until cancelled; reconnect on loss."""
    ident = client_id or f"ft-sim-cmd-{uuid.uuid4().hex[:8]}"

    async def on_message(message: aiomqtt.Message) -> None:
        handle_command_message(engine, str(message.topic), payload_bytes(message), stats)

    endpoint = MqttEndpoint.parse(url) if isinstance(url, str) else url
    link = MqttLink(endpoint, ident, [(f"{topic_prefix}/+/commands", 1)], on_message)
    await link.start(wait_s=0)
    try:
        await asyncio.Event().wait()  # until cancelled; the link reconnects by itself meanwhile
    finally:
        await link.stop()


def handle_command_message(engine: Engine, topic: str, payload: object, stats: RealtimeStats) -> None:
    """Validate one MQTT command and apply it; a bad one is logged (and answered when the machine is known)."""
    stats.commands += 1
    topic_machine = topic.split("/")[-2] if topic.count("/") >= 2 else ""
    raw = bytes(payload) if isinstance(payload, bytes | bytearray) else payload if isinstance(payload, str) else b""
    try:
        message = parse_command_message(raw)
        if message.machine_id != topic_machine:
            mismatch = f"{message.machine_id!r} does not match the topic {topic!r}"
            raise InvalidInput([FieldProblem(("machine_id",), mismatch, message.machine_id)])
        outcome = apply_command(engine, message.machine_id, message, command_id=message.id)
        if not outcome.accepted:
            stats.commands_refused += 1
        log.info("command %s to %s: %s", message.command.value, message.machine_id, outcome.message)
    except InvalidInput as exc:
        stats.commands_refused += 1
        log.warning("refused command on %s: %s", topic, exc)
        try:
            i = machine_index(engine, topic_machine)
        except InvalidInput:
            return
        engine.emit(i, "command", None, f"refused: {exc}", accepted=False)


async def run_realtime(
    layout: FactoryLayout,
    *,
    target: str | None = None,
    mqtt_url: str | MqttEndpoint | None = None,
    speed: float = 60.0,
    seed: int = 0,
    tick_s: float = 1.0,
    demo_faults: bool = False,
    stop: asyncio.Event | None = None,
    duration_s: float | None = None,
    engine: Engine | None = None,
    publishers: list[Publisher] | None = None,
    topic_prefix: str = "ft",
    token: str | None = None,
    opcua: OpcUaOptions | None = None,
    modbus_port: int | None = None,
    servers: list[PlantServer] | None = None,
) -> RealtimeStats:
    """Run the factory in real time (x ``speed``) until ``stop`` is set, ``duration_s`` passes, or cancellation.

    Telemetry goes to ``target`` (HTTP, with ``token`` as its bearer credential) and/or ``mqtt_url`` (MQTT: a URL,
    or an ``MqttEndpoint`` with credentials and TLS), or to the given ``publishers``; the machines are also served
    over OPC UA (``opcua``), Modbus TCP (``modbus_port``, all interfaces) and the given ``servers``. On the way out
    the publishers get a few seconds to send what they still hold.
    """
    if speed <= 0 or tick_s <= 0:
        raise ValueError("speed and tick must be positive")
    engine = engine or Engine(layout, seed=seed, start=datetime.now(UTC), demo_faults=demo_faults)
    pubs: list[Publisher] = list(publishers or [])
    if target:
        pubs.append(HttpPublisher(target, token=token))
    mqtt = MqttEndpoint.parse(mqtt_url) if isinstance(mqtt_url, str) and mqtt_url else mqtt_url or None
    if mqtt:
        pubs.append(MqttPublisher(mqtt, topic_prefix=topic_prefix, client_id=f"ft-sim-{uuid.uuid4().hex[:8]}"))
    plant_servers: list[PlantServer] = list(servers or [])
    if opcua is not None:
        from factorytwin.sim.opcua_server import OpcUaSimServer  # asyncua loads in a second: only when asked

        plant_servers.append(OpcUaSimServer(engine, opcua))
    if modbus_port is not None:
        from factorytwin.sim.modbus_server import ModbusSimServer

        plant_servers.append(ModbusSimServer(engine, modbus_port))
    if not pubs and not plant_servers:
        raise ValueError("nowhere to publish: give a target URL, an MQTT URL, an OPC UA URL, a Modbus port or servers")
    await _start_servers(plant_servers)
    stats = RealtimeStats()
    engine.announce()  # every machine's status at the start, for the receiver's KPIs
    stop = stop or asyncio.Event()
    tasks = [asyncio.create_task(p.run(), name="sim-publisher") for p in pubs]
    if mqtt:
        tasks.append(asyncio.create_task(listen_for_commands(engine, mqtt, stats, topic_prefix), name="sim-cmd"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    owed = 0.0  # simulated seconds due but not yet stepped (speed x tick need not be a whole number)
    try:
        next_tick = loop.time()
        while not stop.is_set():
            if duration_s is not None and loop.time() - began >= duration_s:
                break
            owed += speed * tick_s
            steps = int(owed)
            if steps >= 1:
                owed -= steps
                frame = engine.step(1.0, steps)
                if pubs:
                    readings, events = frame_messages(engine, frame, datetime.now(UTC))
                    for p in pubs:
                        p.submit(readings, events)
                for server in plant_servers:
                    await server.update(frame)
                stats.simulated_s += steps
                stats.readings += len(engine.machine_ids)
                stats.events += len(frame.events)
            stats.ticks += 1
            next_tick += tick_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, next_tick - loop.time()))
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*(p.drain(3.0) for p in pubs)), timeout=5.0)
        stats.unsent = sum(p.pending() for p in pubs)
        if stats.unsent:
            log.warning("stopping with %d readings/events unsent: the receiver did not take them in time", stats.unsent)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _stop_servers(plant_servers)
        for server in plant_servers:
            stats.commands += server.commands
            stats.commands_refused += server.refused
    return stats


async def _start_servers(servers: list[PlantServer]) -> None:
    """Start every server, or none: when one cannot listen, those already started are stopped again."""
    started: list[PlantServer] = []
    try:
        for server in servers:
            await server.start()
            started.append(server)
    except BaseException:
        await _stop_servers(started)
        raise


async def _stop_servers(servers: list[PlantServer]) -> None:
    for server in reversed(servers):
        try:
            await server.stop()
        except Exception:  # one server that fails to close must not keep the others open
            log.exception("stopping %s failed", type(server).__name__)
