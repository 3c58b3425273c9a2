"""The stream hub: snapshot first, coalescing per machine, subscriptions, slow clients dropped."""

from __future__ import annotations

import json
from typing import Any

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState
from factorytwin.twin.messages import SnapshotMessage
from factorytwin.twin.stream import DROPPED, StreamClient, StreamHub
from tests.unit.twin.helpers import T0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def empty_snapshot(_: set[str] | None) -> SnapshotMessage:
    return SnapshotMessage(machines=[], alarms=[])


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
