"""``Store.kpi_rows``, ``events_after`` and ``alarm_times`` on both backends: the JSON fields picked by SQL are
what ``json.loads`` of the whole ``data`` gives (types included), the range ends, the order, the lookback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, MachineStatus
from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store
from factorytwin.store.base import EventQuery
from factorytwin.store.postgres import PostgresStore

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
MS0 = int(T0.timestamp() * 1000)


def ev(minutes: float, kind: EventKind, status: MachineStatus | None = None, m: str = "mill-01", **data: Any) -> Event:
    return Event(machine_id=m, ts=T0 + timedelta(minutes=minutes), kind=kind, status=status, data=data)


def ms(minutes: float) -> int:
    return MS0 + int(minutes * 60_000)


async def test_the_picked_fields_are_those_of_the_stored_json(store: Store) -> None:
    f, s, p = EventKind.FAULT, EventKind.STATUS, EventKind.PRODUCTION
    await store.write_events(
        [
            ev(-30, s, MachineStatus.RUNNING),
            ev(-20, EventKind.COMMAND, None),  # a status kind without a status: in the lookback, not in the range
            ev(-10, EventKind.MAINTENANCE, MachineStatus.MAINTENANCE, reason="service", planned=True),
            ev(0, f, MachineStatus.FAILED, mode="bearing", reason=5, planned="true"),  # at the start: in
            ev(1, f, MachineStatus.FAILED, mode=7),
            ev(2, f, MachineStatus.FAILED, mode=["a", {"b": 1.5}]),
            ev(3, s, MachineStatus.FAILED, mode=True, reason="x\u00e9\n"),
            ev(4, s, None),  # no status: not a status row
            ev(5, EventKind.NOTE, MachineStatus.RUNNING),  # not a status kind
            ev(0, p, parts_total=3, parts_bad=1, ideal_cycle_s=4),  # at the start: out (a report closes the one before)
            ev(10, p, parts_total=2.5, parts_bad="1", ideal_cycle_s=0.7),
            ev(11, p, parts_total="2"),  # not a number: no report
            ev(12, p, parts_total=True),
            ev(13, p, parts_total=-1),
            ev(14, p, parts_total=0, parts_bad=False, ideal_cycle_s=None),
            ev(60, p, parts_total=9),  # at the end: in
            ev(60, s, MachineStatus.RUNNING),  # at the end: out
            ev(5, s, MachineStatus.IDLE, m="mill-02"),
        ]
    )
    rows = await store.kpi_rows(["mill-01", "mill-02", "lathe-01"], T0, T0 + timedelta(hours=1), lookback=2)
    assert set(rows) == {"mill-01", "mill-02", "lathe-01"}
    mill = rows["mill-01"]
    assert mill.status == [
        (ms(0), "fault", "failed", "bearing", None, False),
        (ms(1), "fault", "failed", 7, None, False),
        (ms(2), "fault", "failed", ["a", {"b": 1.5}], None, False),
        (ms(3), "status", "failed", True, "x\u00e9\n", False),
    ]
    assert [type(r[3]) for r in mill.status] == [str, int, list, bool]
    assert mill.before == [
        (ms(-10), "maintenance", "maintenance", None, "service", True),
        (ms(-20), "command", None, None, None, False),
    ]
    assert mill.counts == [(ms(10), 2.5, None, 0.7), (ms(14), 0, None, None), (ms(60), 9, None, None)]
    assert rows["mill-02"].status == [(ms(5), "status", "idle", None, None, False)]
    lathe = rows["lathe-01"]
    assert (lathe.status, lathe.before, lathe.counts, lathe.alarms) == ([], [], [], [])


async def test_alarm_times_and_what_was_written_since(store: Store) -> None:
    for minutes, machine in [(-1, "mill-01"), (0, "mill-01"), (30, "mill-01"), (60, "mill-01"), (5, "press-01")]:
        ts = T0 + timedelta(minutes=minutes)
        await store.save_alarm(
            Alarm(
                machine_id=machine,
                type="high:x",
                severity=AlarmSeverity.MINOR,
                state=AlarmState.ACTIVE_UNACK,
                message="x",
                raised_at=ts,
                updated_at=ts,
            )
        )
    end = T0 + timedelta(hours=1)
    assert await store.alarm_times(["mill-01", "press-01", "nope\x00"], T0, end) == {
        "mill-01": [ms(0), ms(30)],
        "press-01": [ms(5)],
        "nope\x00": [],
    }
    assert (await store.kpi_rows(["mill-01"], T0, end, 1))["mill-01"].alarms == [ms(0), ms(30)]
    cursor, written = await store.events_after(None)
    assert written == {}
    await store.write_events([ev(20, EventKind.STATUS, MachineStatus.RUNNING)])
    cursor, written = await store.events_after(cursor)
    assert written == {"mill-01": ms(20)}
    cursor, written = await store.events_after(cursor)
    assert written == {}  # told once
    await store.write_events([ev(50, EventKind.NOTE), ev(-5, EventKind.NOTE), ev(7, EventKind.NOTE, m="lathe-01")])
    cursor, written = await store.events_after(cursor)
    assert written == {"mill-01": ms(-5), "lathe-01": ms(7)}


async def test_an_event_committed_after_a_later_one_is_not_stepped_over(postgres_url: str) -> None:
    """PostgreSQL hands out event ids at insert: a transaction holding a lower id may commit after one holding a
    higher id has been seen. ``events_after`` still reports it (its cursor is a transaction horizon, not an id)."""
    store = open_store(postgres_url)
    await store.open()
    try:
        assert isinstance(store, PostgresStore)
        await store.register_machines(load_layout().machines)
        cursor, _ = await store.events_after(None)
        async with store.pool.acquire() as slow, slow.transaction():
            await slow.execute(
                "INSERT INTO events (machine_id, ts, kind, message, data) VALUES ('lathe-01', $1, 'note', '', '{}')",
                ms(1),
            )
            [fast] = await store.write_events([ev(2, EventKind.NOTE)])  # a higher id, committed first
            cursor, written = await store.events_after(cursor)
            assert written == {"mill-01": ms(2)}
        [late] = await store.events(EventQuery(machine_id="lathe-01"))
        assert late.id is not None
        assert fast.id is not None
        assert late.id < fast.id
        cursor, written = await store.events_after(cursor)
        assert written == {"lathe-01": ms(1)}
        assert (await store.events_after(cursor))[1] == {}
    finally:
        await store.close()
