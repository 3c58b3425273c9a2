"""The twin at plant scale: a snapshot in parts with each part's alarms, a plant coming online at once is no slow
reader, and machines nobody watches cost no stream messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from factorytwin.config import Settings
from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, MachineStatus
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin.bus import InProcessBus
from factorytwin.twin.service import TwinService
from factorytwin.twin.stream import SNAPSHOT_PART_MACHINES, StreamClient
from tests.unit.twin.helpers import IMMEDIATE, T0, batch, machine, reading
from tests.unit.twin.test_stream import drain

PLANT = SNAPSHOT_PART_MACHINES * 2 + 100  # three parts; 2 x 1,100 messages when all come online: over 1,000


def ids() -> list[str]:
    return [f"mill-{i:05d}" for i in range(PLANT)]


@pytest.fixture
async def twin(tmp_path: Path) -> AsyncIterator[TwinService]:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    service = TwinService(Settings(database_url="sqlite:///unused.db", **IMMEDIATE), store, InProcessBus())
    await service.start([machine(m) for m in ids()])
    try:
        yield service
    finally:
        await service.stop()
        await store.close()


async def texts(client: StreamClient, n: int) -> list[dict[str, Any]]:
    return [json.loads(str(await client.get())) for _ in range(n)]


def offline(machine_id: str, alarm_id: int) -> Alarm:
    return Alarm(
        id=alarm_id,
        machine_id=machine_id,
        type="offline",
        severity=AlarmSeverity.MAJOR,
        state=AlarmState.ACTIVE_UNACK,
        message="no telemetry",
        raised_at=T0,
        updated_at=T0,
    )


async def test_the_snapshot_of_a_large_plant_comes_in_parts_each_with_its_machines_alarms(twin: TwinService) -> None:
    twin.alarms.load([offline("mill-00003", 1), offline(f"mill-{PLANT - 1:05d}", 2)])
    client = twin.hub.connect()
    parts = await texts(client, 3)
    assert [(p["part"], p["last"], len(p["machines"])) for p in parts] == [
        (0, False, SNAPSHOT_PART_MACHINES),
        (1, False, SNAPSHOT_PART_MACHINES),
        (2, True, 100),
    ]
    assert [m["machine_id"] for p in parts for m in p["machines"]] == ids()
    assert [[a["id"] for a in p["alarms"]] for p in parts] == [[1], [], [2]]


async def test_a_subscription_snapshot_names_only_known_machines_in_one_part(twin: TwinService) -> None:
    client = twin.hub.connect(["mill-00007", "mill-00002"])
    (snapshot,) = drain(client)
    assert [m["machine_id"] for m in snapshot["machines"]] == ["mill-00002", "mill-00007"]
    assert (snapshot["part"], snapshot["last"]) == (0, True)
    assert twin.snapshot_ids({"mill-00002", "nope"}) == ["mill-00002"]


async def test_a_plant_coming_online_at_once_does_not_drop_a_client_watching_all_of_it(twin: TwinService) -> None:
    everything = twin.hub.connect()
    fifty = twin.hub.connect(ids()[:50])
    await texts(everything, 3)
    drain(fifty)
    await twin.on_ingested(batch(*(reading(0, m) for m in ids())), new_readings=PLANT * 8)
    assert not everything.dropped
    assert twin.hub.dropped_clients == 0
    kinds = [(m["type"], m.get("machine_id") or m["state"]["machine_id"]) for m in drain(everything)]
    assert len(kinds) == 2 * PLANT  # a reading and a state (offline -> running) of each, at once
    assert {m["state"]["machine_id"] for m in drain(fifty) if m["type"] == "state"} <= set(ids()[:50])


async def test_machines_nobody_watches_make_no_stream_messages(twin: TwinService) -> None:
    fifty = twin.hub.connect(ids()[:50])
    drain(fifty)
    sent = twin.hub.sent_messages
    await twin.on_ingested(batch(*(reading(0, m) for m in ids())), new_readings=PLANT * 8)
    got = drain(fifty)
    assert len(got) == 2 * 50
    assert twin.hub.sent_messages - sent == 2 * 50
    unwatched = twin.machine_state(ids()[-1])
    assert unwatched is not None
    assert unwatched.status is MachineStatus.RUNNING  # its state is kept all the same
