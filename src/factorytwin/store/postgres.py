"""PostgreSQL backend (asyncpg): a connection pool, bulk inserts of whole columns, versioned migrations.

Batches of readings and events are written by ``pg_ingest`` (binary ``COPY``, a resend through ``INSERT ... ON
CONFLICT DO NOTHING``, three round trips for a group of one batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from factorytwin.domain import Alarm, Event, Machine, all_sensor_keys
from factorytwin.errors import NotFound
from factorytwin.store import pg_ingest, rollup
from factorytwin.store._rows import (
    ALARM_COLUMNS,
    MACHINE_COLUMNS,
    alarm_from_row,
    alarm_row,
    event_from_row,
    event_row,
    from_ms,
    latest_values,
    machine_from_row,
    machine_row,
    models_from_rows,
    query_buckets,
    to_ms,
)
from factorytwin.store.base import (
    MAX_ID,
    AlarmQuery,
    Batch,
    EventCursor,
    EventQuery,
    HistoryBucket,
    HistoryQuery,
    KpiRows,
    LatestValue,
    ReadingColumns,
    StoreStats,
)
from factorytwin.store.codes import Dictionary, alarm_filter, event_filter, searchable
from factorytwin.store.common import StoreCommon
from factorytwin.store.kpi_rows import (
    POSTGRES_ALARMS,
    POSTGRES_BEFORE,
    POSTGRES_COUNTS,
    POSTGRES_EVENTS_SINCE,
    POSTGRES_STATUS,
    POSTGRES_XMIN,
    status_row,
    storable_ids,
)
from factorytwin.store.pg_ingest import INSERT_EVENT, ROLLUP_LOCK
from factorytwin.store.profiles_rows import seed_bundled_postgres
from factorytwin.store.schema import HISTORY_SQL, LATEST_SQL, POSTGRES_MIGRATIONS
from factorytwin.store.translate import translate_postgres, translate_results, translated

_EVENT_COLS = "id, machine_id, ts, kind, status, message, data::text"
_ALARM_SELECT = f"SELECT id, {', '.join(ALARM_COLUMNS)} FROM alarms"


async def _reconnect(store: Any) -> None:
    pool = getattr(store, "_pool", None)
    if pool is not None:
        await pool.expire_connections()


_pg = translated(translate_postgres, on_unavailable=_reconnect)
_MIGRATION_LOCK = 0x46547769  # advisory lock id: two processes opening one database migrate one after the other
_HISTORY = HISTORY_SQL.format(
    readings="readings",
    origin="$1::bigint",
    points="$2::bigint",
    span="$3::bigint",
    machine="$4",
    sensor="$5",
    start="$6::bigint",
    end="$7::bigint",
)
_DIRTY_IN_RANGE = rollup.DIRTY_IN_RANGE_SQL.format(machine="$1", sensor="$2", m0="$3", m1="$4")
_RAW_RANGES = """
SELECT ((r.ts - $1::bigint) * $2::bigint) / $3::bigint AS bucket, min(r.value), max(r.value), sum(r.value), count(*)
FROM unnest($6::bigint[], $7::bigint[]) AS j(lo, hi)
CROSS JOIN LATERAL (
  SELECT ts, value FROM readings WHERE machine = $4 AND sensor = $5 AND ts >= j.lo AND ts < j.hi OFFSET 0) AS r
GROUP BY bucket
"""
# OFFSET 0 keeps the subquery from being flattened: one index range scan per range whatever the statistics say
# (on a fresh table the planner believes it holds a handful of rows and would filter the whole series per range).


def _level_ranges(level: rollup.Level, skip_dirty: bool) -> str:
    select, in_one_bucket = rollup.level_sql(level, "r", "$1::bigint", "$2::bigint", "$3::bigint")
    col = level.column
    skip = f" AND r.{col} <> ALL($8::bigint[])" if skip_dirty else ""
    return f"""SELECT {select}
FROM unnest($6::bigint[], $7::bigint[]) AS j(lo, hi)
CROSS JOIN LATERAL (
  SELECT {col}, vmin, vmax, vsum, n FROM {level.table}
  WHERE machine = $4 AND sensor = $5 AND {col} >= j.lo AND {col} < j.hi OFFSET 0) AS r
