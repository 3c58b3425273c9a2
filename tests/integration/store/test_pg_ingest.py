"""PostgreSQL batch ingest (``store.pg_ingest``) against the real server: the binary COPY payload, all-or-nothing
batches and groups, idempotent resends, the rollups kept at write time (and the marks of the INSERT path), round
trips."""

from __future__ import annotations

import asyncio
import math
import random
import struct
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from factorytwin.domain import Event, EventKind
from factorytwin.errors import StoreRejected
from factorytwin.layout import load_layout
from factorytwin.store import EventQuery, rollup
from factorytwin.store.pg_ingest import copy_payload, write_batches
from factorytwin.store.postgres import PostgresStore
from tests.integration.store.rows import T0, T0_MS, columns

pytestmark = pytest.mark.integration

I32, I16, I64 = 2**31, 2**15, 2**63
_TABLE = (
    "CREATE TABLE r (machine INTEGER NOT NULL, sensor SMALLINT NOT NULL, ts BIGINT NOT NULL, "
    "value DOUBLE PRECISION NOT NULL)"
)


@pytest.fixture
async def conn(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(postgres_url)
    await c.execute(_TABLE)
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    st = PostgresStore(postgres_url)
    await st.open()
    await st.register_machines(load_layout().machines)
    try:
        yield st
    finally:
        await st.close()


def _bits(x: float) -> int:
    return int(struct.unpack(">q", struct.pack(">d", x))[0])


async def _copy_back(conn: asyncpg.Connection, rows: list[tuple[int, int, int, float]]) -> list[Any]:
    machines, sensors, ts, values = (list(c) for c in zip(*rows, strict=True))
    status = await conn.copy_to_table(
        "r",
        source=copy_payload(machines, sensors, ts, values),
        columns=("machine", "sensor", "ts", "value"),
        format="binary",
    )
    assert status == f"COPY {len(rows)}"
    return list(await conn.fetch("SELECT machine, sensor, ts, value FROM r ORDER BY ts"))


async def test_the_payload_round_trips_the_extremes_of_every_column_exactly(conn: asyncpg.Connection) -> None:
    values = [
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        math.inf,
        -math.inf,
        math.nan,
        41.5,
        -1e-300,
    ]
    machines = [-I32, I32 - 1, 0, 1, -1, 7, 8, 9, 10, 11, 12, 13]
    sensors = [-I16, I16 - 1, 0, 1, -1, 2, 3, 4, 5, 6, 7, 8]
    ts = [-I64, I64 - 1, -1, 0, 1, -86_400_000, 1_700_000_000_000, 2, 3, 4, 5, 6]
    rows = list(zip(machines, sensors, ts, values, strict=True))
    got = await _copy_back(conn, rows)
    want = sorted(rows, key=lambda r: r[2])
    assert [(r[0], r[1], r[2]) for r in got] == [(m, s, t) for m, s, t, _ in want]
    for r, (_, _, _, v) in zip(got, want, strict=True):
        assert (math.isnan(r[3]) and math.isnan(v)) or _bits(r[3]) == _bits(v)  # -0.0 keeps its sign


async def test_the_payload_round_trips_random_rows_bit_for_bit(conn: asyncpg.Connection) -> None:
    rng = random.Random(15)
    rows = []
    for i in range(3_000):
        value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if math.isnan(value):
            value = float(i)
        rows.append((rng.randrange(-I32, I32), rng.randrange(-I16, I16), i * 7 - 10_000, value))
    got = await _copy_back(conn, rows)
    assert [(r[0], r[1], r[2], _bits(r[3])) for r in got] == [(m, s, t, _bits(v)) for m, s, t, v in rows]


@pytest.mark.parametrize(
    ("machine", "sensor", "ts"), [(I32, 0, 0), (-I32 - 1, 0, 0), (0, I16, 0), (0, -I16 - 1, 0), (0, 0, I64)]
)
def test_an_integer_outside_its_column_is_refused_before_anything_is_sent(machine: int, sensor: int, ts: int) -> None:
    with pytest.raises(OverflowError):
        copy_payload([1, machine], [1, sensor], [1, ts], [1.0, 2.0])


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="lengths"):
        copy_payload([1], [1, 2], [1], [1.0])


async def test_a_timestamp_beyond_bigint_rejects_its_batch_only(store: PostgresStore) -> None:
    good = columns([("mill-01", "torque", T0_MS + i, 1.0) for i in range(5)])
    bad = columns([("mill-01", "power", T0_MS, 1.0), ("mill-01", "power", I64, 1.0)])
    results = await store.write_batches([(good, ()), (bad, ()), (good, ())])
    assert results[0] == 5
    assert results[2] == 0
    assert isinstance(results[1], StoreRejected)
    assert (await store.stats()).readings == 5


