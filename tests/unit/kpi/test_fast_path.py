"""The fast path (``Store.kpi_rows`` and the day-tally cache of ``kpi.cache``) gives the same reports, to the last
bit, as the computation it replaced (``tests.unit.kpi.reference``: every event read as a model), on a simulated
history of the default factory plus the odd events a gateway may send, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Event, EventKind, MachineStatus
from factorytwin.kpi import Grouping, KpiQuery, KpiReport, KpiService, Scope
from factorytwin.kpi.cache import cache_of
from factorytwin.kpi.service import LOOKBACK_EVENTS
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.sim.production import ShiftPlan
from factorytwin.store import Store, open_store
from factorytwin.store.base import KpiRows
from tests.unit.kpi.reference import ReferenceKpiService

START = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 6
LAYOUT = load_layout()
LINES = {line.id: line.name for line in LAYOUT.lines}


def at(day: int, hours: float = 0.0) -> datetime:
    return START + timedelta(days=day, hours=hours)


def odd_events() -> list[Event]:
    """What the simulator never sends but a gateway may: non-string modes and reasons, bad part counts, events on
    midnight, a repeated fault naming its cause again right after midnight, a planned stop over midnight."""
    m = "lathe-01"

    def ev(day: int, hours: float, kind: EventKind, status: MachineStatus | None, **data: Any) -> Event:
        return Event(machine_id=m, ts=at(day, hours), kind=kind, status=status, data=data)

    failed, stopped, running = MachineStatus.FAILED, MachineStatus.STOPPED, MachineStatus.RUNNING
    return [
        ev(1, 23.5, EventKind.FAULT, failed, mode="spindle"),
        ev(2, 0.0, EventKind.STATUS, failed, mode="spindle"),  # on midnight, the same cause again
        ev(2, 0.25, EventKind.FAULT, failed, mode=7),
        ev(2, 0.5, EventKind.FAULT, failed, mode=["a", 1]),
        ev(2, 0.75, EventKind.STATUS, failed, mode=True),
        ev(2, 1.0, EventKind.STATUS, failed, mode=0),
        ev(2, 2.0, EventKind.STATUS, running),
        ev(2, 22.0, EventKind.STATUS, stopped, reason="", planned=True),
        ev(3, 0.0, EventKind.COMMAND, stopped, reason={"x": 1}, planned=1),
        ev(3, 1.0, EventKind.MAINTENANCE, MachineStatus.MAINTENANCE, reason="service", planned="yes"),
        ev(3, 2.0, EventKind.STATUS, running, planned=True),
        ev(3, 3.0, EventKind.STATUS, None),
        *(
            ev(4, h, EventKind.PRODUCTION, None, **data)
            for h, data in list[tuple[float, dict[str, Any]]](
                [
                    (0.0, {"parts_total": 5, "parts_bad": 1, "ideal_cycle_s": 150}),  # on midnight: closes day 3
                    (1.0, {"parts_total": "5"}),
                    (2.0, {"parts_total": True, "parts_bad": 1}),
                    (3.0, {"parts_total": -1}),
                    (4.0, {"parts_total": 4.7, "parts_bad": 9, "ideal_cycle_s": 0}),
                    (5.0, {"parts_total": 3, "parts_bad": -2, "ideal_cycle_s": True}),
                    (6.0, {"parts_total": 3, "parts_bad": "1", "ideal_cycle_s": 0.7}),
                    (7.0, {"parts_total": 2, "parts_bad": 0.9, "ideal_cycle_s": 1e-3}),
                ]
            )
        ),
    ]


async def simulated(store: Store) -> None:
    engine = Engine(LAYOUT, seed=3, start=START, shifts=ShiftPlan())
    engine.announce()
    events: list[Event] = []
    for _ in range(DAYS):
        frame = engine.step(60.0, 1440)
        events += [e.to_domain(START + timedelta(seconds=e.t)) for e in frame.events]
    await store.write_events(events + odd_events())
    for i, (machine, hours) in enumerate([("mill-01", 30.0), ("press-01", 48.0), ("mill-01", 100.5), ("robot-01", 0)]):
        ts = START + timedelta(hours=hours)
        await store.save_alarm(
            Alarm(
                machine_id=machine,
                type=f"high:t{i}",
                severity=AlarmSeverity.MAJOR,
                state=AlarmState.ACTIVE_UNACK,
                message="x",
                raised_at=ts,
                updated_at=ts,
            )
        )


@pytest.fixture
async def store(backend_url: str) -> AsyncIterator[Store]:
    st = open_store(backend_url)
    await st.open()
    await st.register_machines(LAYOUT.machines)
    await simulated(st)
    try:
        yield st
    finally:
        await st.close()


async def same(store: Store, query: KpiQuery) -> KpiReport:
    fast = await KpiService(store, LAYOUT.machines, LINES).report(query)
    slow = await ReferenceKpiService(store, LAYOUT.machines, LINES).report(query)
    assert fast == slow, query
    return fast


RANGES = [
    (at(0), at(2)),  # keeps days 0 and 1: lathe-01 is failed at the end
    (at(0, 3), at(4)),  # goes on from there, in the middle of a repair
    (at(1), at(5)),
    (at(1), at(5)),  # again: from the cache
    (at(0, 7.2), at(4, 5)),
    (at(2), at(6)),  # past the first's end: extends the cache
    (at(1, 23.99), at(6)),
    (at(0), at(3)),  # starts before the cache
    (at(2, 0.01), at(5, 0.5)),
]


async def test_every_range_and_grouping_gives_the_reports_of_the_model_reads(store: Store) -> None:
    for start, end in RANGES:
        for group in (Grouping.DAY, Grouping.NONE):
            await same(store, KpiQuery(start=start, end=end, group=group))
    for scope, ident in [(Scope.LINE, "line-b"), (Scope.MACHINE, "lathe-01"), (Scope.MACHINE, "mill-01")]:
        for group in (Grouping.DAY, Grouping.NONE, Grouping.SHIFT, Grouping.HOUR):
            await same(store, KpiQuery(scope=scope, id=ident, start=at(0, 5), end=at(5, 1), group=group))
    report = await same(store, KpiQuery(scope=Scope.MACHINE, id="lathe-01", start=at(1), end=at(5)))
    causes = {d.cause for d in report.total.downtime}
    assert {"failure:7", "failure:['a', 1]", "failure:True"} <= causes  # the odd modes, as str() of their JSON value
    assert report.total.parts_total is not None
    assert report.total.alarms == 0


async def test_the_cache_is_used_and_a_late_event_cuts_it_back(store: Store) -> None:
    read: list[tuple[datetime, datetime]] = []
    kpi_rows = store.kpi_rows

    async def counting(ids: Sequence[str], start: datetime, end: datetime, lookback: int) -> dict[str, KpiRows]:
        read.append((start, end))
        return await kpi_rows(ids, start, end, lookback)

    store.kpi_rows = counting  # type: ignore[method-assign,assignment]
    query = KpiQuery(start=at(1), end=at(6), group=Grouping.DAY)
    await same(store, query)
    assert read == [(at(1), at(6))]  # the first reads the range (and keeps its days)
    read.clear()
    await same(store, query)
    assert all(end - start <= timedelta(days=3) for start, end in read)  # then only the head before its days
    chain = cache_of(store, LOOKBACK_EVENTS).chains["lathe-01"]
    assert chain.end_ms - chain.first_ms == 5 * 86_400_000
    late = Event(machine_id="lathe-01", ts=at(3, 12), kind=EventKind.FAULT, status=MachineStatus.FAILED, data={})
    await store.write_events([late, late.model_copy(update={"ts": at(3, 13), "status": MachineStatus.RUNNING})])
    read.clear()
    report = await same(store, query)
    assert report.buckets[2].failures > 0
    assert (at(3), at(6)) in read  # cut back to the midnight before the late event: those days read again
    assert chain.end_ms == int(at(6).timestamp() * 1000)  # and kept again
    read.clear()
    await same(store, query)
    assert all(end - start <= timedelta(days=3) for start, end in read)


async def test_random_ranges_with_late_events_in_between_give_the_same_reports(store: Store) -> None:
    rnd = random.Random(14)
    minutes = DAYS * 1440
    for i in range(24):
        a = rnd.randrange(0, minutes - 2 * 1440)
        b = rnd.randrange(a + 2 * 1440, minutes + 1)
        start, end = at(0, a / 60), at(0, b / 60)
        group = rnd.choice([Grouping.DAY, Grouping.NONE])
        machine = rnd.choice(LAYOUT.machines).id
        await same(store, KpiQuery(start=start, end=end, group=group))
        await same(store, KpiQuery(scope=Scope.MACHINE, id=machine, start=start, end=end, group=group))
        if i % 6 == 5:  # a late status change somewhere in the history
            status = rnd.choice([MachineStatus.FAILED, MachineStatus.STOPPED, MachineStatus.RUNNING])
            ts = at(0, rnd.randrange(minutes) / 60)
            late = Event(machine_id=machine, ts=ts, kind=EventKind.STATUS, status=status)
            await store.write_events([late])


async def test_an_ungrouped_range_of_decades_is_one_scan_not_a_chain_of_days(store: Store) -> None:
    """schemathesis found ``GET /kpis?from=2000-01-01&group=none`` timing out: a chain of a cell per day for
    decades. Ranges beyond the day grouping's cap are scanned once, uncached, with the same figures."""
    await same(store, KpiQuery(start=datetime(2000, 1, 1, tzinfo=UTC), end=at(6), group=Grouping.NONE))
    assert cache_of(store, LOOKBACK_EVENTS).chains == {}