WHERE {in_one_bucket}{skip}
GROUP BY bucket"""


_LEVEL_RANGES = {(level, skip): _level_ranges(level, skip) for level in rollup.LEVELS for skip in (False, True)}
_REFRESH = (
    "INSERT INTO rollup_1m (machine, sensor, minute, vmin, vmax, vsum, n) "
    + rollup.REFRESH_SQL.format(readings="readings", machine="$1", sensor="$2", lo="$3", hi="$4")
    + " ON CONFLICT (machine, sensor, minute) DO UPDATE SET vmin = excluded.vmin, vmax = excluded.vmax, "
    "vsum = excluded.vsum, n = excluded.n"
)
_ROLL_UP = {
    (fine, coarse): f"INSERT INTO {coarse.table} (machine, sensor, {coarse.column}, vmin, vmax, vsum, n) "
    + rollup.roll_up_sql(fine, coarse, "$1", "$2", "$3", "$4")
    + f" ON CONFLICT (machine, sensor, {coarse.column}) DO UPDATE SET vmin = excluded.vmin, vmax = excluded.vmax, "
    "vsum = excluded.vsum, n = excluded.n"
    for fine, coarse in rollup.COARSER
}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release, in place of asyncpg's reset query (``SELECT pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL``), a round trip on every release: the ingest writer's and every request's token
    lookup. The store leaves no session state behind to reset: its advisory locks are transaction-scoped, and it
    opens no cursor, LISTENs to nothing and SETs nothing. The pool still rolls back a transaction left open."""


_RANGE = (
    "SELECT r.sensor, r.ts, r.value FROM sensors s CROSS JOIN LATERAL (SELECT sensor, ts, value FROM readings "
    "WHERE machine = $1 AND sensor = s.num AND ts >= $2 AND ts < $3 OFFSET 0) AS r"
)
"""A machine's readings in ``[$2, $3)``, one index range scan per sensor of the dictionary. On the machine and a time
range alone PostgreSQL scanned the table (a parallel sequential scan: 37-47 ms for one minute in a table of a
million readings, growing with the table; 0.6 ms now); ``OFFSET 0`` keeps the subquery from being flattened into a
join, which it planned as that scan again."""


