"""IngestService: validation with every problem located, the one bounded writer, listeners, counters."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from factorytwin.config import Settings
from factorytwin.domain import Event, EventKind, ReadingSet, TelemetryBatch
from factorytwin.errors import InvalidInput, Overloaded, StoreRejected, StoreUnavailable
from factorytwin.ingest import IngestService
from factorytwin.layout import load_layout
from factorytwin.store import ReadingColumns, Store, open_store

MACHINES = load_layout().machines
NOW = datetime.now(UTC).replace(microsecond=0)


def reading(machine: str = "mill-01", ts: datetime = NOW, **values: float) -> ReadingSet:
    return ReadingSet(machine_id=machine, ts=ts, values=values or {"torque": 40.0, "power": 6.0})


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'ingest.db'}")
    await st.open()
    await st.register_machines(MACHINES)
    yield st
    await st.close()


@pytest.fixture
async def service(store: Store) -> AsyncIterator[IngestService]:
    svc = IngestService(Settings(max_batch_readings=50), store, MACHINES)
    await svc.start()
    yield svc
    await svc.stop()


async def test_a_valid_batch_is_stored_and_counted(service: IngestService, store: Store) -> None:
    batch = TelemetryBatch(
        readings=[reading(), reading("pump-01", flow_rate=80.0)],
        events=[Event(machine_id="pump-01", ts=NOW, kind=EventKind.NOTE, message="hello")],
    )
    result = await service.ingest(batch)
    assert (result.readings, result.new_readings, result.events) == (3, 3, 1)
    assert (await store.latest("mill-01"))["torque"].value == 40.0
    c = service.counters
    assert (c.accepted_batches, c.accepted_readings, c.new_readings, c.accepted_events) == (1, 3, 3, 1)


async def test_a_resent_batch_is_accepted_and_stores_nothing_new(service: IngestService) -> None:
    batch = TelemetryBatch(readings=[reading()])
    assert (await service.ingest(batch)).new_readings == 2
    assert (await service.ingest(batch)).new_readings == 0


async def test_every_problem_of_a_batch_is_named_by_its_path_and_nothing_is_stored(
    service: IngestService, store: Store
) -> None:
    batch = TelemetryBatch(
        readings=[
            reading(),  # fine, but stored only if everything is
            reading("ghost-07"),
            reading(flow_rate=80.0, torque=250.0),  # a pump's sensor on a mill; torque above 200 Nm
            reading(vibration=math.nan, power=math.inf),
            reading(ts=NOW + timedelta(hours=1)),
        ],
        events=[Event(machine_id="ghost-08", ts=NOW, kind=EventKind.FAULT)],
    )
    with pytest.raises(InvalidInput) as caught:
        await service.ingest(batch)
    problems = {p.loc: p.msg for p in caught.value.problems}
    assert list(problems) == [
        ("readings", 1, "machine_id"),
        ("readings", 2, "values", "flow_rate"),
        ("readings", 2, "values", "torque"),
        ("readings", 3, "values", "vibration"),
        ("readings", 3, "values", "power"),
        ("readings", 4, "ts"),
        ("events", 0, "machine_id"),
    ]
    assert "ghost-07" in problems[("readings", 1, "machine_id")]
    assert "no sensor 'flow_rate'" in problems[("readings", 2, "values", "flow_rate")]
    assert "[0, 200]" in problems[("readings", 2, "values", "torque")]
    assert "finite" in problems[("readings", 3, "values", "vibration")]
    assert "finite" in problems[("readings", 3, "values", "power")]
    assert "future" in problems[("readings", 4, "ts")]
    assert await store.latest("mill-01") == {}
    assert service.counters.rejected_batches == 1
    assert service.counters.accepted_batches == 0


async def test_a_batch_over_the_value_limit_is_refused_before_any_other_check(service: IngestService) -> None:
    batch = TelemetryBatch(readings=[reading(ts=NOW - timedelta(seconds=i)) for i in range(26)])  # 52 > 50
    with pytest.raises(InvalidInput) as caught:
        await service.ingest(batch)
    [problem] = caught.value.problems
    assert problem.loc == ("readings",)
    assert "52" in problem.msg
    assert "50" in problem.msg


async def test_thousands_of_problems_are_reported_as_the_first_hundred_and_a_count(store: Store) -> None:
    svc = IngestService(Settings(), store, MACHINES)
    batch = TelemetryBatch(readings=[reading(torque=-1.0) for _ in range(250)])
    with pytest.raises(InvalidInput) as caught:
        svc.validate(batch)
    assert len(caught.value.problems) == 101
    assert "150 more" in caught.value.problems[-1].msg


async def until(condition: Callable[[], bool], turns: int = 1000) -> None:
    """Let other tasks run until ``condition`` holds: event-loop turns, no wall-clock time."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


