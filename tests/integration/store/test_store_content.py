"""What every backend does with content it cannot hold, resent events, pages and stored rows that make no model.

Runs on SQLite and PostgreSQL (the ``store`` fixture of conftest.py), like the contract suite.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, Machine, MachineStatus
from factorytwin.errors import StoreRejected
from factorytwin.store import AlarmQuery, EventQuery, HistoryQuery, ReadingColumns, Store, all_events
from factorytwin.store.base import MAX_LIST_LIMIT
from tests.integration.store.rows import T0, T0_MS, columns

pytestmark = pytest.mark.integration

BEFORE_YEAR_1 = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # valid input, no datetime once in UTC


def alarm(**fields: object) -> Alarm:
    """An alarm of mill-01 raised at T0, with ``fields`` changed."""
    base = Alarm(
        machine_id="mill-01",
        type="high:torque",
        severity=AlarmSeverity.MAJOR,
        state=AlarmState.ACTIVE_UNACK,
        message="torque high",
        raised_at=T0,
        updated_at=T0,
    )
    return base.model_copy(update=fields)


def note(message: str = "hello", **fields: object) -> Event:
    """A note event of mill-01 at T0; ``model_construct`` so a test can hand the store what validation refuses."""
    return Event.model_construct(
        id=None, machine_id="mill-01", ts=T0, kind=EventKind.NOTE, status=None, message=message, data={}
    ).model_copy(update=fields)


# --- content no store can hold ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        note("a\x00b"),
        note(data={"k": "a\x00b"}),
        note(data={"k\x00": 1}),
        note("lone \ud800"),
        note(data={"x": float("nan")}),
    ],
    ids=["nul-message", "nul-in-data", "nul-in-key", "surrogate", "nan"],
)
async def test_an_event_no_store_can_hold_is_rejected_on_both_write_paths(store: Store, event: Event) -> None:
    rows = columns([("mill-01", "torque", T0_MS, 1.0)])
    with pytest.raises(StoreRejected, match="event"):
        await store.write_batch(rows, [event])
    with pytest.raises(StoreRejected, match="event"):
        await store.write_events([event])
    assert (await store.stats()).readings == 0  # the batch's readings went with it
    assert await store.events(EventQuery()) == []
    assert await store.write_batch(rows, [note()]) == 1  # and the store carries on


async def test_alarm_and_machine_text_no_store_can_hold_is_rejected(store: Store) -> None:
    bad_alarm = alarm()
    bad_alarm.acked_by = "ana\x00"  # assignment is not validated: the store checks for itself
    with pytest.raises(StoreRejected, match="acked_by"):
        await store.save_alarm(bad_alarm)
    machine = Machine.model_construct(
        id="pump-77", name="Pump\x00", profile="pump", line="l", x=0.0, y=0.0, rotation=0.0, metadata={}
    )
    with pytest.raises(StoreRejected, match="name"):
        await store.register_machines([machine])
    assert await store.alarms(AlarmQuery()) == []
    assert "pump-77" not in {m.id for m in await store.machines()}


async def test_a_value_the_backend_cannot_hold_is_rejected_and_only_its_batch_fails(store: Store) -> None:
    huge_ts = columns([("mill-01", "torque", 2**70, 1.0)])  # beyond a 64-bit integer
    good = columns([("mill-01", "torque", T0_MS, 1.0)])
    with pytest.raises(StoreRejected):
        await store.write_batch(huge_ts)
    results = await store.write_batches([(good, ()), (huge_ts, ())])
    assert results[0] == 1
    assert isinstance(results[1], StoreRejected)
    assert (await store.stats()).readings == 1


async def test_filters_holding_text_no_store_can_hold_find_nothing_without_asking_sql(store: Store) -> None:
    await store.write_events([note()])
    await store.save_alarm(alarm())
    nul = "mill-01\x00"
    assert await store.events(EventQuery.model_construct(**{**EventQuery().model_dump(), "machine_id": nul})) == []
    assert await store.alarms(AlarmQuery.model_construct(**{**AlarmQuery().model_dump(), "machine_id": nul})) == []
    assert await store.latest(nul) == {}
    assert await store.history(HistoryQuery(machine_id=nul, sensor="torque", start=T0, end=T0 + timedelta(1))) == []
    assert len(await store.read_range(nul, T0, T0 + timedelta(days=1))) == 0
    for bad_id in (-1, 2**63, 2**80):
        assert await store.alarm(bad_id) is None


def test_queries_refuse_unstorable_filters_and_oversized_pages() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        AlarmQuery(machine_id="a\x00b")
    with pytest.raises(ValidationError, match="NUL"):
        EventQuery(machine_id="a\x00b")
    with pytest.raises(ValidationError, match="less than or equal"):
        EventQuery(limit=MAX_LIST_LIMIT + 1)
    with pytest.raises(ValidationError, match="less than or equal"):
        AlarmQuery(limit=MAX_LIST_LIMIT + 1)
    with pytest.raises(ValidationError, match="before_id needs before"):
        EventQuery(before_id=3)


# --- idempotent events ------------------------------------------------------------------------------------------
async def test_a_resent_batch_stores_each_event_once(store: Store) -> None:
    events = [
        Event(machine_id="mill-01", ts=T0, kind=EventKind.STATUS, status=MachineStatus.RUNNING),
        Event(machine_id="mill-01", ts=T0, kind=EventKind.FAULT, message="spindle", data={"a": 1, "b": [2]}),
        Event(machine_id="pump-01", ts=T0, kind=EventKind.FAULT, message="spindle", data={"a": 1, "b": [2]}),
    ]
    rows = columns([("mill-01", "torque", T0_MS, 1.0)])
    for _ in range(3):  # the same REST batch three times, or an MQTT redelivery
        await store.write_batch(rows, events)
    # the same content with the data's keys in another order is the same event
    await store.write_batch(ReadingColumns(), [events[1].model_copy(update={"data": {"b": [2], "a": 1}})])
    stored = await store.events(EventQuery())
    assert len(stored) == 3
    assert (await store.stats()).events == 3
    # anything different is another event
    await store.write_batch(ReadingColumns(), [events[1].model_copy(update={"message": "spindle!"})])
    assert len(await store.events(EventQuery())) == 4


async def test_two_identical_events_in_one_batch_are_stored_once(store: Store) -> None:
    event = Event(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, message="same")
    await store.write_batch(ReadingColumns(), [event, event])
    assert len(await store.events(EventQuery())) == 1


async def test_write_events_answers_a_resent_event_with_the_id_it_has(store: Store) -> None:
    event = Event(machine_id="mill-01", ts=T0, kind=EventKind.COMMAND, message="stop by ana", data={"id": "c1"})
    [first] = await store.write_events([event])
    [again] = await store.write_events([event])
    assert first.id is not None
    assert again.id == first.id
    assert (await store.stats()).events == 1


# --- pages ------------------------------------------------------------------------------------------------------
async def test_events_page_with_a_before_cursor_each_exactly_once(store: Store) -> None:
    # 25 events, several sharing a time: the cursor needs the id to split them.
    events = [
        Event(machine_id="mill-01", ts=T0 + timedelta(seconds=i // 3), kind=EventKind.NOTE, message=f"n{i}")
        for i in range(25)
    ]
    await store.write_events(events)
    everything = await store.events(EventQuery(limit=100))
    seen: list[Event] = []
    query = EventQuery(machine_id="mill-01", limit=10)
    while page := await store.events(query):
        seen += page
        query = query.model_copy(update={"before": page[-1].ts, "before_id": page[-1].id})
    assert [e.id for e in seen] == [e.id for e in everything]
    assert len(seen) == 25
    older = await store.events(EventQuery(before=T0 + timedelta(seconds=2)))
    assert {e.message for e in older} == {f"n{i}" for i in range(6)}


async def test_all_events_reads_every_page(store: Store) -> None:
    events = [Event(machine_id="pump-01", ts=T0, kind=EventKind.NOTE, message=f"n{i}") for i in range(23)]
    await store.write_events(events)
    got = await all_events(store, EventQuery(machine_id="pump-01", limit=5))
    assert sorted(e.message for e in got) == sorted(e.message for e in events)


async def test_alarms_page_with_a_before_cursor_each_exactly_once(store: Store) -> None:
    for i in range(12):
        await store.save_alarm(alarm(type=f"rule:{i}", raised_at=T0 + timedelta(minutes=i // 2)))
    everything = await store.alarms(AlarmQuery())
    seen: list[Alarm] = []
    query = AlarmQuery(limit=5)
    while page := await store.alarms(query):
        seen += page
        query = query.model_copy(update={"before": page[-1].raised_at, "before_id": page[-1].id})
    assert [a.id for a in seen] == [a.id for a in everything]
    assert len(seen) == 12


async def test_an_alarm_is_found_by_its_id(store: Store) -> None:
    saved = await store.save_alarm(alarm())
    other = await store.save_alarm(alarm(machine_id="pump-01"))
    assert saved.id is not None
    assert await store.alarm(saved.id) == saved
    assert await store.alarm(other.id or 0) == other
    assert await store.alarm(saved.id + other.id + 1000 if other.id else 10**6) is None


# --- stored rows that make no model ------------------------------------------------------------------------------
async def test_a_stored_row_that_makes_no_model_is_skipped_and_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # Written around ingest (which refuses these times): a time before year 1 once in UTC.
    await store.write_events([note("fine"), note("ancient", ts=BEFORE_YEAR_1)])
    await store.save_alarm(alarm(raised_at=BEFORE_YEAR_1))
    await store.save_alarm(alarm(type="fine"))
    ancient_ms = int((BEFORE_YEAR_1 - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    await store.write_batch(columns([("mill-01", "torque", ancient_ms, 1.0), ("mill-01", "power", T0_MS, 5.0)]))
    await store.write_batch(columns([("pump-01", "flow_rate", T0_MS, float("inf"))]))
    with caplog.at_level(logging.WARNING, logger="factorytwin.store._rows"):
        assert [e.message for e in await store.events(EventQuery())] == ["fine"]
        assert [a.type for a in await store.alarms(AlarmQuery())] == ["fine"]
        assert set(await store.latest("mill-01")) == {"power"}
        assert await store.latest("pump-01") == {}
    assert any("skipped 1 stored event" in r.getMessage() for r in caplog.records)
    assert any("skipped 1 stored alarm" in r.getMessage() for r in caplog.records)