async def _boom_on(store: PostgresStore, table: str, when: str) -> None:
    """A trigger that fails (SQLSTATE 22023, a data error) on ``table`` when ``when`` holds: a failure on the
    server after the batch's readings went in."""
    await store.pool.execute(
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = '22023'; END$$"
    )
    await store.pool.execute(
        f"CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION boom()"
    )


async def _dirty(store: PostgresStore) -> set[tuple[int, int, int]]:
    return {(r[0], r[1], r[2]) for r in await store.pool.fetch("SELECT machine, sensor, minute FROM rollup_dirty")}


async def _marks(store: PostgresStore, *batches: Any) -> set[tuple[int, int, int]]:
    out: set[tuple[int, int, int]] = set()
    for b in batches:
        machines, sensors = store.codes.encode(b)
        out.update(rollup.dirty_marks(machines, sensors, b.ts_ms))
    return out


Unit = tuple[int, int, int]
Agg = tuple[float, float, float, int]
_LEVELS = (("rollup_1m", "minute", 60_000), ("rollup_1h", "hour", 3_600_000), ("rollup_1d", "day", 86_400_000))


async def _levels(store: PostgresStore) -> dict[str, tuple[dict[Unit, Agg], dict[Unit, Agg]]]:
    """Per rollup table: (its rows, the aggregates of the readings computed by the database)."""
    out = {}
    for table, column, unit_ms in _LEVELS:
        rows = await store.pool.fetch(f"SELECT machine, sensor, {column}, vmin, vmax, vsum, n FROM {table}")
        raw = await store.pool.fetch(
            f"SELECT machine, sensor, ts / {unit_ms}, min(value), max(value), sum(value), count(*) FROM readings "
            "WHERE ts >= 0 GROUP BY 1, 2, 3"
        )
        out[table] = ({tuple(r[:3]): tuple(r[3:]) for r in rows}, {tuple(r[:3]): tuple(r[3:]) for r in raw})
    return out


def _same(a: Agg, b: Agg) -> bool:
    """min, max and count equal (NaN as NaN), the sum up to summation order."""

    def eq(x: float, y: float) -> bool:
        return (math.isnan(x) and math.isnan(y)) or x == y

    return eq(a[0], b[0]) and eq(a[1], b[1]) and a[3] == b[3] and (eq(a[2], b[2]) or a[2] == pytest.approx(b[2]))


