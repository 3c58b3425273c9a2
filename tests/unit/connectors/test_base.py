"""The connector runtime: back-off (capped, reset once connected), status, delivery through ingest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta

import pytest

from factorytwin.config import Settings
from factorytwin.connectors.base import ConnectorState, describe, to_batch
from factorytwin.domain import Event, TelemetryBatch
from factorytwin.errors import Overloaded
from factorytwin.ingest import IngestResult, IngestService
from factorytwin.store import Store
from factorytwin.store.base import ReadingColumns
from tests.unit.connectors.fakes import T0, FakeClock, FakeSleep, Scripted, value


async def within(aw: Awaitable[object], timeout_s: float = 10.0) -> None:
    await asyncio.wait_for(aw, timeout_s)


async def test_backoff_doubles_to_its_cap_and_restarts_once_connected(ingest: IngestService) -> None:
    sleep = FakeSleep()
    conn = Scripted(ingest, failures=6, sleep=sleep, clock=FakeClock())
    await conn.start()
    await within(conn.wait_for(ConnectorState.CONNECTED))
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert conn.status().reconnects == 6
    conn.lose.set()
    await within(conn.wait_for(ConnectorState.RECONNECTING))
    await within(conn.wait_for(ConnectorState.CONNECTED))
    assert sleep.delays[6:] == [0.5]
    await conn.stop()
    assert conn.state is ConnectorState.STOPPED


async def test_a_lost_connection_is_reconnecting_with_its_error(ingest: IngestService) -> None:
    clock = FakeClock()
    sleep_started = asyncio.Event()
    release = asyncio.Event()

    async def sleep(_: float) -> None:
        sleep_started.set()
        await release.wait()

    conn = Scripted(ingest, failures=0, sleep=sleep, clock=clock)
    await conn.start()
    await within(conn.wait_for(ConnectorState.CONNECTED))
    assert conn.status().connected_since == T0
    clock.now = T0 + timedelta(seconds=3)
    conn.lose.set()
    await within(sleep_started.wait())
    status = conn.status()
    assert status.state is ConnectorState.RECONNECTING
    assert status.last_error == "ConnectionLost: the device went away"
    assert status.last_error_at == T0 + timedelta(seconds=3)
    assert status.connected_since is None
    assert status.reconnects == 1
    release.set()
    await within(conn.wait_for(ConnectorState.CONNECTED))
    await conn.stop()


async def test_the_first_attempt_is_connecting(ingest: IngestService) -> None:
    gate = asyncio.Event()

    class Slow(Scripted):
        async def session(self) -> None:
            await gate.wait()
            await super().session()

    conn = Slow(ingest, failures=0, sleep=FakeSleep())
    await conn.start()
    assert conn.status().state is ConnectorState.CONNECTING
    await conn.start()  # a second start is a no-op
    gate.set()
    await within(conn.wait_for(ConnectorState.CONNECTED))
    await conn.stop()
    await conn.stop()  # and so is a second stop
    assert conn.status().state is ConnectorState.STOPPED


async def test_emitted_values_are_stored_through_ingest(ingest: IngestService, store: Store) -> None:
    clock = FakeClock()
    conn = Scripted(ingest, failures=0, sleep=FakeSleep(), clock=clock)
    await conn.start()
    await within(conn.wait_for(ConnectorState.CONNECTED))
    clock.now = T0 + timedelta(seconds=1)
    conn.emit([value("flow_rate", 81.5), value("motor_speed", 2900.0)])
    await conn.stop()  # drains the queue into ingest
    latest = await store.latest("pump-01")
    assert latest["flow_rate"].value == 81.5
    assert latest["motor_speed"].value == 2900.0
    status = conn.status()
    assert (status.values_total, status.rejected_total, status.dropped_total) == (2, 0, 0)
    assert status.last_value_at == T0 + timedelta(seconds=1)
    assert ingest.counters.accepted_batches == 1  # one batch, not one per value


async def test_a_refused_value_is_left_out_and_the_others_stored(ingest: IngestService, store: Store) -> None:
    conn = Scripted(ingest, failures=0, sleep=FakeSleep())
    await conn.start()
    conn.emit(
        [
            value("flow_rate", 80.0),
            value("flow_rate", 9999.0, ts=T0 + timedelta(seconds=1)),  # outside the physical range
            value("spindle_speed", 10.0, ts=T0 + timedelta(seconds=2)),  # a pump has no spindle
            value("motor_speed", 2000.0, ts=T0 + timedelta(seconds=3)),
        ]
    )
    await conn.stop()
    status = conn.status()
    assert (status.values_total, status.rejected_total) == (2, 2)
    assert status.last_error is not None
    assert "pump-01/spindle_speed=10 from test/spindle_speed" in status.last_error
    latest = await store.latest("pump-01")
    assert latest["flow_rate"].value == 80.0
    assert latest["motor_speed"].value == 2000.0


async def test_values_past_the_queue_cap_are_dropped_and_counted(ingest: IngestService) -> None:
    conn = Scripted(ingest, failures=0, sleep=FakeSleep(), queue_values=3)
    conn.emit([value(ts=T0 + timedelta(seconds=i)) for i in range(5)])  # not started: nothing drains the queue
    assert conn.status().dropped_total == 2
    assert conn.status().queued == 3
    await conn.start()
    await conn.stop()
    assert conn.status().values_total == 3


async def test_an_ingest_outage_is_retried_until_it_is_over(settings: Settings, store: Store) -> None:
    service = IngestService(settings, store, [m for m in await store.machines()])  # not started yet: an outage
    sleep = FakeSleep()
    retried = asyncio.Event()

    async def counting_sleep(delay: float) -> None:
        await sleep(delay)
        if len(sleep.delays) >= 3:
            retried.set()
            await service.start()

    conn = Scripted(service, failures=0, sleep=counting_sleep)
    await conn.start()
    conn.emit([value()])
    await within(retried.wait())
    await conn.stop()
    await service.stop()
    assert sleep.delays[:3] == [0.2, 0.4, 0.8]
    assert conn.status().values_total == 1
    assert conn.status().last_error == "store: RuntimeError: ingest service is not started"


async def test_values_still_failing_at_stop_are_dropped(settings: Settings, store: Store) -> None:
    service = IngestService(settings, store, await store.machines())  # never started
    conn = Scripted(service, failures=0, sleep=FakeSleep())
    await conn.start()
    conn.emit([value(), value("motor_speed", 1500.0)])
    await conn.stop(drain_s=5.0)
    assert conn.status().dropped_total == 2
    assert conn.status().values_total == 0


async def test_unmapped_values_are_counted(ingest: IngestService, caplog: pytest.LogCaptureFixture) -> None:
    conn = Scripted(ingest, failures=0, sleep=FakeSleep())
    conn.unmapped("ns=2;i=9", "no mapping for this node")
    conn.unmapped("ns=2;i=9", "no mapping for this node", count=2)
    assert conn.status().unmapped_total == 3
    assert "unmapped value from ns=2;i=9: no mapping for this node" in caplog.text


def test_values_of_one_machine_and_instant_share_a_reading_set() -> None:
    batch = to_batch([value("flow_rate", 1.0), value("motor_speed", 2.0), value("flow_rate", 3.0, "pump-02")])
    assert [(r.machine_id, r.values) for r in batch.readings] == [
        ("pump-01", {"flow_rate": 1.0, "motor_speed": 2.0}),
        ("pump-02", {"flow_rate": 3.0}),
    ]


def test_describe_is_one_short_line() -> None:
    assert describe(ValueError("a\nb")) == "ValueError: a b"
    assert describe(TimeoutError()) == "TimeoutError"
    assert len(describe(ValueError("x" * 1000))) == 300


class Returning(Scripted):
    """A session that ends without an error (the server closed the link politely)."""

    async def session(self) -> None:
        self.sessions += 1
        if self.sessions == 1:
            return
        self.connected()
        await self.lose.wait()


async def test_a_session_that_simply_ends_is_a_lost_connection(ingest: IngestService) -> None:
    conn = Returning(ingest, failures=0, sleep=FakeSleep())
    await conn.start()
    assert conn.running
    await within(conn.wait_for(ConnectorState.CONNECTED))
    assert conn.status().last_error == "the connection was closed"
    assert conn.status().reconnects == 1
    await conn.stop()
    assert not conn.running


class OverloadedOnce(IngestService):
    """An ingest service whose writer queue is full on the first try."""

    calls = 0

    async def ingest(
        self, batch: TelemetryBatch, validated: tuple[ReadingColumns, list[Event]] | None = None
    ) -> IngestResult:
        self.calls += 1
        if self.calls == 1:
            raise Overloaded("full")
        return await super().ingest(batch, validated)


async def test_an_overloaded_ingest_is_waited_out(settings: Settings, store: Store) -> None:
    service = OverloadedOnce(settings, store, await store.machines())
    await service.start()
    sleep = FakeSleep()
    conn = Scripted(service, failures=0, sleep=sleep)
    await conn.start()
    conn.emit([value()])
    await conn.stop()
    await service.stop()
    assert service.calls == 2
    assert sleep.delays == [0.05]
    assert conn.status().values_total == 1
    assert conn.status().last_error is None  # being busy is not an error


class Hanging(IngestService):
    """An ingest service that never answers (a store stuck on a lock)."""

    async def ingest(
        self, batch: TelemetryBatch, validated: tuple[ReadingColumns, list[Event]] | None = None
    ) -> IngestResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_stop_gives_up_on_a_hanging_ingest_and_counts_what_it_drops(settings: Settings, store: Store) -> None:
    conn = Scripted(Hanging(settings, store, await store.machines()), failures=0, sleep=FakeSleep())
    await conn.start()
    conn.emit([value(ts=T0 + timedelta(seconds=i)) for i in range(3)])
    await asyncio.sleep(0)  # the forwarder takes the values and hangs in ingest
    await conn.stop(drain_s=0.01)
    assert conn.state is ConnectorState.STOPPED
    status = conn.status()
    assert (status.values_total, status.dropped_total, status.queued) == (0, 3, 0)


async def test_values_queued_behind_the_end_are_handed_on_in_order(ingest: IngestService, store: Store) -> None:
    conn = Scripted(ingest, failures=0, sleep=FakeSleep())
    conn.emit([value("flow_rate", float(i), ts=T0 + timedelta(seconds=i)) for i in range(5)])
    await conn.start()
    await conn.stop()
    assert conn.status().values_total == 5
    assert (await store.latest("pump-01"))["flow_rate"].value == 4.0
