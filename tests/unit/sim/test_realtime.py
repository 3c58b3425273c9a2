"""The real-time driver: paced ticks, wall-clock stamps, publishing through any publisher, a clean stop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from factorytwin.domain import Event, MachineKind, ReadingSet
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.sim.realtime import RealtimeStats, handle_command_message, run_realtime
from factorytwin.sim.state import Frame
from tests.waiting import DEADLINE_S

from .helpers import engine_for


class Collector:
    """A publisher that keeps what it is given and lets a test await the ``n``-th submission."""

    def __init__(self, n: int = 1) -> None:
        self.readings: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.submissions = 0
        self.n = n
        self.reached = asyncio.Event()

    def submit(self, readings: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        self.readings.extend(readings)
        self.events.extend(events)
        self.submissions += 1
        if self.submissions >= self.n:
            self.reached.set()

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def drain(self, timeout_s: float) -> bool:
        return True

    def pending(self) -> int:
        return 0


async def test_realtime_publishes_every_machine_each_tick_and_stops_cleanly() -> None:
    collector = Collector(n=5)
    stop = asyncio.Event()
    before = datetime.now(UTC)
    task = asyncio.create_task(
        run_realtime(load_layout(), speed=3000.0, tick_s=0.02, demo_faults=True, stop=stop, publishers=[collector])
    )
    await asyncio.wait_for(collector.reached.wait(), DEADLINE_S)  # five ticks of 60 simulated seconds each
    stop.set()
    stats = await asyncio.wait_for(task, DEADLINE_S)
    assert stats.ticks >= 5
    assert stats.simulated_s >= 5 * 60
    assert stats.readings == len(collector.readings)
    machines = {r["machine_id"] for r in collector.readings}
    assert len(machines) == 16
    for raw in collector.readings[:20]:
        reading = ReadingSet.model_validate(raw)
        assert before <= reading.ts <= datetime.now(UTC)
    for raw in collector.events:
        Event.model_validate(raw)


async def test_realtime_can_be_cancelled() -> None:
    collector = Collector(n=2)
    task = asyncio.create_task(run_realtime(load_layout(), speed=60.0, tick_s=0.05, publishers=[collector]))
    await asyncio.wait_for(collector.reached.wait(), DEADLINE_S)  # running, between two ticks
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=DEADLINE_S)
    assert task in done


def test_demo_faults_fail_within_a_few_simulated_hours_after_alarms() -> None:
    engine = Engine(load_layout(), seed=0, demo_faults=True)
    failed: dict[str, float] = {}
    for _ in range(5 * 60):  # five hours in one-minute ticks, as the demo at 60x would step them
        for e in engine.step(1.0, 60).events:
            if e.event == "failure":
                failed.setdefault(e.machine_id, e.t)
    expected = {"mill-01", "press-01", "pump-01", "compressor-01", "robot-a", "conveyor-a"}
    assert expected <= set(failed), f"only {sorted(failed)} failed"


def test_command_message_with_a_mismatched_topic_is_refused_and_answered() -> None:
    engine = engine_for(MachineKind.PUMP)
    stats = RealtimeStats()
    payload = b'{"id":"7","machine_id":"other","ts":"2025-01-01T00:00:00Z","command":"stop"}'
    handle_command_message(engine, "ft/m1/commands", payload, stats)
    assert stats.commands_refused == 1
    event = engine.step(1.0).events[0]
    assert event.event == "command"
    assert event.data["accepted"] is False
    assert "topic" in event.message


def test_valid_command_message_is_applied() -> None:
    engine = engine_for(MachineKind.PUMP)
    stats = RealtimeStats()
    payload = b'{"id":"8","machine_id":"m1","ts":"2025-01-01T00:00:00Z","command":"set_speed","speed_pct":50}'
    handle_command_message(engine, "ft/m1/commands", payload, stats)
    assert stats.commands_refused == 0
    assert engine.speed_pct[0] == 50.0


class FakeServer:
    """A plant server that records its life and lets a test await the ``n``-th update."""

    def __init__(self, log: list[str], name: str, n: int = 1, fail_start: bool = False) -> None:
        self.log = log
        self.name = name
        self.n = n
        self.fail_start = fail_start
        self.updates = 0
        self.machines_seen = 0
        self.reached = asyncio.Event()
        self.commands = 2
        self.refused = 1

    async def start(self) -> None:
        if self.fail_start:
            raise OSError(f"{self.name}: address already in use")
        self.log.append(f"start {self.name}")

    async def update(self, frame: Frame) -> None:
        self.updates += 1
        self.machines_seen = frame.columns.machines
        if self.updates >= self.n:
            self.reached.set()

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


async def test_servers_alone_are_enough_and_get_every_tick_then_are_stopped() -> None:
    log: list[str] = []
    server = FakeServer(log, "opcua", n=3)
    stop = asyncio.Event()
    task = asyncio.create_task(run_realtime(load_layout(), speed=3000.0, tick_s=0.02, stop=stop, servers=[server]))
    await asyncio.wait_for(server.reached.wait(), DEADLINE_S)
    stop.set()
    stats = await asyncio.wait_for(task, DEADLINE_S)
    assert server.machines_seen == 16
    assert stats.readings == 16 * server.updates
    assert (stats.commands, stats.commands_refused) == (2, 1)
    assert log == ["start opcua", "stop opcua"]


async def test_a_server_that_cannot_listen_ends_the_run_and_stops_those_started() -> None:
    log: list[str] = []
    good, bad = FakeServer(log, "opcua"), FakeServer(log, "modbus", fail_start=True)
    with pytest.raises(OSError, match="modbus: address already in use"):
        await run_realtime(load_layout(), speed=60.0, servers=[good, bad])
    assert log == ["start opcua", "stop opcua"]
    assert good.updates == 0


async def test_nowhere_to_publish_is_an_error() -> None:
    with pytest.raises(ValueError, match="nowhere to publish"):
        await run_realtime(load_layout(), speed=60.0)