async def _assert_exact(store: PostgresStore, dirty_allowed: bool = False) -> None:
    """Every rollup unit holds exactly the aggregate of its readings (with ``dirty_allowed``: every unit without a
    dirty minute; there must be none otherwise), and no unit has a row without readings."""
    dirty = await _dirty(store)
    if not dirty_allowed:
        assert dirty == set()
    levels = await _levels(store)
    for table, _, unit_ms in _LEVELS:
        rows, raw = levels[table]
        stale = {(m, s, minute * 60_000 // unit_ms) for m, s, minute in dirty}
        assert set(rows) - stale == set(raw) - stale, table
        wrong = {k: (rows[k], raw[k]) for k in set(raw) - stale if not _same(rows[k], raw[k])}
        assert wrong == {}, table


async def test_a_batch_failing_on_the_server_after_its_copy_leaves_nothing_and_its_neighbours_stay(
    store: PostgresStore,
) -> None:
    await store.pool.execute("DELETE FROM rollup_dirty")
    await _boom_on(store, "events", "NEW.message = 'boom'")
    first = columns([("mill-01", "torque", T0_MS + i * 1000, 1.0) for i in range(120)])
    failing = columns([("pump-01", "flow_rate", T0_MS + i * 1000, 2.0) for i in range(120)])
    last = columns([("mill-01", "power", T0_MS + 600_000 + i, 3.0) for i in range(10)])
    boom = Event(machine_id="pump-01", ts=T0, kind=EventKind.NOTE, message="boom")
    note = Event(machine_id="mill-01", ts=T0, kind=EventKind.NOTE, message="kept")
    results = await store.write_batches([(first, [note]), (failing, [boom]), (last, ())])
    assert results[0] == 120
    assert results[2] == 10
    assert isinstance(results[1], StoreRejected)
    assert len(await store.read_range("pump-01", T0, T0.replace(hour=23))) == 0
    assert len(await store.read_range("mill-01", T0, T0.replace(hour=23))) == 130
    assert [e.message for e in await store.events(EventQuery())] == ["kept"]
    assert (await store.stats()).readings == 130
    await _assert_exact(store)  # rolled up at write time, none of the failed batch's readings


async def test_a_group_failing_at_its_commit_stores_nothing_and_the_connection_is_clean(store: PostgresStore) -> None:
    await _boom_on(store, "counters", "NEW.value > 1000")
    small = columns([("mill-01", "torque", T0_MS + i, 1.0) for i in range(600)])
    big = columns([("mill-01", "power", T0_MS + i, 1.0) for i in range(600)])
    with pytest.raises(StoreRejected):
        await store.write_batches([(small, ()), (big, ())])
    assert (await store.stats()).readings == 0
    assert await store.pool.fetchval("SELECT count(*) FROM readings") == 0
    assert await _dirty(store) == set()
    assert await store.write_batches([(small, ())]) == [600]  # the pool's connection is not left in a transaction
    assert await store.pool.fetchval("SELECT count(*) FROM readings") == 600


async def test_resends_in_one_group_and_after_store_each_reading_once(store: PostgresStore) -> None:
    rows = [("mill-01", "torque", T0_MS + i * 997, float(i)) for i in range(500)]
    batch = columns(rows)
    partly = columns([*rows[400:], ("mill-01", "torque", T0_MS - 5, -1.0)])
    assert await store.write_batches([(batch, ()), (batch, ()), (partly, ())]) == [500, 0, 1]
    assert await _dirty(store) == await _marks(store, partly)  # stored by INSERT: marked, not rolled up
    await _assert_exact(store, dirty_allowed=True)  # the COPY batch rolled up once, not thrice
    assert await store.refresh_rollups(10**9) > 0
    await _assert_exact(store)
    assert await store.write_batches([(batch, ()), (partly, ())]) == [0, 0]
    await _assert_exact(store)  # a resend marks nothing and adds nothing
    got = await store.read_range("mill-01", T0.replace(hour=0), T0.replace(hour=23))
    assert got.values == [-1.0, *(float(i) for i in range(500))]
    assert (await store.stats()).readings == 501


async def test_a_group_stored_by_copy_is_rolled_up_at_write_time_and_marks_nothing(store: PostgresStore) -> None:
    await store.pool.execute("DELETE FROM rollup_dirty")
    a = columns([(m, "power", T0_MS + i * 20_000, float(i)) for m in ("mill-01", "pump-01") for i in range(9)])
    b = columns([("mill-01", "torque", -60_001 + i * 30_000, 1.0 + i) for i in range(5)])  # before 1970 too
    c = columns([("mill-01", "power", T0_MS + 3_600_000 * 30 + i * 7, -float(i)) for i in range(300)])  # a day on
    assert await store.write_batches([(a, ()), (b, ()), (c, ())]) == [18, 5, 300]
    await _assert_exact(store)
    assert await store.pool.fetchval("SELECT count(*) FROM rollup_1m WHERE minute < 0") == 0
    levels = await _levels(store)
    assert [len(levels[t][0]) for t, _, _ in _LEVELS] == [2 * 3 + 1 + 1, 2 + 1 + 1, 2 + 1 + 1]
    assert await store.refresh_rollups(10**9) == 0  # nothing left to recompute


async def test_later_batches_merge_into_the_rolled_up_units(store: PostgresStore) -> None:
    rng = random.Random(15)
    stamps = rng.sample(range(T0_MS - 30_000, T0_MS + 2 * 86_400_000), 3_000)
    for k in range(6):  # six batches over the same minutes, hours and days, each of new readings
        part = stamps[k * 500 : (k + 1) * 500]
        rows = [("mill-01", s, ts, round(rng.uniform(-9, 9), 2)) for ts in part for s in ("power", "torque")]
        assert await store.write_batch(columns(rows)) == 1_000
    await _assert_exact(store)
    assert max(r[0] for r in (await _levels(store))["rollup_1d"][0].values()) < 9  # sanity: values as written


async def test_doubles_of_every_kind_roll_up_as_the_database_aggregates_them(store: PostgresStore) -> None:
    # Huge, not the largest: a sum of finite doubles that overflows is an error in PostgreSQL (for sum() over the
    # readings as for the merge), and ingest bounds every value to its sensor's physical range long before.
    values = [0.0, -0.0, 5e-324, -5e-324, 1e300, 0.1, 1 / 3, math.pi, 2.2250738585072014e-308]
    rows = [("mill-01", "power", T0_MS + i * 1_000, v) for i, v in enumerate(values)]
    rows += [("pump-01", "flow_rate", T0_MS + i * 1_000, v) for i, v in enumerate([-1e300, -1.0])]
    rows += [("mill-01", "torque", T0_MS + i * 61_000, v) for i, v in enumerate([math.nan, 1.5, math.inf, -2.5])]
    rows += [("pump-01", "power", T0_MS + i, v) for i, v in enumerate([math.inf, -math.inf, math.nan, math.nan])]
    for i in range(3):
        assert await store.write_batch(columns([(m, s, ts + i * 100, v) for m, s, ts, v in rows])) == len(rows)
    await _assert_exact(store)


async def test_a_group_of_copied_and_inserted_batches_on_the_same_minutes(store: PostgresStore) -> None:
    first = columns([("mill-01", "torque", T0_MS + i * 1_000, float(i)) for i in range(180)])
    assert await store.write_batch(first) == 180
    copied = columns([("mill-01", "torque", T0_MS + i * 1_000 + 500, 2.0 * i) for i in range(180)])
    mixed = columns([("mill-01", "torque", T0_MS + i * 250, -float(i)) for i in range(720)])  # some stored before
    assert await store.write_batches([(copied, ()), (mixed, ())]) == [180, 360]
    assert await _dirty(store) == await _marks(store, mixed)
    await _assert_exact(store, dirty_allowed=True)
    await store.refresh_rollups(10**9)
    await _assert_exact(store)
    more = columns([("mill-01", "torque", T0_MS + i * 1_000 + 100, 7.0) for i in range(180)])
    assert await store.write_batch(more) == 180  # merged into the recomputed units
    await _assert_exact(store)


async def test_concurrent_writers_and_refreshes_on_the_same_units_lose_nothing(store: PostgresStore) -> None:
    rng = random.Random(16)
    stamps = rng.sample(range(T0_MS, T0_MS + 3 * 3_600_000), 8_000)
    chunks = [stamps[i : i + 400] for i in range(0, len(stamps), 400)]
    taken = set(stamps)
    sensors = ("power", "torque", "spindle_speed")
    stop = asyncio.Event()

    def batch(chunk: list[int]) -> Any:
        # the same series and minutes in every writer, in a different order each: row locks in key order or deadlock
        rows = [(m, s, ts, float(ts % 997)) for ts in chunk for m in ("pump-01", "mill-01") for s in sensors]
        rng.shuffle(rows)
        return columns(rows)

    async def writer(mine: list[list[int]]) -> None:
        for chunk in mine:
            assert await store.write_batch(batch(chunk)) == 6 * len(chunk)
            # A resend with some new readings, of the first ten minutes only: the INSERT path, marked; the other
            # minutes are never recomputed, so they must be exact from the merges alone.
            early = [ts for ts in chunk if ts < T0_MS + 600_000]
            if early:
                await store.write_batch(batch(early + [ts + 1 for ts in early if ts + 1 not in taken]))

    async def refresher() -> None:
        while not stop.is_set():
            await store.refresh_rollups(10**9)
            await asyncio.sleep(0)

    refreshing = asyncio.create_task(refresher())
    await asyncio.gather(*(writer(chunks[k::4]) for k in range(4)))
    stop.set()
    await refreshing
    await _assert_exact(store, dirty_allowed=True)
    await store.refresh_rollups(10**9)
    await _assert_exact(store)
    assert (await store.stats()).readings == await store.pool.fetchval("SELECT count(*) FROM readings")


class _Counting:
    """Stands in for an asyncpg connection's protocol and records each call that is one round trip."""

    TRIPS = frozenset({"query", "bind_execute", "bind_execute_many", "copy_in", "prepare", "close_statement"})

    def __init__(self, protocol: Any) -> None:
        self.protocol, self.trips = protocol, list[str]()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.protocol, name)
        if name not in self.TRIPS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.trips.append(name)
            return attr(*args, **kwargs)

        return call


async def test_a_group_of_k_new_batches_takes_2k_plus_1_round_trips(store: PostgresStore) -> None:
    # Pinned to asyncpg 0.32's Connection -> protocol calls (pyproject pins it), as tests/unit pins paho's.
    async with store.pool.acquire() as proxy:
        raw = proxy._con
        counting = _Counting(raw._protocol)
        raw._protocol = counting
        try:
            for k in (1, 3):
                batches = [
                    (columns([("mill-01", "torque", T0_MS + 10_000 * (k + j) + i, 1.0) for i in range(50)]), ())
                    for j in range(k)
                ]
                counting.trips.clear()
                assert await write_batches(raw, store.codes, batches) == [50] * k
                assert len(counting.trips) == 2 * k + 1, counting.trips
                assert counting.trips.count("copy_in") == k
        finally:
            raw._protocol = counting.protocol
