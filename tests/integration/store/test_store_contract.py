"""The one test suite every ``Store`` backend passes (SQLite and PostgreSQL, see conftest.py)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest

from factorytwin.domain import (
    Alarm,
    AlarmComment,
    AlarmSeverity,
    AlarmState,
    BandOverride,
    Event,
    EventKind,
    Machine,
    MachineKind,
    MachineStatus,
)
from factorytwin.errors import InvalidInput, NotFound, StoreRejected
from factorytwin.store import AlarmQuery, EventQuery, HistoryQuery, ReadingColumns, Store, open_store
from factorytwin.store._rows import from_ms
from tests.integration.store.rows import T0, T0_MS, columns

pytestmark = pytest.mark.integration


async def test_registered_machines_are_listed_in_id_order_and_updated_by_id(store: Store) -> None:
    machines = await store.machines()
    assert [m.id for m in machines] == sorted(m.id for m in machines)
    assert len(machines) == 16
    moved = next(m for m in machines if m.id == "mill-01").model_copy(update={"x": 1.5, "metadata": {"a": [1]}})
    extra = Machine(id="pump-99", name="Spare pump", profile=MachineKind.PUMP, line="line-c", x=1, y=2)
    await store.register_machines([moved, extra])
    again = {m.id: m for m in await store.machines()}
    assert len(again) == 17
    assert again["mill-01"] == moved
    assert again["pump-99"] == extra


async def test_a_retired_machine_leaves_the_plant_keeps_its_history_and_comes_back_with_it(store: Store) -> None:
    await store.write_batch(columns([("pump-01", "flow_rate", T0_MS, 50.0)]))
    assert await store.retire_machine("pump-01") is True
    assert await store.retire_machine("pump-01") is False  # already off the plant
    assert await store.retire_machine("nope") is False
    assert "pump-01" not in {m.id for m in await store.machines()}
    assert (await store.read_range("pump-01", T0, T0 + timedelta(seconds=1))).values == [50.0]
    back = Machine(
        id="pump-01",
        name="Pump 1 again",
        profile="pump",
        line="line-c",
        x=1.0,
        y=2.0,
        bands={"outlet_pressure": BandOverride(normal_low=8.0, normal_high=16.0)},
    )
    await store.register_machines([back])
    assert {m.id: m for m in await store.machines()}["pump-01"] == back  # bands kept as written
    assert await store.write_batch(columns([("pump-01", "flow_rate", T0_MS + 1, 51.0)])) == 1
    assert (await store.read_range("pump-01", T0, T0 + timedelta(seconds=1))).values == [50.0, 51.0]


async def test_new_sensor_keys_are_registered_once_and_then_accepted(store: Store) -> None:
    with pytest.raises(InvalidInput, match="steam_pressure"):
        await store.write_batch(columns([("mill-01", "steam_pressure", T0_MS, 10.0)]))
    await store.register_sensors(["steam_pressure", "torque"])
    await store.register_sensors(["steam_pressure"])  # idempotent
    assert await store.write_batch(columns([("mill-01", "steam_pressure", T0_MS, 10.0)])) == 1
    assert (await store.latest("mill-01"))["steam_pressure"].value == 10.0


async def test_batch_counts_new_readings_and_a_resend_stores_nothing_twice(store: Store) -> None:
    rows = [("mill-01", "torque", T0_MS + i, float(i)) for i in range(100)]
    rows += [("pump-01", "flow_rate", T0_MS + i, 50.0) for i in range(50)]
    assert await store.write_batch(columns(rows)) == 150
    assert await store.write_batch(columns(rows)) == 0
    overlapping = [*rows[90:100], ("mill-01", "torque", T0_MS + 100, 100.0)]
    assert await store.write_batch(columns(overlapping)) == 1
    got = await store.read_range("mill-01", T0, T0 + timedelta(seconds=1))
    assert got.values == [float(i) for i in range(101)]
    assert (await store.stats()).readings == 151


async def test_duplicates_inside_one_batch_are_stored_once(store: Store) -> None:
    rows = [("mill-01", "torque", T0_MS, 1.0), ("mill-01", "torque", T0_MS, 2.0)]
    assert await store.write_batch(columns(rows)) == 1
    assert (await store.read_range("mill-01", T0, T0 + timedelta(seconds=1))).values == [1.0]


async def test_a_partly_resent_batch_stores_its_new_readings_and_its_events_once(store: Store) -> None:
    # On PostgreSQL the first write goes by COPY; the second fails COPY on the stored keys and goes again by
    # INSERT ... ON CONFLICT, events included: all of it or none of it, each row once.
    note = Event(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, message="half again")
    first = [("mill-01", "torque", T0_MS + i, float(i)) for i in range(10)]
    assert await store.write_batch(columns(first), [note]) == 10
    again = [*first[5:], *[("mill-01", "torque", T0_MS + i, float(i)) for i in range(10, 15)]]
    assert await store.write_batch(columns(again), [note]) == 5
    got = await store.read_range("mill-01", T0, T0 + timedelta(seconds=1))
    assert got.values == [float(i) for i in range(15)]
    assert [e.message for e in await store.events(EventQuery())] == ["half again"]
    assert (await store.stats()).readings == 15


async def test_a_failing_batch_stores_nothing_of_its_readings_or_events(store: Store) -> None:
    rows = [("mill-01", "torque", T0_MS + i, 10.0) for i in range(10)]
    good = Event(machine_id="mill-01", ts=T0, kind=EventKind.STATUS, status=MachineStatus.RUNNING)
    # Its data cannot be stored as JSON: the failure comes after the readings went in, inside the transaction.
    bad = Event.model_construct(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, data={"x": object()})
    with pytest.raises(StoreRejected):
        await store.write_batch(columns(rows), [good, bad])
    assert len(await store.read_range("mill-01", T0, T0 + timedelta(hours=1))) == 0
    assert await store.events(EventQuery()) == []
    assert (await store.stats()).readings == 0
    assert await store.write_batch(columns(rows), [good]) == 10  # the store is fine afterwards


async def test_a_batch_naming_an_unregistered_machine_or_sensor_is_refused_whole(store: Store) -> None:
    rows = [("mill-01", "torque", T0_MS, 10.0), ("ghost-01", "torque", T0_MS, 1.0), ("mill-01", "nope", T0_MS, 1.0)]
    with pytest.raises(InvalidInput) as caught:
        await store.write_batch(columns(rows))
    assert [p.loc for p in caught.value.problems] == [("readings", 1, "machine_id"), ("readings", 2, "sensor")]
    assert (await store.stats()).readings == 0


@pytest.mark.parametrize("points", [1, 7, 60, 500])
async def test_history_buckets_equal_a_brute_force_aggregate(store: Store, points: int) -> None:
    rng = random.Random(points)
    span_ms = 3_600_000
    rows = []
    for machine, sensor in [("mill-01", "torque"), ("mill-01", "power"), ("mill-02", "torque")]:
        for ts in rng.sample(range(T0_MS - 60_000, T0_MS + span_ms + 60_000), 3000):
            rows.append((machine, sensor, ts, rng.uniform(0.0, 60.0)))
    assert await store.write_batch(columns(rows)) == len(rows)
    start, end = T0_MS + 1234, T0_MS + span_ms - 77
    query = HistoryQuery(
        machine_id="mill-01",
        sensor="torque",
        start=T0 + timedelta(milliseconds=1234),
        end=T0 + timedelta(milliseconds=span_ms - 77),
        points=points,
    )
    buckets = await store.history(query)

    expected: dict[int, list[float]] = defaultdict(list)
    for machine, sensor, ts, value in rows:
        if machine == "mill-01" and sensor == "torque" and start <= ts < end:
            expected[(ts - start) * points // (end - start)].append(value)
    assert len(buckets) == len(expected)
    for bucket, index in zip(buckets, sorted(expected), strict=True):
        values = expected[index]
        assert bucket.ts == T0 + timedelta(milliseconds=1234 + index * (end - start) // points)
        assert bucket.count == len(values)
        assert bucket.min == min(values)
        assert bucket.max == max(values)
        assert bucket.avg == pytest.approx(sum(values) / len(values), rel=1e-12)
    assert sum(b.count for b in buckets) == sum(len(v) for v in expected.values())


async def test_history_of_a_range_without_readings_is_empty(store: Store) -> None:
    query = HistoryQuery(machine_id="mill-01", sensor="torque", start=T0, end=T0 + timedelta(hours=1))
    assert await store.history(query) == []


async def test_latest_gives_the_newest_value_of_each_sensor(store: Store) -> None:
    rows = [("mill-01", "torque", T0_MS + i * 1000, float(i)) for i in range(5)]
    rows += [("mill-01", "power", T0_MS, 5.5), ("mill-02", "torque", T0_MS + 99_000, 99.0)]
    await store.write_batch(columns(rows))
    latest = await store.latest("mill-01")
    assert set(latest) == {"torque", "power"}
    assert latest["torque"].value == 4.0
    assert latest["torque"].ts == T0 + timedelta(seconds=4)
    assert latest["power"].value == 5.5
    assert await store.latest("ghost") == {}


async def test_read_range_is_time_ordered_and_filters_sensors(store: Store) -> None:
    rows = [("mill-01", s, T0_MS + t, float(t)) for t in (3, 1, 2) for s in ("torque", "power", "vibration")]
    await store.write_batch(columns(rows))
    got = await store.read_range("mill-01", T0, T0 + timedelta(milliseconds=3), ["torque", "power"])
    assert got.ts_ms == [T0_MS + 1, T0_MS + 1, T0_MS + 2, T0_MS + 2]
    assert set(got.sensors) == {"torque", "power"}
    assert set(got.machine_ids) == {"mill-01"}


async def test_the_reading_span_is_the_first_and_last_reading_of_the_machine_in_the_range(store: Store) -> None:
    rows = [
        ("mill-01", "torque", T0_MS + 5, 1.0),
        ("mill-01", "power", T0_MS + 90, 2.0),
        ("lathe-01", "torque", T0_MS, 3.0),
    ]
    await store.write_batch(columns(rows))
    century = timedelta(days=36_500)
    assert await store.reading_span("mill-01", T0 - century, T0 + century) == (from_ms(T0_MS + 5), from_ms(T0_MS + 90))
    assert await store.reading_span("mill-01", T0, T0 + timedelta(milliseconds=90)) == (from_ms(T0_MS + 5),) * 2
    assert await store.reading_span("mill-01", T0 + century, T0 + 2 * century) is None
    assert await store.reading_span("pump-01", T0 - century, T0 + century) is None  # no readings
    assert await store.reading_span("nobody", T0 - century, T0 + century) is None  # no such machine


async def test_events_round_trip_and_filter_by_machine_kind_and_time(store: Store) -> None:
    events = [
        Event(machine_id="mill-01", ts=T0, kind=EventKind.STATUS, status=MachineStatus.RUNNING, message="on"),
        Event(machine_id="mill-01", ts=T0 + timedelta(minutes=1), kind=EventKind.FAULT, data={"mode": "power"}),
        Event(machine_id="pump-01", ts=T0 + timedelta(minutes=2), kind=EventKind.MAINTENANCE, message="seal"),
    ]
    stored = await store.write_events(events)
    assert all(e.id is not None for e in stored)
    assert [e.model_copy(update={"id": None}) for e in stored] == events
    await store.write_batch(ReadingColumns(), [events[0].model_copy(update={"ts": T0 + timedelta(minutes=3)})])

    newest_first = await store.events(EventQuery())
    assert [e.ts for e in newest_first] == sorted((e.ts for e in newest_first), reverse=True)
    assert len(newest_first) == 4
    mill = await store.events(EventQuery(machine_id="mill-01"))
    assert {e.machine_id for e in mill} == {"mill-01"}
    assert len(mill) == 3
    faults = await store.events(EventQuery(kinds=[EventKind.FAULT, EventKind.MAINTENANCE]))
    assert [e.kind for e in faults] == [EventKind.MAINTENANCE, EventKind.FAULT]
    assert faults[1].data == {"mode": "power"}
    window = await store.events(EventQuery(start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=3)))
    assert [e.machine_id for e in window] == ["pump-01", "mill-01"]
    assert len(await store.events(EventQuery(limit=1))) == 1
    assert (await store.stats()).events == 4


async def test_alarms_round_trip_update_and_filter(store: Store) -> None:
    raised = Alarm(
        machine_id="mill-01",
        type="high:process_temp",
        severity=AlarmSeverity.MAJOR,
        state=AlarmState.ACTIVE_UNACK,
        message="process temperature high",
        sensor="process_temp",
        value=320.5,
        raised_at=T0,
        updated_at=T0,
    )
    saved = await store.save_alarm(raised)
    assert saved.id is not None
    later = {"machine_id": "pump-01", "severity": AlarmSeverity.WARNING, "raised_at": T0 + timedelta(days=1)}
    other = await store.save_alarm(raised.model_copy(update=later))
    acked = saved.model_copy(
        update={"state": AlarmState.ACTIVE_ACK, "acked_at": T0 + timedelta(minutes=5), "acked_by": "ana"}
    )
    assert await store.save_alarm(acked) == acked

    assert await store.alarms(AlarmQuery()) == [other, acked]
    assert await store.alarms(AlarmQuery(machine_id="mill-01")) == [acked]
    assert await store.alarms(AlarmQuery(states=[AlarmState.ACTIVE_UNACK])) == [other]
    assert await store.alarms(AlarmQuery(severities=[AlarmSeverity.MAJOR, AlarmSeverity.CRITICAL])) == [acked]
    with pytest.raises(NotFound):
        await store.save_alarm(acked.model_copy(update={"id": 987654}))


async def test_an_alarms_shelf_and_comments_round_trip(store: Store) -> None:
    alarm = Alarm(
        machine_id="mill-01",
        type="high:vibration",
        severity=AlarmSeverity.MINOR,
        state=AlarmState.ACTIVE_UNACK,
        message="vibration high",
        raised_at=T0,
        updated_at=T0,
        shelved_until=T0 + timedelta(hours=2),
        shelved_by="olga",
        shelve_reason="bearing on order: 'ü' \"quoted\"",
        comments=[AlarmComment(at=T0 + timedelta(minutes=1), by="olga", text="checked, loose sensor — tightened")],
    )
    saved = await store.save_alarm(alarm)
    assert saved.id is not None
    assert await store.alarm(saved.id) == saved


async def test_opening_an_existing_store_again_migrates_nothing_and_keeps_the_data(store_url: str) -> None:
    first = open_store(store_url)
    await first.open()
    await first.register_machines([Machine(id="m1", name="M", profile=MachineKind.PUMP, line="l", x=0, y=0)])
    assert await first.write_batch(columns([("m1", "flow_rate", T0_MS, 1.0)])) == 1
    await first.close()
    for _ in range(2):
        again = open_store(store_url)
        await again.open()
        assert [m.id for m in await again.machines()] == ["m1"]
        assert await again.write_batch(columns([("m1", "flow_rate", T0_MS, 1.0)])) == 0
        assert (await again.stats()).readings == 1
        await again.close()


async def test_history_stays_exact_across_rollup_refreshes_late_data_and_resends(store: Store) -> None:
    rng = random.Random(7)
    day_ms = 86_400_000
    truth: dict[int, float] = {}  # ts -> value of mill-01/torque, first write wins

    async def write(timestamps: list[int]) -> None:
        rows = [("mill-01", "torque", ts, round(rng.uniform(0, 60), 3)) for ts in timestamps]
        rows += [("mill-02", "torque", ts, 1.0) for ts in timestamps[:50]]  # another series, never in the answer
        for _, _, ts, value in rows[: len(timestamps)]:
            truth.setdefault(ts, value)
        await store.write_batch(columns(rows))

    def brute(start: int, end: int, points: int) -> list[tuple[int, float, float, float, int]]:
        groups: dict[int, list[float]] = defaultdict(list)
        for ts, value in truth.items():
            if start <= ts < end:
                groups[(ts - start) * points // (end - start)].append(value)
        return [(b, min(v), max(v), sum(v) / len(v), len(v)) for b, v in sorted(groups.items())]

    async def check() -> None:
        for start, end, points in [
            (T0_MS, T0_MS + 3 * day_ms, 500),
            (T0_MS - 7_777, T0_MS + 2 * day_ms + 12_345, 97),
            (T0_MS + 30_001, T0_MS + day_ms - 1, 13),
            (T0_MS + 90_000, T0_MS + 3 * day_ms, 1),
            (T0_MS, T0_MS + 3 * day_ms, 5000),  # buckets under 2 minutes: the raw path
            (T0_MS + 5_000, T0_MS + 40 * 60_000 + 5_000, 7),
        ]:
            query = HistoryQuery(
                machine_id="mill-01",
                sensor="torque",
                start=T0 + timedelta(milliseconds=start - T0_MS),
                end=T0 + timedelta(milliseconds=end - T0_MS),
                points=points,
            )
            got = [(int((b.ts - T0) / timedelta(milliseconds=1)), b) for b in await store.history(query)]
            want = brute(start, end, points)
            assert [b.count for _, b in got] == [w[4] for w in want], (start, end, points)
            for (_, bucket), (index, lo, hi, avg, _n) in zip(got, want, strict=True):
                assert bucket.min == lo
                assert bucket.max == hi
                assert bucket.avg == pytest.approx(avg, rel=1e-9)
                assert bucket.ts == from_ms(start + index * (end - start) // points)

    await write(rng.sample(range(T0_MS, T0_MS + 3 * day_ms), 4000))
    await check()  # rolled up as written
    first_minute = T0_MS // 60_000
    # The sparse batch is thin: merged as written on PostgreSQL, marked (and refreshed now) on SQLite.
    refreshed = await store.refresh_rollups(first_minute + 1440)
    assert (refreshed > 0) == (store.backend == "sqlite")
    await check()
    await write(rng.sample(range(T0_MS, T0_MS + day_ms), 500))  # late data into rolled-up minutes
    await write(sorted(truth)[:300])  # a resend: nothing new, nothing dirty
    await write(sorted(truth)[:200] + [ts + 1 for ts in sorted(truth)[:50] if ts + 1 not in truth])
    # ... and one with some new readings: its minutes are marked, read raw until the refresh recomputes them
    await check()
    assert await store.refresh_rollups(first_minute + 10 * 1440) > 0  # the partial resend's minutes
    await check()  # everything rolled up


async def test_batches_written_together_are_each_all_or_nothing(store: Store) -> None:
    good1 = columns([("mill-01", "torque", T0_MS + i, 1.0) for i in range(10)])
    bad_event = Event.model_construct(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, data={"x": object()})
    failing = columns([("mill-01", "power", T0_MS + i, 2.0) for i in range(10)])
    unknown = columns([("ghost", "power", T0_MS, 2.0)])
    good2 = columns([("mill-01", "torque", T0_MS + i, 3.0) for i in range(5, 15)])  # 5 of 10 already stored
    results = await store.write_batches([(good1, ()), (failing, [bad_event]), (unknown, ()), (good2, ())])
    assert results[0] == 10
    assert isinstance(results[1], StoreRejected)
    assert isinstance(results[2], InvalidInput)
    assert results[3] == 5
    stored = await store.read_range("mill-01", T0, T0 + timedelta(seconds=1))
    assert set(stored.sensors) == {"torque"}
    assert len(stored) == 15
    assert (await store.stats()).readings == 15
    assert await store.events(EventQuery()) == []
