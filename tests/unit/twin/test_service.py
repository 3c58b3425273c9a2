"""The twin service over a shared bus: what one process ingests, another shows; alarm rules run once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from factorytwin.config import Settings
from factorytwin.domain import AlarmState, Command, CommandKind, Machine, MachineStatus, TelemetryBatch
from factorytwin.prediction import Prediction
from factorytwin.store.base import AlarmQuery
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin.bus import BusEvent, BusHandler, InProcessBus, new_origin
from factorytwin.twin.messages import MachineState
from factorytwin.twin.service import TwinService
from tests.unit.twin.helpers import IMMEDIATE, batch, machine, reading


class LoopbackBus:
    """A distributed bus in miniature: every process's handlers get every event, their own included."""

    distributed = True

    def __init__(self, network: list[LoopbackBus]) -> None:
        self.origin = new_origin()
        self.network = network
        self.handlers: list[BusHandler] = []
        network.append(self)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe(self, handler: BusHandler) -> None:
        self.handlers.append(handler)

    async def publish(self, event: BusEvent) -> None:
        for bus in self.network:
            for handler in bus.handlers:
                await handler(BusEvent.decode(event.encode()))  # through the wire format, as over MQTT


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[TwinService, TwinService]]:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    await store.register_machines([machine()])
    settings = Settings(database_url="sqlite:///unused.db", stream_interval_s=0.01, **IMMEDIATE)
    network: list[LoopbackBus] = []
    a = TwinService(settings, store, LoopbackBus(network))
    b = TwinService(settings, store, LoopbackBus(network))
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()
        await store.close()


def live(service: TwinService, machine_id: str = "mill-01") -> MachineState:
    """The live state of a machine the service must know."""
    state = service.machine_state(machine_id)
    assert state is not None
    return state


async def settle(*services: TwinService) -> None:
    """Wait until each service's alarm writes and bus events are done, in order: what the first publishes the
    second applies inside the first's publish call, so one pass in ingest order is enough."""
    for service in services:
        await service.idle()


async def test_a_batch_ingested_by_one_process_shows_in_the_other(pair: tuple[TwinService, TwinService]) -> None:
    a, b = pair
    await a.on_ingested(batch(reading(0, torque=44.0)), new_readings=8)
    await settle(a)
    state = live(b)
    assert state.values["torque"] == 44.0
    assert state.status is MachineStatus.RUNNING


async def test_an_alarm_is_raised_by_the_ingesting_process_only_and_known_to_both(
    pair: tuple[TwinService, TwinService],
) -> None:
    a, b = pair
    await a.on_ingested(batch(reading(0, process_temp=320.0)), new_readings=8)
    await settle(a)
    stored = await a.store.alarms(AlarmQuery())
    assert [x.type for x in stored] == ["high:process_temp"]
    (in_b,) = b.alarms.alarms()
    assert in_b.id == stored[0].id
    assert live(b).health < 100
    assert in_b.id is not None
    acked = await b.acknowledge(in_b.id, "alice")
    assert acked.state is AlarmState.ACTIVE_ACK
    await settle(b)
    assert a.alarms.alarms()[0].state is AlarmState.ACTIVE_ACK


async def test_resent_batch_changes_nothing(pair: tuple[TwinService, TwinService]) -> None:
    a, _ = pair
    await a.on_ingested(batch(reading(0, torque=44.0)), new_readings=8)
    await a.on_ingested(batch(reading(0, torque=45.0)), new_readings=0)
    assert live(a).values["torque"] == 44.0


async def test_prediction_lowers_health_everywhere(pair: tuple[TwinService, TwinService]) -> None:
    a, b = pair
    await a.on_ingested(batch(reading(0)), new_readings=8)
    await a.publish_prediction(Prediction(machine_id="mill-01", probability=0.5))
    await settle(a)
    assert live(a).health == 85.0
    assert live(b).health == 85.0


async def test_command_event_reaches_the_other_process_stream(pair: tuple[TwinService, TwinService]) -> None:
    a, b = pair
    client = b.hub.connect()
    result = await a.send_command("mill-01", Command(command=CommandKind.STOP))
    assert result.delivered is False  # no MQTT, no in-process sink
    await settle(a)
    texts: list[str | None] = []
    while not client.queue.empty():
        texts.append(client.queue.get_nowait())
    assert any(t is not None and '"type":"event"' in t and '"kind":"command"' in t for t in texts)


async def test_two_processes_that_miss_each_others_news_still_store_one_alarm(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    await store.register_machines([machine()])
    settings = Settings(database_url="sqlite:///unused.db", **IMMEDIATE)
    a, b = TwinService(settings, store, InProcessBus()), TwinService(settings, store, InProcessBus())
    await a.start()
    await b.start()
    try:
        await a.on_ingested(batch(reading(0, process_temp=320.0)), new_readings=8)
        await settle(a)
        await b.on_ingested(batch(reading(1, process_temp=324.0)), new_readings=8)
        await settle(b)
        stored = await store.alarms(AlarmQuery())
        assert len(stored) == 1
        assert stored[0].severity.value == "critical"  # b's escalation updated a's row
    finally:
        await a.stop()
        await b.stop()
        await store.close()


async def test_start_takes_the_machines_it_is_given_without_reading_them_again(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    await store.register_machines([machine()])
    reads = 0
    stored_machines = store.machines

    async def counted() -> list[Machine]:
        nonlocal reads
        reads += 1
        return await stored_machines()

    store.machines = counted  # type: ignore[method-assign]
    service = TwinService(Settings(database_url="sqlite:///unused.db"), store, InProcessBus())
    await service.start([machine(), machine("mill-02")])
    try:
        assert reads == 0
        assert set(service.state.machines) == {"mill-01", "mill-02"}
    finally:
        await service.stop()
        await store.close()


class GatedBus:
    """A distributed bus that keeps what is published and holds its first publish until ``gate`` is set."""

    distributed = True

    def __init__(self) -> None:
        self.origin = new_origin()
        self.published: list[BusEvent] = []
        self.publishing = asyncio.Event()
        self.gate = asyncio.Event()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe(self, handler: BusHandler) -> None:
        pass

    async def publish(self, event: BusEvent) -> None:
        self.published.append(event)
        self.publishing.set()
        await self.gate.wait()


async def test_the_telemetry_waiting_for_the_bus_goes_as_one_message_in_order(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    await store.register_machines([machine()])
    bus = GatedBus()
    twin = TwinService(Settings(database_url="sqlite:///unused.db", **IMMEDIATE), store, bus)
    await twin.start()
    try:
        await twin.on_ingested(batch(reading(0, torque=41.0)), new_readings=8)
        await bus.publishing.wait()  # the sender holds the first batch: the next ones wait in the outbox
        for second in (1, 2):
            await twin.on_ingested(batch(reading(second, torque=41.0 + second)), new_readings=8)
        await twin.publish_prediction(Prediction(machine_id="mill-01", probability=0.5))
        await twin.on_ingested(batch(reading(3, torque=44.0)), new_readings=8)
        bus.gate.set()
        await twin.idle()
    finally:
        await twin.stop()
        await store.close()
    sent = [
        (e.type, [rs.values["torque"] for rs in e.payload.readings] if isinstance(e.payload, TelemetryBatch) else [])
        for e in bus.published
    ]
    # The two batches behind the first went as one, with the latest values only; the prediction kept its place.
    assert sent == [("telemetry", [41.0]), ("telemetry", [43.0]), ("prediction", []), ("telemetry", [44.0])]
