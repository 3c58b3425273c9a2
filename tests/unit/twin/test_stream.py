"""The stream hub: snapshot first, coalescing per machine, subscriptions, slow clients dropped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, MachineStatus
from factorytwin.twin.messages import (
    BATCH_MAX_MESSAGES,
    BATCHED_SERVER_MESSAGES,
    BatchMessage,
    ErrorMessage,
    MachineState,
    ReadingMessage,
    SnapshotMessage,
)
from factorytwin.twin.stream import (
    BATCH_MAX_BYTES,
    DROPPED,
    SNAPSHOT_PART_MACHINES,
    StreamClient,
    StreamHub,
    TooManySubscriptions,
)
from tests.unit.twin.helpers import T0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class EmptyPlant:
    """A snapshot source without machines: every snapshot is one empty part."""

    def snapshot_ids(self, machines: set[str] | None) -> list[str]:
        return []

    def snapshot_part(self, machine_ids: Sequence[str], part: int, last: bool) -> SnapshotMessage:
        return SnapshotMessage(machines=[], alarms=[], part=part, last=last)


empty_snapshot = EmptyPlant()


def drain(client: StreamClient) -> list[dict[str, Any]]:
    out = []
    while not client.queue.empty():
        text = client.queue.get_nowait()
        assert text is not None
        out.append(json.loads(text))
    return out


def hub_with_clock(queue_size: int = 100) -> tuple[StreamHub, FakeClock]:
    clock = FakeClock()
    return StreamHub(0.25, empty_snapshot, queue_size=queue_size, clock=clock), clock


def test_client_gets_a_snapshot_first() -> None:
    hub, _ = hub_with_clock()
    client = hub.connect()
    assert [m["type"] for m in drain(client)] == ["snapshot"]


def test_first_update_goes_out_at_once_then_updates_are_coalesced_per_interval() -> None:
    hub, clock = hub_with_clock()
    client = hub.connect()
    drain(client)
    hub.reading("mill-01", T0, {"torque": 1.0})
    assert [m["values"] for m in drain(client)] == [{"torque": 1.0}]
    clock.now = 0.1
    hub.reading("mill-01", T0, {"torque": 2.0})
    hub.reading("mill-01", T0, {"power": 5.0})
    hub.reading("mill-02", T0, {"torque": 9.0})  # another machine is not held back
    assert [m["machine_id"] for m in drain(client)] == ["mill-02"]
    assert hub.flush_due() is not None
    assert drain(client) == []
    clock.now = 0.25
    hub.flush_due()
    (merged,) = drain(client)
    assert merged["values"] == {"torque": 2.0, "power": 5.0}


def test_client_receives_only_its_machines() -> None:
    hub, _ = hub_with_clock()
    client = hub.connect(["mill-02"])
    drain(client)
    hub.reading("mill-01", T0, {"torque": 1.0})
    hub.reading("mill-02", T0, {"torque": 2.0})
    assert [m["machine_id"] for m in drain(client)] == ["mill-02"]
    hub.resubscribe(client, None)
    assert [m["type"] for m in drain(client)] == ["snapshot"]


def test_alarms_are_sent_immediately() -> None:
    hub, _ = hub_with_clock()
    client = hub.connect()
    drain(client)
    alarm = Alarm(
        id=1,
        machine_id="mill-01",
        type="offline",
        severity=AlarmSeverity.MAJOR,
        state=AlarmState.ACTIVE_UNACK,
        message="x",
        raised_at=T0,
        updated_at=T0,
    )
    hub.alarm(alarm)
    hub.alarm(alarm)
    assert [m["type"] for m in drain(client)] == ["alarm", "alarm"]


def test_slow_client_is_dropped_without_affecting_the_others() -> None:
    hub, clock = hub_with_clock(queue_size=3)
    slow = hub.connect()
    fast = hub.connect()
    for i in range(10):
        clock.now = i * 1.0
        hub.reading("mill-01", T0, {"torque": float(i)})
        drain(fast)
    assert slow.dropped
    assert slow not in hub.clients
    assert slow.queue.get_nowait() is DROPPED
    assert hub.dropped_clients == 1
    hub.reading("mill-01", T0, {"torque": 99.0})
    assert fast in hub.clients


def big_event(size: int) -> Event:
    # Built without validation: events that ingest accepts are small (2,000 characters), but the hub must hold its
    # bound whatever it is handed (a snapshot of many alarms, a large prediction).
    return Event.model_construct(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, message="x" * size, data={})


async def test_a_client_is_dropped_by_pending_bytes_not_by_message_count() -> None:
    hub = StreamHub(0.25, empty_snapshot, queue_size=1000, max_bytes=1_000_000)
    stalled = hub.connect()
    reader = hub.connect()
    assert await stalled.get() is not None  # its snapshot was taken by the sender, which then got stuck
    await reader.get()
    for _ in range(3):  # 3 x 400 kB: the third would take the stalled client past 1 MB
        hub.event(big_event(400_000))
        assert await reader.get() is not None
    assert stalled.dropped
    assert stalled not in hub.clients
    assert stalled.pending_bytes == 0  # its texts are released at once, not when the socket finally closes
    assert stalled.queue.qsize() == 1
    assert stalled.queue.get_nowait() is DROPPED
    assert reader in hub.clients
    assert reader.pending_bytes == 0
    assert hub.dropped_clients == 1


async def test_one_message_larger_than_the_cap_still_reaches_a_client_that_keeps_up() -> None:
    hub = StreamHub(0.25, empty_snapshot, max_bytes=100_000)
    client = hub.connect()
    await client.get()
    hub.event(big_event(300_000))
    text = await client.get()
    assert text is not None
    assert len(text) > 300_000
    assert not client.dropped


def test_pending_bytes_count_utf8_bytes() -> None:
    client = StreamClient(None, queue_size=10, max_bytes=1_000)
    assert client.offer("é" * 100)
    assert client.pending_bytes == 200


def test_subscriptions_are_capped() -> None:
    hub = StreamHub(0.25, empty_snapshot, max_subscriptions=3)
    with pytest.raises(TooManySubscriptions, match="at most 3 machines"):
        hub.connect([f"m{i}" for i in range(4)])
    assert not hub.clients
    client = hub.connect(["a", "b", "a", "c"])  # duplicates count once
    assert client.machines == {"a", "b", "c"}
    with pytest.raises(TooManySubscriptions):
        hub.resubscribe(client, [f"m{i}" for i in range(500)])
    assert client.machines == {"a", "b", "c"}


class Plant:
    """A snapshot source of ``n`` machines; it records which parts it was asked for."""

    def __init__(self, n: int) -> None:
        self.ids = [f"m-{i:05d}" for i in range(n)]
        self.asked: list[tuple[int, int, bool]] = []

    def snapshot_ids(self, machines: set[str] | None) -> list[str]:
        return self.ids if machines is None else [m for m in self.ids if m in machines]

    def snapshot_part(self, machine_ids: Sequence[str], part: int, last: bool) -> SnapshotMessage:
        self.asked.append((len(machine_ids), part, last))
        return SnapshotMessage.model_construct(machines=[], alarms=[], part=part, last=last)


async def test_a_large_snapshot_streams_in_parts_built_as_they_are_sent() -> None:
    plant = Plant(SNAPSHOT_PART_MACHINES * 2 + 10)
    hub = StreamHub(0.25, plant)
    client = hub.connect()
    assert client.queue.qsize() == 1  # only the first part is built at connect
    assert plant.asked == [(SNAPSHOT_PART_MACHINES, 0, False)]
    hub.reading("m-00001", T0, {"torque": 1.0})  # queued behind the first part
    texts = [json.loads(str(await client.get())) for _ in range(4)]
    assert [(t["type"], t.get("part"), t.get("last")) for t in texts] == [
        ("snapshot", 0, False),
        ("snapshot", 1, False),
        ("snapshot", 2, True),
        ("reading", None, None),
    ]
    assert plant.asked[1:] == [(SNAPSHOT_PART_MACHINES, 1, False), (10, 2, True)]
    assert client.pending_bytes == 0
    assert client.snapshot is None


async def test_resubscribing_mid_snapshot_starts_the_new_one() -> None:
    plant = Plant(SNAPSHOT_PART_MACHINES * 3)
    hub = StreamHub(0.25, plant)
    client = hub.connect()
    assert json.loads(str(await client.get()))["part"] == 0
    hub.resubscribe(client, ["m-00002", "m-00003"])
    texts = [json.loads(str(await client.get())) for _ in range(1)]
    assert [(t["part"], t["last"]) for t in texts] == [(0, True)]
    assert client.snapshot is None
    assert client.queue.empty()


def test_a_small_snapshot_is_one_message_part_0_and_last() -> None:
    hub = StreamHub(0.25, Plant(3))
    (snapshot,) = drain(hub.connect())
    assert (snapshot["part"], snapshot["last"]) == (0, True)


def test_an_update_nobody_watches_builds_nothing() -> None:
    hub, _ = hub_with_clock()
    watcher = hub.connect(["mill-02"])
    drain(watcher)
    sent = hub.sent_messages
    assert not hub.watched("mill-01")
    hub.reading("mill-01", T0, {"torque": 1.0})
    assert hub.flush_due() is None  # nothing pending for it either
    assert hub.sent_messages == sent
    assert drain(watcher) == []
    hub.disconnect(watcher)
    assert not hub.watched("mill-02")


def test_new_values_and_the_state_they_caused_go_out_together() -> None:
    hub, _ = hub_with_clock()
    client = hub.connect()
    drain(client)
    state = MachineState(
        machine_id="mill-01",
        profile="cnc_mill",
        status=MachineStatus.RUNNING,
        health=90.0,
        last_seen=T0,
        values={"torque": 1.0},
        values_ts=T0,
    )
    hub.update("mill-01", T0, {"torque": 1.0}, state)
    assert [m["type"] for m in drain(client)] == ["reading", "state"]  # at once, not the state an interval later
    assert hub.flush_due() is None


def test_queue_room_grows_with_the_machines_a_client_watches() -> None:
    hub, clock = hub_with_clock(queue_size=10)
    hub.set_plant_size(1000)
    everything = hub.connect()
    two = hub.connect(["m-00000", "m-00001"])
    assert everything.max_messages == 10 + 2 * 1000
    assert two.max_messages == 10 + 2 * 2
    # a plant of 1,000 machines comes online in one batch: a reading and a state each
    for i in range(1000):
        hub.reading(f"m-{i:05d}", T0, {"torque": 1.0})
    assert not everything.dropped
    for i in range(20):  # the client of two machines that never reads is dropped as before
        clock.now = float(i)
        hub.reading("m-00000", T0, {"torque": float(i)})
    assert two.dropped
    assert everything in hub.clients


async def test_a_batching_client_gets_what_is_waiting_in_one_batch_message_in_order() -> None:
    hub = StreamHub(0.25, Plant(3))
    client = hub.connect(batch=True)
    for m in ("m-00000", "m-00001", "m-00002"):
        hub.reading(m, T0, {"torque": 1.0})
    first = BATCHED_SERVER_MESSAGES.validate_json(str(await client.get()))
    assert isinstance(first, SnapshotMessage)  # the snapshot's start goes on its own, never inside a batch
    batch = BATCHED_SERVER_MESSAGES.validate_json(str(await client.get()))
    assert isinstance(batch, BatchMessage)
    assert [(type(m), getattr(m, "machine_id", None)) for m in batch.messages] == [
        (ReadingMessage, "m-00000"),
        (ReadingMessage, "m-00001"),
        (ReadingMessage, "m-00002"),
    ]
    assert client.queue.empty()
    assert client.pending_bytes == 0


async def test_a_batching_client_that_keeps_up_gets_single_messages() -> None:
    hub = StreamHub(0.25, Plant(2))
    client = hub.connect(batch=True)
    await client.get()
    hub.reading("m-00000", T0, {"torque": 1.0})
    assert json.loads(str(await client.get()))["type"] == "reading"


async def test_a_client_that_did_not_ask_for_batches_gets_one_message_per_text() -> None:
    hub = StreamHub(0.25, Plant(2))
    client = hub.connect()
    await client.get()
    hub.reading("m-00000", T0, {"torque": 1.0})
    hub.reading("m-00001", T0, {"torque": 1.0})
    assert [json.loads(str(await client.get()))["type"] for _ in range(2)] == ["reading", "reading"]


async def test_a_batch_holds_at_most_its_cap_and_the_rest_follows() -> None:
    hub = StreamHub(0.25, Plant(1), queue_size=BATCH_MAX_MESSAGES * 2)
    client = hub.connect(batch=True)
    await client.get()
    for i in range(BATCH_MAX_MESSAGES + 5):
        hub.offer(client, ErrorMessage(detail=str(i)).model_dump_json())
    batch = BATCHED_SERVER_MESSAGES.validate_json(str(await client.get()))
    rest = BATCHED_SERVER_MESSAGES.validate_json(str(await client.get()))
    assert isinstance(batch, BatchMessage)
    assert isinstance(rest, BatchMessage)
    details = [m.detail for m in [*batch.messages, *rest.messages] if isinstance(m, ErrorMessage)]
    assert (len(batch.messages), details) == (BATCH_MAX_MESSAGES, [str(i) for i in range(BATCH_MAX_MESSAGES + 5)])


async def test_a_batch_stops_near_its_byte_cap() -> None:
    hub = StreamHub(0.25, Plant(1))
    client = hub.connect(batch=True)
    await client.get()
    big = ErrorMessage(detail="x" * (BATCH_MAX_BYTES // 2)).model_dump_json()
    for _ in range(4):
        hub.offer(client, big)
    batch = BATCHED_SERVER_MESSAGES.validate_json(str(await client.get()))
    assert isinstance(batch, BatchMessage)
    assert len(batch.messages) == 2  # each a little over half the cap: past it after the second
    assert client.queue.qsize() == 2