class BlockedStore:
    """A store whose writes wait until released, to fill the writer's queue."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()  # set once the writer is inside a write
        self.writes = 0
        self.groups: list[int] = []

    async def write_batches(self, batches: Sequence[tuple[ReadingColumns, Sequence[Event]]]) -> list[int | Exception]:
        self.entered.set()
        await self.release.wait()
        self.groups.append(len(batches))
        self.writes += len(batches)
        return [len(readings) for readings, _ in batches]


async def test_past_the_queue_cap_ingest_refuses_with_overloaded_and_recovers() -> None:
    blocked = BlockedStore()
    svc = IngestService(Settings(ingest_queue_batches=1), blocked, MACHINES)  # type: ignore[arg-type]
    await svc.start()
    batch = TelemetryBatch(readings=[reading()])
    first = asyncio.create_task(svc.ingest(batch))  # taken by the writer, blocked in the store
    await blocked.entered.wait()
    second = asyncio.create_task(svc.ingest(batch))  # waits in the queue (cap 1)
    await until(lambda: svc.queue_depth == 1)
    with pytest.raises(Overloaded):
        await svc.ingest(batch)
    assert svc.counters.overloaded_batches == 1
    blocked.release.set()
    assert (await first).new_readings == 2
    assert (await second).new_readings == 2
    assert (await svc.ingest(batch)).new_readings == 2
    await svc.stop()
    assert blocked.writes == 3


async def test_listeners_see_each_committed_batch_with_its_new_count_in_order(service: IngestService) -> None:
    seen: list[tuple[int, int]] = []

    async def listener(batch: TelemetryBatch, new: int) -> None:
        seen.append((len(batch.readings), new))

    service.add_listener(listener)
    one = TelemetryBatch(readings=[reading()])
    two = TelemetryBatch(readings=[reading(), reading("pump-01", flow_rate=70.0)])
    await asyncio.gather(service.ingest(one), service.ingest(two))
    await service.ingest(one)
    assert seen == [(1, 2), (2, 1), (1, 0)]


async def test_a_failing_listener_does_not_fail_the_ingest_nor_other_listeners(service: IngestService) -> None:
    calls: list[int] = []

    async def broken(batch: TelemetryBatch, new: int) -> None:
        raise RuntimeError("twin is broken")

    async def fine(batch: TelemetryBatch, new: int) -> None:
        calls.append(new)

    service.add_listener(broken)
    service.add_listener(fine)
    assert (await service.ingest(TelemetryBatch(readings=[reading()]))).new_readings == 2
    assert calls == [2]
    assert service.counters.listener_errors == 1


class FailingStore:
    """A store that fails every other write."""

    def __init__(self) -> None:
        self.calls = 0

    async def write_batches(self, batches: Sequence[tuple[ReadingColumns, Sequence[Event]]]) -> list[int | Exception]:
        self.calls += 1
        if self.calls % 2:
            raise OSError("disk full")
        return [len(readings) for readings, _ in batches]


async def test_a_store_failure_reaches_its_caller_and_the_writer_carries_on() -> None:
    svc = IngestService(Settings(), FailingStore(), MACHINES)  # type: ignore[arg-type]
    await svc.start()
    batch = TelemetryBatch(readings=[reading()])
    with pytest.raises(OSError, match="disk full"):
        await svc.ingest(batch)
    assert (await svc.ingest(batch)).new_readings == 2
    await svc.stop()


async def test_set_machines_changes_which_machines_are_accepted(service: IngestService) -> None:
    service.set_machines([m for m in MACHINES if m.id != "mill-01"])
    with pytest.raises(InvalidInput):
        service.validate(TelemetryBatch(readings=[reading()]))


def test_columns_hold_one_entry_per_value_with_millisecond_times(store: Any) -> None:
    svc = IngestService(Settings(), store, MACHINES)
    ts = datetime(2026, 1, 2, 3, 4, 5, 678_999, tzinfo=UTC)
    cols, events = svc.validate(TelemetryBatch(readings=[reading(ts=ts, torque=1.0, power=2.0)]))
    assert cols.machine_ids == ["mill-01", "mill-01"]
    assert cols.sensors == ["torque", "power"]
    assert cols.values == [1.0, 2.0]
    assert cols.ts_ms == [int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()) * 1000 + 678] * 2
    assert events == []


async def test_batches_queued_behind_a_write_are_committed_together_each_with_its_own_result() -> None:
    blocked = BlockedStore()
    svc = IngestService(Settings(), blocked, MACHINES)  # type: ignore[arg-type]
    await svc.start()
    seen: list[int] = []

    async def listener(batch: TelemetryBatch, new: int) -> None:
        seen.append(len(batch.readings))

    svc.add_listener(listener)
    sizes = [1, 2, 3, 4]
    tasks = [asyncio.create_task(svc.ingest(TelemetryBatch(readings=[reading()] * sizes[0])))]
    await blocked.entered.wait()  # the first is in the store; the others queue behind it, in order
    for n in sizes[1:]:
        tasks.append(asyncio.create_task(svc.ingest(TelemetryBatch(readings=[reading()] * n))))
        await until(lambda: svc.queue_depth == len(tasks) - 1)
    blocked.release.set()
    results = await asyncio.gather(*tasks)
    assert [r.new_readings for r in results] == [2 * n for n in sizes]
    assert blocked.groups == [1, 3]  # the first alone, the three that queued behind it in one transaction
    assert seen == sizes  # listeners still see every batch, in order
    await svc.stop()


class PickyStore:
    """Refuses every batch with an odd number of values, stores the rest."""

    async def write_batches(self, batches: Sequence[tuple[ReadingColumns, Sequence[Event]]]) -> list[int | Exception]:
        return [OSError("odd") if len(r) % 2 else len(r) for r, _ in batches]


async def test_a_batch_refused_by_the_store_fails_only_its_own_caller() -> None:
    svc = IngestService(Settings(), PickyStore(), MACHINES)  # type: ignore[arg-type]
    await svc.start()
    odd = TelemetryBatch(readings=[reading(torque=1.0)])
    even = TelemetryBatch(readings=[reading()])
    results = await asyncio.gather(svc.ingest(even), svc.ingest(odd), svc.ingest(even), return_exceptions=True)
    assert isinstance(results[1], OSError)
    assert [r.new_readings for r in (results[0], results[2])] == [2, 2]  # type: ignore[union-attr]
    assert svc.counters.rejected_batches == 1
    assert svc.counters.accepted_batches == 2
    await svc.stop()


@pytest.mark.parametrize(
    "ts",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),  # before year 1 once in UTC
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_a_reading_or_event_older_than_the_horizon_is_refused_naming_its_ts(store: Store, ts: datetime) -> None:
    svc = IngestService(Settings(), store, MACHINES)
    batch = TelemetryBatch(readings=[reading(ts=ts)], events=[Event(machine_id="mill-01", ts=ts, kind=EventKind.NOTE)])
    with pytest.raises(InvalidInput) as caught:
        svc.validate(batch)
    assert [p.loc for p in caught.value.problems] == [("readings", 0, "ts"), ("events", 0, "ts")]
    assert all("before 1970-01-01" in p.msg for p in caught.value.problems)


def test_the_horizon_is_a_setting(store: Store) -> None:
    old = datetime(1960, 1, 1, tzinfo=UTC)
    svc = IngestService(Settings(min_timestamp=datetime(1950, 1, 1, tzinfo=UTC)), store, MACHINES)
    cols, _ = svc.validate(TelemetryBatch(readings=[reading(ts=old)]))
    assert cols.ts_ms[0] < 0
    with pytest.raises(InvalidInput, match="before 1950"):
        svc.validate(TelemetryBatch(readings=[reading(ts=datetime(1949, 12, 31, tzinfo=UTC))]))


class ErrorStore:
    """A store that fails every batch with the given error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def write_batches(self, batches: Sequence[tuple[ReadingColumns, Sequence[Event]]]) -> list[int | Exception]:
        return [self.error for _ in batches]