class PostgresStore(StoreCommon):
    """The server store (``postgresql://user@host:port/db``)."""

    backend = "postgresql"

    def __init__(self, dsn: str, min_size: int = 1, max_size: int = 4) -> None:
        self.dsn = dsn
        self.codes = Dictionary()
        self._min_size, self._max_size = min_size, max_size
        self._pool: asyncpg.Pool | None = None
        self._refresher: asyncio.Task[None] | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool; raises when the store is not open."""
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool

    @_pg
    async def open(self) -> None:
        """Connect, apply pending migrations under an advisory lock, load the dictionaries."""
        # No JIT: our statements are short; compiling them costs more than it saves (0.5 s on a history query).
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=self._min_size,
            max_size=self._max_size,
            server_settings={"jit": "off"},
            reset=_keep_session,
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
            for number, step in enumerate(POSTGRES_MIGRATIONS, start=1):
                if number > version:
                    for statement in step:
                        await conn.execute(statement)
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
            await conn.executemany(
                "INSERT INTO sensors (key) VALUES ($1) ON CONFLICT (key) DO NOTHING", [(k,) for k in all_sensor_keys()]
            )
            await seed_bundled_postgres(conn, datetime.now(UTC))
        await self._load_codes()
        self._refresher = asyncio.create_task(self._refresh_loop(), name="ft-postgres-rollup")

    async def _load_codes(self) -> None:
        async with self.pool.acquire() as conn:
            machines = await conn.fetch("SELECT id, num FROM machines")
            sensors = await conn.fetch("SELECT key, num FROM sensors")
        self.codes.load(machines=machines, sensors=sensors)

    async def close(self) -> None:
        """Close the pool after in-flight queries finish."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @_pg
    async def register_machines(self, machines: Sequence[Machine]) -> None:
        """Insert or update machines by id (a retired one comes back); their dictionary numbers never change."""
        rows = [machine_row(m) for m in machines]
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                f"INSERT INTO machines ({MACHINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, line = excluded.line, "
                "x = excluded.x, y = excluded.y, rotation = excluded.rotation, metadata = excluded.metadata, "
                "bands = excluded.bands, retired = 0",
                rows,
            )
        await self._load_codes()

    @_pg
    async def retire_machine(self, machine_id: str) -> bool:
        """Take a machine off the plant, keeping its history; False when there is no such (unretired) machine."""
        status = await self.pool.execute("UPDATE machines SET retired = 1 WHERE id = $1 AND retired = 0", machine_id)
        return bool(status != "UPDATE 0")

    @_pg
    async def register_sensors(self, keys: Sequence[str]) -> None:
        """Add sensor keys to the store's dictionary (a profile's new sensors); known keys keep their numbers."""
        if any(k not in self.codes.sensors for k in keys):
            await self.pool.executemany(
                "INSERT INTO sensors (key) VALUES ($1) ON CONFLICT (key) DO NOTHING", [(k,) for k in keys]
            )
            await self._load_codes()

    @_pg
    async def reload_codes(self) -> None:
        """Read the machine and sensor dictionaries again: another process sharing the database registered some."""
        await self._load_codes()

    @_pg
    async def machines(self) -> list[Machine]:
        """Every machine on the plant (not retired), in id order."""
        rows = await self.pool.fetch(
            "SELECT id, name, kind, line, x, y, rotation, metadata::text, bands FROM machines WHERE retired = 0 "
            "ORDER BY id"
        )
        return models_from_rows(rows, machine_from_row, "machine")

    @_pg
    async def write_batches(self, batches: Sequence[Batch]) -> list[int | Exception]:
        """Store batches in one transaction, each all-or-nothing (a savepoint each); per batch: new count or error."""
        async with self.pool.acquire() as conn:
            results = await pg_ingest.write_batches(conn, self.codes, batches)
        return translate_results(results, translate_postgres)

    @_pg
    async def latest(self, machine_id: str) -> dict[str, LatestValue]:
        """The newest value of each sensor of a machine ({} for an unknown machine)."""
        num = self.codes.machine_num(machine_id)
        if num is None:
            return {}
        rows = await self.pool.fetch(LATEST_SQL.format(join="JOIN", readings="readings", machine="$1"), num)
        return latest_values(rows)

    @_pg
    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        """Min/max/avg/count per non-empty bucket, computed by PostgreSQL in one grouped range scan."""
        machine = self.codes.machine_num(query.machine_id)
        sensor = self.codes.sensor_num(query.sensor)
        if machine is None or sensor is None:
            return []
        b = query_buckets(query)
        plan = rollup.plan_buckets(b)
        whole = (b.origin, b.points, b.span, machine, sensor, b.start, b.end)
        rows: list[Any]
        if plan is None:
            rows = await self.pool.fetch(_HISTORY, *whole)
        else:
            m0, m1 = plan.first_minute, plan.end_minute
            # One snapshot for the dirty marks, the rollup levels and the raw part.
            async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
                dirty = [r[0] for r in await conn.fetch(_DIRTY_IN_RANGE, machine, sensor, m0, m1)]
                if len(dirty) > rollup.MAX_DIRTY_EXCLUDED:
                    rows = await conn.fetch(_HISTORY, *whole)
                else:
                    parts = plan.parts(dirty)
                    args = whole[:5]
                    found = []
                    for part in parts.levels:
                        los, his = [lo for lo, _ in part.ranges], [hi for _, hi in part.ranges]
                        extra = (part.dirty,) if part.dirty else ()
                        sql = _LEVEL_RANGES[part.level, bool(part.dirty)]
                        found.append(await conn.fetch(sql, *args, los, his, *extra))
                    if parts.raw:  # aligned buckets on whole minutes leave nothing raw: one round trip less
                        los, his = [lo for lo, _ in parts.raw], [hi for _, hi in parts.raw]
                        found.append(await conn.fetch(_RAW_RANGES, *args, los, his))
                    rows = rollup.merge(*found)
        return [HistoryBucket(ts=from_ms(b.start_of(r[0])), min=r[1], max=r[2], avg=r[3], count=r[4]) for r in rows]

    @_pg
    async def refresh_rollups(self, before_minute: int | None = None) -> int:
        """Recompute dirty rollup minutes before ``before_minute`` (default: the closed ones); return how many."""
        if before_minute is None:
            before_minute = int(time.time()) // 60 - 1
        done = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", ROLLUP_LOCK)
                marks = await conn.fetch(
                    "SELECT machine, sensor, minute FROM rollup_dirty WHERE minute < $1 "
                    "ORDER BY machine, sensor, minute LIMIT $2",
                    before_minute,
                    rollup.REFRESH_LIMIT,
                )
                minute_runs = rollup.group_runs(marks)
                for machine, sensor, first, last in minute_runs:
                    lo, hi = first * rollup.MINUTE_MS, (last + 1) * rollup.MINUTE_MS
                    await conn.execute(_REFRESH, machine, sensor, lo, hi)
                    await conn.execute(
                        "DELETE FROM rollup_dirty WHERE machine = $1 AND sensor = $2 AND minute BETWEEN $3 AND $4",
                        machine,
                        sensor,
                        first,
                        last,
                    )
                unit_runs = minute_runs
                for fine, coarse in rollup.COARSER:  # the hours of those minutes, then the days of those hours
                    ratio = coarse.unit_ms // fine.unit_ms
                    unit_runs = rollup.coarse_runs(unit_runs, fine, coarse)
                    for machine, sensor, first, last in unit_runs:
                        await conn.execute(_ROLL_UP[fine, coarse], machine, sensor, first * ratio, (last + 1) * ratio)
            done += len(marks)
            if len(marks) < rollup.REFRESH_LIMIT:
                return done

    @_pg
    async def read_range(
        self, machine_id: str, start: datetime, end: datetime, sensors: Sequence[str] | None = None
    ) -> ReadingColumns:
        """Raw readings of a machine in ``[start, end)``, ordered by time then sensor."""
        machine = self.codes.machine_num(machine_id)
        out = ReadingColumns()
        if machine is None:
            return out
        sql = _RANGE
        args: list[Any] = [machine, to_ms(start), to_ms(end)]
        if sensors is not None:
            nums = [n for n in (self.codes.sensor_num(s) for s in sensors) if n is not None]
            if not nums:
                return out
            sql += " WHERE s.num = ANY($4::smallint[])"
            args.append(nums)
        rows = await self.pool.fetch(sql + " ORDER BY r.ts, r.sensor", *args)
        self.codes.decode_into(out, machine_id, rows)
        return out

    @_pg
    async def reading_span(self, machine_id: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """First and last reading time of a machine in ``[start, end)``: two index seeks per sensor."""
        machine = self.codes.machine_num(machine_id)
        if machine is None:
            return None
        bounds = "FROM readings r WHERE r.machine = $1 AND r.sensor = s.num AND r.ts >= $2 AND r.ts < $3"
        sql = f"SELECT MIN((SELECT MIN(r.ts) {bounds})), MAX((SELECT MAX(r.ts) {bounds})) FROM sensors s"
        row = await self.pool.fetchrow(sql, machine, to_ms(start), to_ms(end))
        return None if row is None or row[0] is None else (from_ms(row[0]), from_ms(row[1]))

    @_pg
    async def write_events(self, events: Sequence[Event]) -> list[Event]:
        """Append events; return them with their ids."""
        self.codes.check_event_machines(events)
        out: list[Event] = []
        async with self.pool.acquire() as conn, conn.transaction():
            for event in events:
                row = event_row(event)
                ev_id = await conn.fetchval(INSERT_EVENT + " RETURNING id", *row)
                if ev_id is None:  # stored before (same natural key): answer with the id it has
                    ev_id = await conn.fetchval("SELECT id FROM events WHERE natural_key = $1", row[-1])
                out.append(event.model_copy(update={"id": ev_id}))
        return out

    @_pg
    async def events(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, newest first."""
        if not searchable(query.machine_id):
            return []
        where, params = event_filter(query, "$")
        sql = f"SELECT {_EVENT_COLS} FROM events{where} ORDER BY ts DESC, id DESC LIMIT {query.limit}"
        return models_from_rows(await self.pool.fetch(sql, *params), event_from_row, "event")

    @_pg
    async def kpi_rows(
        self, machine_ids: Sequence[str], start: datetime, end: datetime, lookback: int
    ) -> dict[str, KpiRows]:
        """What the KPIs read, per machine: four statements over every machine at once, in one read-only
        repeatable-read transaction (one snapshot)."""
        out = {m: KpiRows() for m in machine_ids}
        ids = storable_ids(machine_ids)
        if not ids:
            return out
        lo, hi = to_ms(start), to_ms(end)
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            for r in await conn.fetch(POSTGRES_STATUS, ids, lo, hi):
                out[r[0]].status.append(status_row(r[1:]))
            for r in await conn.fetch(POSTGRES_BEFORE, ids, lo, lookback):
                out[r[0]].before.append(status_row(r[1:8]))
            for r in await conn.fetch(POSTGRES_COUNTS, ids, lo, hi):
                out[r[0]].counts.append((r[1], r[2], r[3], r[4]))
            for r in await conn.fetch(POSTGRES_ALARMS, ids, lo, hi):
                out[r[0]].alarms.append(r[1])
        return out

    @_pg
    async def events_after(self, cursor: EventCursor | None) -> tuple[EventCursor, dict[str, int]]:
        """See ``Store.events_after``. Concurrent writers commit in any order, so the cursor is the snapshot's oldest
        running transaction: the events of every transaction at or above it are read again next time (those
        already seen are skipped by id)."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            xmin = int(await conn.fetchval(POSTGRES_XMIN))  # first: the snapshot the read below sees
            mark = xmin if cursor is None else min(cursor.mark, xmin)
            rows = await conn.fetch(POSTGRES_EVENTS_SINCE, str(mark))
        seen = frozenset(r[0] for r in rows if r[3] >= xmin)
        written: dict[str, int] = {}
        if cursor is not None:
            for event_id, machine_id, ts, _ in rows:
                if event_id not in cursor.seen and ts < written.get(machine_id, ts + 1):
                    written[machine_id] = ts
        return EventCursor(xmin, seen), written

    @_pg
    async def alarm_times(self, machine_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, list[int]]:
        """Raise times of the alarms in ``[start, end)`` per machine (one statement)."""
        out: dict[str, list[int]] = {m: [] for m in machine_ids}
        ids = storable_ids(machine_ids)
        if ids:
            for r in await self.pool.fetch(POSTGRES_ALARMS, ids, to_ms(start), to_ms(end)):
                out[r[0]].append(r[1])
        return out

    @_pg
    async def save_alarm(self, alarm: Alarm) -> Alarm:
        """Insert (id None) or update an alarm; return it with its id."""
        values = alarm_row(alarm)
        if alarm.id is None:
            marks = ", ".join(f"${i}" for i in range(1, len(ALARM_COLUMNS) + 1))
            sql = f"INSERT INTO alarms ({', '.join(ALARM_COLUMNS)}) VALUES ({marks}) RETURNING id"
            return alarm.model_copy(update={"id": await self.pool.fetchval(sql, *values)})
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(ALARM_COLUMNS, start=1))
        status = await self.pool.execute(
            f"UPDATE alarms SET {sets} WHERE id = ${len(ALARM_COLUMNS) + 1}", *values, alarm.id
        )
        if status == "UPDATE 0":
            raise NotFound(f"no alarm with id {alarm.id}")
        return alarm

    @_pg
    async def alarms(self, query: AlarmQuery) -> list[Alarm]:
        """Alarms matching ``query``, newest first."""
        if not searchable(query.machine_id):
            return []
        where, params = alarm_filter(query, "$")
        sql = f"{_ALARM_SELECT}{where} ORDER BY raised_at DESC, id DESC LIMIT {query.limit}"
        return models_from_rows(await self.pool.fetch(sql, *params), alarm_from_row, "alarm")

    @_pg
    async def alarm(self, alarm_id: int) -> Alarm | None:
        """The alarm with this id, or None."""
        if not 0 <= alarm_id <= MAX_ID:
            return None
        rows = await self.pool.fetch(f"{_ALARM_SELECT} WHERE id = $1", alarm_id)
        found = models_from_rows(rows, alarm_from_row, "alarm")
        return found[0] if found else None

    @_pg
    async def stats(self) -> StoreStats:
        """Counts of machines, readings and events (readings from a counter kept at write time)."""
        row = await self.pool.fetchrow(
            "SELECT (SELECT count(*) FROM machines), (SELECT value FROM counters WHERE name = 'readings'), "
            "(SELECT count(*) FROM events)"
        )
        assert row is not None
        return StoreStats(machines=row[0], readings=row[1], events=row[2])
