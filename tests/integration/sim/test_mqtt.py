"""The MQTT publisher and the command channel against the real Mosquitto (127.0.0.1:1883).

Each test uses its own topic prefix and client ids, so that it neither sees nor disturbs other tests' traffic.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiomqtt
import pytest

from factorytwin.domain import TelemetryBatch
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.sim.publish import MqttPublisher
from factorytwin.sim.realtime import run_realtime
from factorytwin.sim.state import STOPPED

pytestmark = pytest.mark.integration
BROKER = "mqtt://127.0.0.1:1883"


def _prefix() -> str:
    return f"fttest-{uuid.uuid4().hex[:10]}"


async def _collect(prefix: str, topic: str, into: list[tuple[str, dict[str, Any]]], ready: asyncio.Event) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{prefix}-sub") as client:
        await client.subscribe(f"{prefix}/{topic}", qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes | bytearray)
            into.append((str(message.topic.value), json.loads(message.payload)))


async def test_publisher_sends_one_telemetry_batch_per_machine_with_qos1() -> None:
    prefix = _prefix()
    got: list[tuple[str, dict[str, Any]]] = []
    ready = asyncio.Event()
    sub = asyncio.create_task(_collect(prefix, "+/telemetry", got, ready))
    await asyncio.wait_for(ready.wait(), 10)
    publisher = MqttPublisher(BROKER, client_id=f"{prefix}-pub", topic_prefix=prefix)
    run = asyncio.create_task(publisher.run())
    readings = [
        {"machine_id": m, "ts": f"2025-01-01T00:00:0{i}Z", "values": {"air_temp": 300.0 + i}}
        for i in range(3)
        for m in ("mill-01", "pump-01")
    ]
    event = {"machine_id": "pump-01", "ts": "2025-01-01T00:00:00Z", "kind": "fault", "data": {"mode": "cavitation"}}
    publisher.submit(readings, [event])
    assert await publisher.drain(10)
    for _ in range(100):
        if len(got) >= 2:
            break
        await asyncio.sleep(0.05)
    run.cancel()
    sub.cancel()
    await asyncio.gather(run, sub, return_exceptions=True)
    by_topic = {topic: TelemetryBatch.model_validate(body) for topic, body in got}
    assert set(by_topic) == {f"{prefix}/mill-01/telemetry", f"{prefix}/pump-01/telemetry"}
    assert len(by_topic[f"{prefix}/mill-01/telemetry"].readings) == 3
    pump = by_topic[f"{prefix}/pump-01/telemetry"]
    assert len(pump.readings) == 3
    assert pump.events[0].data == {"mode": "cavitation"}


async def test_stop_command_over_mqtt_stops_the_machine_and_is_answered() -> None:
    prefix = _prefix()
    got: list[tuple[str, dict[str, Any]]] = []
    ready = asyncio.Event()
    sub = asyncio.create_task(_collect(prefix, "mill-01/telemetry", got, ready))
    await asyncio.wait_for(ready.wait(), 10)
    engine = Engine(load_layout(), seed=4)
    stop = asyncio.Event()
    sim = asyncio.create_task(
        run_realtime(
            load_layout(), mqtt_url=BROKER, speed=30.0, tick_s=0.2, engine=engine, stop=stop, topic_prefix=prefix
        )
    )
    try:
        for _ in range(100):  # until the simulator publishes, i.e. it is connected
            if got:
                break
            await asyncio.sleep(0.1)
        command = {"id": "cmd-1", "machine_id": "mill-01", "ts": "2025-01-01T00:00:00Z", "command": "stop"}
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{prefix}-cmd") as client:
            await client.publish(f"{prefix}/mill-01/commands", json.dumps(command), qos=1)

        def answered() -> dict[str, Any] | None:
            for _, body in got:
                for e in body["events"]:
                    if e["kind"] == "command" and e["data"].get("command_id") == "cmd-1":
                        return dict(e)
            return None

        for _ in range(100):
            if answered():
                break
            await asyncio.sleep(0.1)
        answer = answered()
        assert answer is not None, "no command event came back"
        assert answer["data"]["accepted"] is True
        assert engine.status[engine.index["mill-01"]] == STOPPED
        await asyncio.sleep(0.5)
        last = got[-1][1]["readings"][-1]["values"]
        assert last["spindle_speed"] == 0.0
        assert last["torque"] == 0.0
    finally:
        stop.set()
        await asyncio.wait_for(sim, 20)
        sub.cancel()
        await asyncio.gather(sub, return_exceptions=True)


async def test_publisher_keeps_what_no_subscription_matched_and_sends_it_once_someone_listens() -> None:
    prefix = _prefix()
    publisher = MqttPublisher(
        BROKER, client_id=f"{prefix}-pub", topic_prefix=prefix, backoff_initial_s=0.05, backoff_max_s=0.2
    )
    run = asyncio.create_task(publisher.run())
    got: list[tuple[str, dict[str, Any]]] = []
    sub: asyncio.Task[None] | None = None
    try:
        publisher.submit([{"machine_id": "mill-01", "ts": "2025-01-01T00:00:00Z", "values": {"air_temp": 300.0}}], [])
        for _ in range(200):  # until the broker has answered "no matching subscribers" at least once
            if publisher.stats.unmatched:
                break
            await asyncio.sleep(0.05)
        assert publisher.stats.unmatched >= 1
        assert publisher.pending() == 1  # kept, not dropped
        ready = asyncio.Event()
        sub = asyncio.create_task(_collect(prefix, "+/telemetry", got, ready))
        await asyncio.wait_for(ready.wait(), 10)
        assert await publisher.drain(10)
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        assert [topic for topic, _ in got] == [f"{prefix}/mill-01/telemetry"]
        assert publisher.stats.sent_readings == 1
    finally:
        run.cancel()
        if sub is not None:
            sub.cancel()
        await asyncio.gather(run, *([sub] if sub else []), return_exceptions=True)