@pytest.mark.parametrize("error", [StoreRejected("NUL in text"), StoreUnavailable("connection lost")])
async def test_a_store_error_reaches_the_caller_as_it_is_so_mqtt_can_tell_content_from_outage(
    error: Exception,
) -> None:
    svc = IngestService(Settings(), ErrorStore(error), MACHINES)  # type: ignore[arg-type]
    await svc.start()
    with pytest.raises(type(error)):
        await svc.ingest(TelemetryBatch(readings=[reading()]))
    assert svc.counters.rejected_batches == 1
    await svc.stop()


async def test_other_tasks_run_between_the_batches_of_one_group_and_listeners_keep_the_order() -> None:
    blocked = BlockedStore()
    svc = IngestService(Settings(), blocked, MACHINES)  # type: ignore[arg-type]
    await svc.start()
    log: list[str] = []

    async def listener(batch: TelemetryBatch, new: int) -> None:
        log.append(f"batch of {len(batch.readings)}")
        # another task that wants the loop now (a WebSocket sender, a request): it runs before the next batch
        asyncio.get_running_loop().call_soon(log.append, f"other task after {len(batch.readings)}")

    svc.add_listener(listener)
    tasks = [asyncio.create_task(svc.ingest(TelemetryBatch(readings=[reading()])))]
    await blocked.entered.wait()
    for n in (2, 3):
        tasks.append(asyncio.create_task(svc.ingest(TelemetryBatch(readings=[reading()] * n))))
        await until(lambda: svc.queue_depth == len(tasks) - 1)
    blocked.release.set()
    await asyncio.gather(*tasks)
    assert blocked.groups == [1, 2]
    assert [e for e in log if e.startswith("batch")] == ["batch of 1", "batch of 2", "batch of 3"]
    assert log.index("other task after 2") < log.index("batch of 3")  # within the group of two
    await svc.stop()
