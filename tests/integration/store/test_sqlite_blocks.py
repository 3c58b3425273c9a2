"""SQLite's blocks: a dense batch's runs of new readings of a series are stored as one row of two arrays, every other
reading as rows; whatever order batches, resends and late readings come in, a reading is stored once (the first
value sent wins), and every read (history raw and rolled up, the raw window, the span, the latest value, the
counts) sees blocks and rows alike, across the hot partition's move, the refresh and a restart."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta

import pytest

from factorytwin.layout import load_layout
from factorytwin.store import HistoryQuery, sqlite_blocks
from factorytwin.store._rows import from_ms
from factorytwin.store.sqlite import SQLiteStore
from tests.integration.store.rows import T0, T0_MS, columns, sqlite_readings

SERIES = (("mill-01", "power"), ("mill-01", "torque"), ("pump-01", "power"))


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


def _blocks(store: SQLiteStore) -> list[tuple[int, int, int]]:
    """(t0, t1, n) of every block, in key order."""
    conn = sqlite3.connect(store.path)
    try:
        return [tuple(r) for r in conn.execute("SELECT t0, t1, n FROM readings_blocks ORDER BY machine, sensor, t0")]
    finally:
        conn.close()


def _seconds(seconds: range | list[int], value: float = 1.0) -> list[tuple[str, str, int, float]]:
    return [(m, s, T0_MS + t * 1_000, value + t) for t in seconds for m, s in SERIES]


async def test_a_dense_batch_is_stored_as_blocks_and_a_resend_adds_nothing(store: SQLiteStore) -> None:
    assert await store.write_batch(columns(_seconds(range(60)))) == 180
    assert _blocks(store) == [(T0_MS, T0_MS + 59_000, 60)] * 3
    assert await store.write_batch(columns(_seconds(range(60), value=9.0))) == 0  # the first value stays
    assert await store.write_batch(columns(_seconds(range(50, 70)))) == 3 * 10  # seconds 60-69 only, as rows
    assert len(_blocks(store)) == 3
    assert await store.write_batch(columns(_seconds(range(70, 80)))) == 30  # after everything: a block again
    assert len(_blocks(store)) == 6
    window = await store.read_range("mill-01", T0, T0 + timedelta(minutes=2))
    assert window.ts_ms == [T0_MS + t * 1_000 for t in range(80) for _ in range(2)]
    assert window.values[:4] == [1.0, 1.0, 2.0, 2.0]
    assert (await store.stats()).readings == len(sqlite_readings(store.path)) == 240


async def test_a_long_run_is_cut_into_blocks_of_the_maximum(store: SQLiteStore) -> None:
    size = sqlite_blocks.BLOCK_MAX_READINGS
    run = [("mill-01", "power", T0_MS + t * 1_000, float(t)) for t in range(2 * size + 7)]
    assert await store.write_batch(columns(run)) == len(run)
    second = T0_MS + size * 1_000
    assert _blocks(store) == [
        (T0_MS, second - 1_000, size),
        (second, second + (size - 1) * 1_000, size),
        (second + size * 1_000, second + (size + 6) * 1_000, 7),
    ]
    window = await store.read_range("mill-01", T0 + timedelta(seconds=size - 2), T0 + timedelta(seconds=size + 2))
    assert window.values == [float(t) for t in range(size - 2, size + 2)]


async def test_a_run_in_a_gap_is_a_block_and_one_overlapping_anything_is_rows(store: SQLiteStore) -> None:
    assert await store.write_batch(columns(_seconds(range(100, 160)))) == 180  # concurrent requests: the later first
    assert await store.write_batch(columns(_seconds(range(0, 40)))) == 120  # the gap before it
    assert await store.write_batch(columns(_seconds([70]))) == 3  # thin: a row in the gap that is left
    assert await store.write_batch(columns(_seconds(range(60, 80)))) == 57  # overlaps that row: rows
    assert await store.write_batch(columns(_seconds(range(40, 60)))) == 60  # the gap between two blocks
    assert await store.write_batch(columns(_seconds(range(150, 170)))) == 30  # overlaps a block's end: rows
    mill_power = _blocks(store)[:3]  # the first series
    assert mill_power == [
        (T0_MS + a * 1_000, T0_MS + b * 1_000, n) for a, b, n in ((0, 39, 40), (40, 59, 20), (100, 159, 60))
    ]
    window = await store.read_range("pump-01", T0, T0 + timedelta(minutes=3))
    assert window.ts_ms == [T0_MS + t * 1_000 for t in range(80)] + [T0_MS + t * 1_000 for t in range(100, 170)]


async def test_late_readings_between_a_blocks_times_are_rows_and_reads_merge_them(store: SQLiteStore) -> None:
    assert await store.write_batch(columns(_seconds(range(0, 120, 2)))) == 180  # even seconds: blocks
    assert await store.write_batch(columns(_seconds([1, 3, 2, 119]))) == 9  # odd ones late, 2 stored already
    assert len(_blocks(store)) == 3
    window = await store.read_range("mill-01", T0, T0 + timedelta(seconds=5), sensors=["power"])
    assert window.ts_ms == [T0_MS + t * 1_000 for t in range(5)]
    query = HistoryQuery(machine_id="mill-01", sensor="power", start=T0, end=T0 + timedelta(minutes=2), points=2)
    assert [(b.min, b.max, b.count) for b in await store.history(query)] == [(1.0, 59.0, 32), (61.0, 120.0, 31)]
    assert (await store.latest("mill-01"))["power"].value == 120.0  # second 119, a row after the block's end
    span = await store.reading_span("mill-01", T0 + timedelta(seconds=3), T0 + timedelta(seconds=9))
    assert span == (T0 + timedelta(seconds=3), T0 + timedelta(seconds=8))
    assert await store.reading_span("mill-01", T0 + timedelta(hours=1), T0 + timedelta(hours=2)) is None


async def test_blocks_are_found_again_after_a_restart(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    store = SQLiteStore(path)
    await store.open()
    await store.register_machines(load_layout().machines)
    await store.write_batch(columns(_seconds(range(60))))
    await store.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        thin = [("mill-01", "power", T0_MS + 30_000, 5.0), ("pump-01", "power", T0_MS + 90_000, 5.0)]
        assert await store.write_batch(columns(thin)) == 1  # second 30 is in a block
        assert await store.write_batch(columns(_seconds(range(60)))) == 0
        assert len(sqlite_readings(path)) == 181
    finally:
        await store.close()


async def test_a_block_never_spans_a_reading_the_hot_partition_moved_into_readings(store: SQLiteStore) -> None:
    one = [("mill-01", "power")]

    def run(seconds: range) -> list[tuple[str, str, int, float]]:
        return [(m, s, T0_MS + t * 1_000, 1.0) for t in seconds for m, s in one]

    assert await store.write_batch(columns(run(range(20)))) == 20  # a block
    assert await store.write_batch(columns(run(range(100, 101)))) == 1  # thin: the hot partition
    assert await store.move_hot() == 1  # second 100 is in readings now
    assert await store.write_batch(columns(run(range(20, 40)))) == 20  # before it: rows, not a block
    assert await store.write_batch(columns(run(range(40, 121)))) == 80  # second 100 is not stored again
    assert len(sqlite_readings(store.path)) == 121 == len({r[2] for r in sqlite_readings(store.path)})


async def test_a_run_with_a_repeated_time_or_too_short_is_not_a_block(store: SQLiteStore) -> None:
    twice = [("mill-01", "power", T0_MS + t * 1_000, float(t)) for t in [*range(20), 5]]
    twice[-1] = ("mill-01", "power", T0_MS + 5_000, 99.0)
    assert await store.write_batch(columns(twice)) == 20  # the first value of second 5 stays
    short = [("pump-01", "power", T0_MS + t * 1_000, 1.0) for t in range(sqlite_blocks.BLOCK_MIN_READINGS - 1)]
    assert await store.write_batch(columns(short)) == len(short)
    assert _blocks(store) == []
    assert (await store.read_range("mill-01", T0, T0 + timedelta(seconds=6))).values[5] == 5.0


@pytest.mark.parametrize("seed", range(6))
async def test_any_order_of_batches_stores_each_reading_once_and_every_read_agrees(sqlite_url: str, seed: int) -> None:
    """Random dense, thin, resent and late batches, moves, refreshes and a restart, against a model of what the
    store must hold (the first value sent for a key)."""
    rng = random.Random(seed)
    path = sqlite_url.removeprefix("sqlite:///")
    store = SQLiteStore(path)
    await store.open()
    await store.register_machines(load_layout().machines)
    model: dict[tuple[str, str, int], float] = {}
    clock = 0
    try:
        for step in range(40):
            kind = rng.choice(("dense", "dense", "thin", "resend", "late"))
            if kind == "dense":
                seconds = list(range(clock, clock + rng.randint(5, 40)))
                clock = seconds[-1] + 1
            elif kind == "thin":
                seconds = [clock]
                clock += 1
            elif kind == "resend":
                seconds = list(range(max(0, clock - rng.randint(1, 60)), clock))
            else:
                seconds = sorted(rng.sample(range(0, clock + 1), min(clock + 1, rng.randint(1, 30))))
            series = rng.sample(SERIES, rng.randint(1, len(SERIES)))
            rows = [(m, s, T0_MS + t * 1_000, float(rng.randint(0, 99))) for t in seconds for m, s in series]
            rng.shuffle(rows)
            expected = 0
            for m, s, ts, value in rows:
                if (m, s, ts) not in model:
                    model[m, s, ts] = value
                    expected += 1
            assert await store.write_batch(columns(rows)) == expected, (step, kind)
            if rng.random() < 0.15:
                await store.move_hot()
            if rng.random() < 0.15:
                await store.refresh_rollups(10**12)
            if step == 20:
                await store.close()
                store = SQLiteStore(path)
                await store.open()
        codes = store.codes
        stored = {(m, s, ts): v for m, s, ts, v in sqlite_readings(path)}
        names = {(codes.machines[m], codes.sensors[s]): (m, s) for m, s in SERIES}
        assert len(stored) == len(sqlite_readings(path)) == len(model) == (await store.stats()).readings
        assert {(*names[k[0], k[1]], k[2]): v for k, v in stored.items()} == model
        end = T0 + timedelta(seconds=clock + 1)
        for m, s in SERIES:
            mine = sorted((ts, v) for (mm, ss, ts), v in model.items() if (mm, ss) == (m, s))
            window = await store.read_range(m, T0, end, sensors=[s])
            assert list(zip(window.ts_ms, window.values, strict=True)) == mine
            if not mine:
                continue
            assert (await store.latest(m))[s].value == mine[-1][1]
            machine_ts = [ts for (mm, _, ts) in model if mm == m]
            span = await store.reading_span(m, T0, end)
            assert span == (from_ms(min(machine_ts)), from_ms(max(machine_ts)))
            for refreshed in (False, True):
                query = HistoryQuery(machine_id=m, sensor=s, start=T0, end=end, points=1)
                [bucket] = await store.history(query)
                values = [v for _, v in mine]
                assert (bucket.count, bucket.min, bucket.max) == (len(values), min(values), max(values))
                assert bucket.avg == pytest.approx(sum(values) / len(values))
                if not refreshed:
                    await store.refresh_rollups(10**12)
    finally:
        await store.close()
