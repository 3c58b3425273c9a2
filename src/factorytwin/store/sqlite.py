"""SQLite backend: WAL, one dedicated writer thread and connection, reads on their own connections in threads.

Every write (batches, events, alarms, machines) runs on the single writer thread, so writes are serialised
without locks and never block the event loop; the durable commit (``synchronous=FULL``) happens before the
awaiting coroutine resumes. Reads run on a small pool of read-only connections, which WAL lets proceed while the
writer commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from factorytwin.domain import Alarm, Event, Machine
from factorytwin.errors import InvalidInput, NotFound, StoreUnavailable
from factorytwin.store import rollup, sqlite_blocks, sqlite_history
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
    EVENTS_AFTER,
    NEWEST_EVENT,
    SQLITE_ALARMS,
    SQLITE_BEFORE,
    SQLITE_COUNTS,
    SQLITE_STATUS,
    status_row,
    storable_ids,
)
from factorytwin.store.schema import LATEST_SQL
from factorytwin.store.sqlite_conn import open_writer, rollback, snapshot, with_tx
from factorytwin.store.translate import translate_results, translate_sqlite, translated

if TYPE_CHECKING:  # numpy is imported by the first write, not at start-up (tests/integration/api/test_startup.py)
    import numpy as np
    from numpy.typing import NDArray

T = TypeVar("T")
log = logging.getLogger(__name__)
_Encoded = tuple[list[int], list[int], ReadingColumns, Sequence[Event]]
READER_THREADS = 2
_INSERT_EVENT = (
    "INSERT INTO events (machine_id, ts, kind, status, message, data, natural_key) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (natural_key) DO NOTHING"
)
_EVENT_COLS = "id, machine_id, ts, kind, status, message, data"
_ALARM_SELECT = f"SELECT id, {', '.join(ALARM_COLUMNS)} FROM alarms"
_sqlite = translated(translate_sqlite)
_PARTITIONS = ("readings", "readings_hot")
REFRESH_MIN_CHUNKS = 4
REFRESH_SPREAD_ROUNDS = 6  # of the background refresh, every rollup.REFRESH_INTERVAL_S (5 s): half a minute
# Per partition apart (a join with the union view would materialise the machine's readings first), then the newer.
_LATEST = "SELECT key, max(ts), value FROM ({}) GROUP BY key".format(
    " UNION ALL ".join(LATEST_SQL.format(join="CROSS JOIN", readings=t, machine="?1") for t in _PARTITIONS)
)
_RANGE = (
    " UNION ALL ".join(
        f"SELECT r.sensor, r.ts, r.value FROM sensors s CROSS JOIN {t} r "
        f"ON r.machine = ?1 AND r.sensor = s.num AND r.ts >= ?2 AND r.ts < ?3{{only}}"
        for t in _PARTITIONS
    )
    + " ORDER BY 2, 1"
)
"""A machine's rows in ``[?2, ?3)`` by time then sensor: per partition and sensor one range seek (the sensors
outside; a range on time alone scanned every reading of the machine: 120 ms for one minute of a machine of a
million readings); ``{only}``: a condition on the sensors."""
_SPAN_BOUNDS = "FROM {} WHERE machine = ?1 AND sensor = s.num AND ts >= ?2 AND ts < ?3"
_READING_SPAN = "SELECT MIN(first), MAX(last) FROM ({})".format(
    " UNION ALL ".join(
        f"SELECT (SELECT MIN(ts) {b}) AS first, (SELECT MAX(ts) {b}) AS last FROM sensors s"
        for b in (_SPAN_BOUNDS.format(t) for t in _PARTITIONS)
    )
)


class SQLiteStore(StoreCommon):
    """The embedded default store, in one SQLite file (``sqlite:///path``)."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.codes = Dictionary()
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._wconn: sqlite3.Connection | None = None
        self._rconns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._refresher: asyncio.Task[None] | None = None
        self._marked = sqlite_history.Marked()  # writer thread only
        self._newest_minute = 0  # of the readings this store marked: where the data's clock is
        # The hot partition (writer thread only; each may be wider than the truth, never narrower): the newest time
        # in ``readings`` and the span of times in ``readings_hot`` (None: empty).
        self._main_max_ts = 2**63 - 1
        self._hot_span: tuple[int, int] | None = (-(2**63), 2**63 - 1)
        # The blocks (writer thread only; bounds at or above the truth): the newest time of any block, and per
        # series (machine * SERIES + sensor) the end of its newest block and the newest time in ``readings``.
        self._blocks_max_ts = 2**63 - 1
        self._block_ends = sqlite_blocks.SeriesEnds(sqlite_blocks.END)
        self._row_ends = sqlite_blocks.SeriesEnds(sqlite_blocks.ROWS_END)
        self._mover: asyncio.Task[None] | None = None

    # --- plumbing -------------------------------------------------------------------------------------------
    async def _on_writer(self, fn: Callable[..., T], *args: object) -> T:
        if self._writer is None:
            raise RuntimeError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    async def _on_reader(self, fn: Callable[..., T], *args: object) -> T:
        if self._readers is None:
            raise RuntimeError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._readers, fn, *args)

    def _w(self) -> sqlite3.Connection:
        assert self._wconn is not None
        return self._wconn

    def _r(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA cache_size = -32000")
            conn.execute("PRAGMA mmap_size = 268435456")
            self._local.conn = conn
            self._rconns.append(conn)
        return conn

    # --- lifecycle ------------------------------------------------------------------------------------------
    @_sqlite
    async def open(self) -> None:
        """Create the file if needed, switch to WAL, apply pending migrations and load the dictionaries."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ft-sqlite-writer")
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="ft-sqlite-reader")
        await self._on_writer(self._open_sync)
        self._refresher = asyncio.create_task(self._refresh_loop(), name="ft-sqlite-rollup")
        self._mover = asyncio.create_task(self._move_loop(), name="ft-sqlite-hot")

    def _open_sync(self) -> None:
        self._wconn = open_writer(self.path)
        self._load_codes_sync()
        conn = self._w()
        self._main_max_ts = conn.execute("SELECT value FROM counters WHERE name = 'readings_max_ts'").fetchone()[0]
        lo, hi = conn.execute("SELECT min(ts), max(ts) FROM readings_hot").fetchone()
        self._hot_span = None if lo is None else (lo, hi)
        self._blocks_max_ts = conn.execute("SELECT value FROM counters WHERE name = 'blocks_max_ts'").fetchone()[0]
        self._block_ends.clear()
        self._row_ends.clear()

    def _load_codes_sync(self) -> None:
        conn = self._w()
        self.codes.load(
            machines=conn.execute("SELECT id, num FROM machines").fetchall(),
            sensors=conn.execute("SELECT key, num FROM sensors").fetchall(),
        )

    async def close(self) -> None:
        """Finish queued writes, then close every connection."""
        for task in (self._refresher, self._mover):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._refresher = self._mover = None
        if self._writer is not None:
            await self._on_writer(self._close_writer_sync)
            self._writer.shutdown(wait=True)
            self._writer = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        for conn in self._rconns:
            conn.close()
        self._rconns.clear()

    def _close_writer_sync(self) -> None:
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None

    # --- machines -------------------------------------------------------------------------------------------
    @_sqlite
    async def register_machines(self, machines: Sequence[Machine]) -> None:
        """Insert or update machines by id (a retired one comes back); their dictionary numbers never change."""
        rows = [machine_row(m) for m in machines]
        await self._on_writer(self._register_sync, rows)

    def _register_sync(self, rows: list[tuple[object, ...]]) -> None:
        conn = self._w()
        with_tx(
            conn,
            lambda: conn.executemany(
                f"INSERT INTO machines ({MACHINE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, line = excluded.line, "
                "x = excluded.x, y = excluded.y, rotation = excluded.rotation, metadata = excluded.metadata, "
                "bands = excluded.bands, retired = 0",
                rows,
            ),
        )
        self._load_codes_sync()

    @_sqlite
    async def retire_machine(self, machine_id: str) -> bool:
        """Take a machine off the plant, keeping its history; False when there is no such (unretired) machine."""
        return await self._on_writer(self._retire_sync, machine_id)

    def _retire_sync(self, machine_id: str) -> bool:
        sql = "UPDATE machines SET retired = 1 WHERE id = ? AND retired = 0"  # one statement: autocommitted
        return self._w().execute(sql, (machine_id,)).rowcount > 0

    @_sqlite
    async def register_sensors(self, keys: Sequence[str]) -> None:
        """Add sensor keys to the store's dictionary (a profile's new sensors); known keys keep their numbers."""
        await self._on_writer(self._register_sensors_sync, list(keys))

    @_sqlite
    async def reload_codes(self) -> None:
        """Read the machine and sensor dictionaries again: another process sharing the database registered some."""
        await self._on_writer(self._load_codes_sync)

    def _register_sensors_sync(self, keys: list[str]) -> None:
        conn = self._w()
        if any(k not in self.codes.sensors for k in keys):
            sql = "INSERT OR IGNORE INTO sensors (key) VALUES (?)"
            with_tx(conn, lambda: conn.executemany(sql, [(k,) for k in keys]))
            self._load_codes_sync()

    @_sqlite
    async def machines(self) -> list[Machine]:
        """Every machine on the plant (not retired), in id order."""
        sql = f"SELECT {MACHINE_COLUMNS} FROM machines WHERE retired = 0 ORDER BY id"
        rows = await self._on_reader(lambda: self._r().execute(sql).fetchall())
        return models_from_rows(rows, machine_from_row, "machine")

    # --- readings -------------------------------------------------------------------------------------------
    @_sqlite
    async def write_batches(self, batches: Sequence[Batch]) -> list[int | Exception]:
        """Store batches in one transaction, each all-or-nothing (a savepoint each); per batch: new count or error."""
        encoded: list[_Encoded | Exception] = []
        for readings, events in batches:
            try:  # unknown machines or sensors are refused before anything is written
                machines, sensors = self.codes.encode(readings)
                self.codes.check_event_machines(events)
            except InvalidInput as exc:
                encoded.append(exc)
                continue
            encoded.append((machines, sensors, readings, events))
        return translate_results(await self._on_writer(self._write_batches_sync, encoded), translate_sqlite)

    def _write_batches_sync(self, encoded: list[_Encoded | Exception]) -> list[int | Exception]:
        conn = self._w()
        results: list[int | Exception] = []
        marks: list[sqlite_history.Mark] = []  # written by the batches that stay, known once committed
        conn.execute("BEGIN IMMEDIATE")
        try:
            for item in encoded:
                if isinstance(item, Exception):
                    results.append(item)
                    continue
                conn.execute("SAVEPOINT batch")
                try:
                    new, written = self._insert_batch(conn, *item)
                except Exception as exc:  # this batch only: the others of the group stay
                    if not conn.in_transaction:
                        raise  # SQLite rolled the whole transaction back itself (disk full, I/O error): all failed
                    conn.execute("ROLLBACK TO batch")
                    results.append(exc)
                else:
                    results.append(new)
                    marks.extend(written)
                conn.execute("RELEASE batch")
            total = sum(r for r in results if isinstance(r, int))
            if total:
                conn.execute("UPDATE counters SET value = value + ? WHERE name = 'readings'", (total,))
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        if marks:
            self._marked.committed(marks)
            self._newest_minute = max(self._newest_minute, max(mark[2] for mark in marks))
        return results

    def _insert_batch(
        self,
        conn: sqlite3.Connection,
        machines: list[int],
        sensors: list[int],
        readings: ReadingColumns,
        events: Sequence[Event],
    ) -> tuple[int, list[sqlite_history.Mark]]:
        """Store one batch in the open transaction: (readings new, rollup marks written).

        A dense batch's runs of new readings of a series go into blocks (``sqlite_blocks``); the rest of it into
        ``readings``, a thin batch (``sqlite_history.is_thin``) into the hot partition. Each checks the other
        partitions for its keys only where their times can meet."""
        ts_ms, values = readings.ts_ms, readings.values
        levels = sqlite_history.levels_of(machines, sensors, ts_ms, values)
        thin = sqlite_history.is_thin(len(readings), levels)
        new = 0
        if len(readings) and (not thin or min(ts_ms) <= self._blocks_max_ts):
            new, rest = self._blocks(conn, machines, sensors, ts_ms, values, thin)
            if rest is not None:
                machines, sensors, ts_ms, values = rest
        if ts_ms:
            new += self._insert_rows(conn, thin, machines, sensors, ts_ms, values)
        written: list[sqlite_history.Mark] = []
        if new == len(readings):  # every reading new: merged into the rollups, or (a thin batch) its minutes marked
            if new:
                written = sqlite_history.roll_up_new(conn, levels, thin, self._marked)
        elif new:  # some stored before: mark the minutes, the refresh recomputes them from the readings
            marks = rollup.dirty_marks(machines, sensors, ts_ms)
            sqlite_history.insert_rows(conn, sqlite_history.INSERT_MARKS, tuple(zip(*marks, strict=True)))
        if events:
            # Rows are made inside the transaction: a bad event rolls back the readings too.
            conn.executemany(_INSERT_EVENT, (event_row(e) for e in events))
        return new, written

    def _insert_rows(
        self,
        conn: sqlite3.Connection,
        thin: bool,
        machines: list[int],
        sensors: list[int],
        ts_ms: list[int],
        values: list[float],
    ) -> int:
        """Readings (none in a block) into the hot partition (``thin``) or ``readings``, checked against the other
        where their times can meet; returns how many were new."""
        columns = (machines, sensors, ts_ms, values)
        lo, hi = min(ts_ms), max(ts_ms)
        before = conn.total_changes
        if thin:
            if lo > self._main_max_ts:  # all newer than anything in readings: nothing there to repeat
                sqlite_history.insert_rows(conn, sqlite_history.INSERT_HOT, columns)
            else:
                prefix, suffix = sqlite_history.CHECKED["readings_hot"]
                sqlite_history.insert_rows(conn, prefix, columns, suffix)
            span = self._hot_span
            self._hot_span = (lo, hi) if span is None else (min(span[0], lo), max(span[1], hi))
            return conn.total_changes - before
        span = self._hot_span
        if span is None or hi < span[0] or lo > span[1]:
            sqlite_history.insert_rows(conn, sqlite_history.INSERT_READINGS, columns)
        else:
            prefix, suffix = sqlite_history.CHECKED["readings"]
            sqlite_history.insert_rows(conn, prefix, columns, suffix)
        new = conn.total_changes - before
        if new:
            import numpy as np

            self._row_ends.raise_to(np.asarray(machines), np.asarray(sensors), np.asarray(ts_ms))
        if new and hi > self._main_max_ts:
            self._main_max_ts = hi
            conn.execute("UPDATE counters SET value = max(value, ?) WHERE name = 'readings_max_ts'", (hi,))
        return new

    def _blocks(
        self,
        conn: sqlite3.Connection,
        machines: list[int],
        sensors: list[int],
        ts_ms: list[int],
        values: list[float],
        thin: bool,
    ) -> tuple[int, tuple[list[int], list[int], list[int], list[float]] | None]:
        """Write a dense batch's blocks (``sqlite_blocks``; a ``thin`` one has none), and leave out of the rest the
        readings a block holds: (readings written in blocks, the rest's columns or None when that is the batch)."""
        import numpy as np

        m = np.asarray(machines, dtype=np.int64)
        s = np.asarray(sensors, dtype=np.int64)
        t = np.asarray(ts_ms, dtype=np.int64)
        if thin:  # no blocks; only readings at or before their series' newest block's end can be in one
            old = t <= self._block_ends.of(conn, m, s)
            if not old.any():
                return 0, None
            rest = np.ones(t.size, dtype=bool)
            rest[old] = sqlite_blocks.without_stored(conn, m[old], s[old], t[old])
            return 0, self._kept(rest, machines, sensors, ts_ms, values)
        series = m * sqlite_blocks.SERIES + s
        order = np.lexsort((t, series))
        ss, tt = series[order], t[order]
        starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
        ends = np.r_[starts[1:], ss.size]
        rest = np.ones(t.size, dtype=bool)
        v = np.asarray(values, dtype=np.float64)
        rows: list[sqlite_blocks.Row] = []
        check: list[int] = []  # series whose readings left may meet one of its blocks
        for key, a, b in zip(ss[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
            first = int(tt[a])
            if b - a >= sqlite_blocks.BLOCK_MIN_READINGS:
                run, at = tt[a:b], order[a:b]
                vals, last = v[at], int(tt[b - 1])
                if (
                    bool((run[1:] > run[:-1]).all())
                    and bool(np.isfinite(vals).all())
                    and self._block_fits(conn, key, first, last)
                ):
                    rows.extend(self._block_rows(key, run, vals))
                    rest[at] = False
                    continue
            if first <= self._blocks_max_ts and first <= self._block_ends.get(conn, *divmod(key, sqlite_blocks.SERIES)):
                check.append(key)
        if rows:
            sqlite_history.insert_rows(conn, sqlite_blocks.INSERT_ROWS, tuple(zip(*rows, strict=True)))
            self._raise_blocks_max(conn, max(r[3] for r in rows))
        if check:
            at = np.flatnonzero(np.isin(series, check) & rest)
            rest[at] = sqlite_blocks.without_stored(conn, m[at], s[at], t[at])
        return sum(r[4] for r in rows), self._kept(rest, machines, sensors, ts_ms, values)

    @staticmethod
    def _kept(
        rest: NDArray[np.bool_], machines: list[int], sensors: list[int], ts_ms: list[int], values: list[float]
    ) -> tuple[list[int], list[int], list[int], list[float]] | None:
        """The columns where ``rest`` is true (None: all of them)."""
        import numpy as np

        if rest.all():
            return None
        keep = np.flatnonzero(rest).tolist()
        return (
            [machines[i] for i in keep],
            [sensors[i] for i in keep],
            [ts_ms[i] for i in keep],
            [values[i] for i in keep],
        )

    def _raise_blocks_max(self, conn: sqlite3.Connection, newest: int) -> None:
        """Raise the newest time of any block (in memory and in ``counters``) to ``newest``, in the transaction."""
        if newest > self._blocks_max_ts:
            self._blocks_max_ts = newest
            conn.execute("UPDATE counters SET value = max(value, ?) WHERE name = 'blocks_max_ts'", (newest,))

    def _block_rows(self, key: int, ts: NDArray[np.int64], values: NDArray[np.float64]) -> list[sqlite_blocks.Row]:
        """The block rows of a series' run that fits (``_block_fits``), cut at ``BLOCK_MAX_READINGS``."""
        machine, sensor = divmod(key, sqlite_blocks.SERIES)
        self._block_ends.raise_one(machine, sensor, int(ts[-1]))
        size = sqlite_blocks.BLOCK_MAX_READINGS
        return [
            (machine, sensor, int(ts[c]), int(ts[d - 1]), d - c, *sqlite_blocks.encode(ts[c:d], values[c:d]))
            for c, d in ((c, min(c + size, ts.size)) for c in range(0, ts.size, size))
        ]

    def _block_fits(self, conn: sqlite3.Connection, key: int, first: int, last: int) -> bool:
        """Whether the series holds no reading in ``[first, last]`` in any partition: after all of them (the bounds
        kept here), or in a gap between them (a seek in each partition whose times can meet the run's)."""
        machine, sensor = divmod(key, sqlite_blocks.SERIES)
        args = (machine, sensor, first, last)
        if first <= self._block_ends.get(conn, machine, sensor):
            before = conn.execute(sqlite_blocks.ENDING_BEFORE, (machine, sensor, last)).fetchone()
            if before is not None and before[0] >= first:
                return False
        if (
            first <= self._row_ends.get(conn, machine, sensor)
            and conn.execute(sqlite_blocks.ROWS_IN["readings"], args).fetchone() is not None
        ):
            return False
        span = self._hot_span
        if span is None or first > span[1] or last < span[0]:
            return True
        return conn.execute(sqlite_blocks.ROWS_IN["readings_hot"], args).fetchone() is None

    @_sqlite
    async def latest(self, machine_id: str) -> dict[str, LatestValue]:
        """The newest value of each sensor of a machine ({} for an unknown machine)."""
        num = self.codes.machine_num(machine_id)
        if num is None:
            return {}
        return latest_values(await self._on_reader(self._latest_sync, num))

    def _latest_sync(self, num: int) -> list[tuple[str, int, float]]:
        with snapshot(self._r()) as conn:  # the rows and the blocks
            newest = {key: (ts, value) for key, ts, value in conn.execute(_LATEST, (num,))}
            for key, ts, blob in conn.execute(sqlite_blocks.LATEST, (num,)):
                if key not in newest or ts > newest[key][0]:
                    newest[key] = (ts, sqlite_blocks.last_value(blob))
        return [(key, ts, value) for key, (ts, value) in newest.items()]

    @_sqlite
    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        """Min/max/avg/count per non-empty bucket, computed by SQLite in one grouped range scan."""
        machine = self.codes.machine_num(query.machine_id)
        sensor = self.codes.sensor_num(query.sensor)
        if machine is None or sensor is None:
            return []
        buckets = query_buckets(query)
        params = {
            "origin": buckets.origin,
            "points": buckets.points,
            "span": buckets.span,
            "m": machine,
            "s": sensor,
            "start": buckets.start,
            "end": buckets.end,
        }
        rows = await self._on_reader(
            lambda: sqlite_history.history_rows(self._r(), params, rollup.plan_buckets(buckets))
        )
        return [
            HistoryBucket(ts=from_ms(buckets.start_of(b)), min=lo, max=hi, avg=avg, count=n)
            for b, lo, hi, avg, n in rows
        ]

    @_sqlite
    async def refresh_rollups(self, before_minute: int | None = None) -> int:
        """Recompute dirty rollup minutes before ``before_minute`` (default: the closed ones, by the wall clock or
        by the newest minute written, when the data's clock runs ahead: a simulator at 60x); return how many."""
        if before_minute is None:
            before_minute = self._closed_before()
        done = 0
        while n := await self._on_writer(self._refresh_chunk_sync, before_minute):
            done += n
            if n < rollup.REFRESH_LIMIT:
                break
        return done

    def _closed_before(self) -> int:
        return max(int(time.time()) // 60, self._newest_minute) - 1

    @_sqlite
    async def _background_refresh(self) -> None:
        """A share of the closed dirty minutes, not all at once: at 10,000 machines a minute closes with 80,000
        series-minutes to recompute (seconds of the writer, ingest waiting behind it), so each round takes at least
        ``REFRESH_MIN_CHUNKS`` chunks and enough to clear the backlog in ``REFRESH_SPREAD_ROUNDS`` rounds. History
        stays exact meanwhile (dirty minutes are read raw)."""
        before = self._closed_before()
        sql = "SELECT count(*) FROM rollup_dirty WHERE minute < ?"
        backlog = await self._on_reader(lambda: self._r().execute(sql, (before,)).fetchone()[0])
        chunks = max(REFRESH_MIN_CHUNKS, math.ceil(backlog / rollup.REFRESH_LIMIT / REFRESH_SPREAD_ROUNDS))
        for _ in range(chunks):
            if await self._on_writer(self._refresh_chunk_sync, before) < rollup.REFRESH_LIMIT:
                return

    def _refresh_chunk_sync(self, before_minute: int) -> int:
        try:
            return sqlite_history.refresh_chunk(self._w(), before_minute, self._blocks_max_ts)
        finally:
            self._marked.forget()  # it deleted marks (or may have, if it failed)

    @_sqlite
    async def move_hot(self) -> int:
        """Move every reading of the hot partition into ``readings`` (in transactions of ``HOT_MOVE_ROWS``, other
        writes between them); return how many."""
        done = 0
        while True:
            moved, empty = await self._on_writer(self._move_chunk_sync)
            done += moved
            if empty or not moved:
                return done

    def _move_chunk_sync(self) -> tuple[int, bool]:
        if self._hot_span is None:
            return 0, True
        newest = self._hot_span[1]
        self._row_ends.clear()  # readings gain the hot partition's newest times
        moved, empty = sqlite_history.move_hot_chunk(self._w(), newest)
        self._main_max_ts = max(self._main_max_ts, newest)
        if empty:
            self._hot_span = None
        return moved, empty

    async def _move_loop(self) -> None:
        while True:
            await asyncio.sleep(sqlite_history.HOT_MOVE_INTERVAL_S)
            try:
                await self.move_hot()
            except StoreUnavailable:
                pass  # the refresh loop tells of an outage; the readings wait in the hot partition, read as they are
            except Exception:
                log.exception("moving the hot partition failed")

    @_sqlite
    async def read_range(
        self, machine_id: str, start: datetime, end: datetime, sensors: Sequence[str] | None = None
    ) -> ReadingColumns:
        """Raw readings of a machine in ``[start, end)``, ordered by time then sensor."""
        machine = self.codes.machine_num(machine_id)
        out = ReadingColumns()
        if machine is None:
            return out
        lo, hi = to_ms(start), to_ms(end)
        params: list[object] = [machine, lo, hi]
        nums: set[int] | None = None
        only = ""
        if sensors is not None:
            nums = {n for n in (self.codes.sensor_num(s) for s in sensors) if n is not None}
            if not nums:
                return out
            only = f" AND s.num IN ({','.join(str(n) for n in sorted(nums))})"  # the dictionary's own integers
        sql = _RANGE.format(only=only)

        def read() -> list[tuple[int, int, float]]:
            with snapshot(self._r()) as conn:  # the rows and the blocks
                rows: list[tuple[int, int, float]] = conn.execute(sql, params).fetchall()
                found = sqlite_blocks.read_machine(conn, machine, lo, hi, nums)
            if found:
                rows.extend(found)
                rows.sort(key=lambda r: (r[1], r[0]))
            return rows

        self.codes.decode_into(out, machine_id, await self._on_reader(read))
        return out

    @_sqlite
    async def reading_span(self, machine_id: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """First and last reading time of a machine in ``[start, end)``: two index seeks per sensor."""
        machine = self.codes.machine_num(machine_id)
        if machine is None:
            return None
        lo, hi = to_ms(start), to_ms(end)
        nums = list(self.codes.sensor_keys)

        def read() -> tuple[int | None, int | None]:
            with snapshot(self._r()) as conn:  # the rows and the blocks
                first, last = conn.execute(_READING_SPAN, (machine, lo, hi)).fetchone()
                for n in nums:
                    found = sqlite_blocks.span(conn, machine, n, lo, hi)
                    if found is not None:
                        first = found[0] if first is None else min(first, found[0])
                        last = found[1] if last is None else max(last, found[1])
            return first, last

        first, last = await self._on_reader(read)
        return None if first is None or last is None else (from_ms(first), from_ms(last))

    # --- events and alarms ----------------------------------------------------------------------------------
    @_sqlite
    async def write_events(self, events: Sequence[Event]) -> list[Event]:
        """Append events; return them with their ids."""
        self.codes.check_event_machines(events)
        return await self._on_writer(self._write_events_sync, list(events))

    def _write_events_sync(self, events: list[Event]) -> list[Event]:
        conn = self._w()
        out: list[Event] = []

        def insert() -> None:
            for event in events:
                row = event_row(event)
                cur = conn.execute(_INSERT_EVENT, row)
                if cur.rowcount == 1:
                    ev_id = cur.lastrowid
                else:  # stored before (same natural key): answer with the id it has
                    ev_id = conn.execute("SELECT id FROM events WHERE natural_key = ?", (row[-1],)).fetchone()[0]
                out.append(event.model_copy(update={"id": ev_id}))

        with_tx(conn, insert)
        return out

    @_sqlite
    async def events(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, newest first."""
        if not searchable(query.machine_id):
            return []
        where, params = event_filter(query, "?")
        sql = f"SELECT {_EVENT_COLS} FROM events{where} ORDER BY ts DESC, id DESC LIMIT {query.limit}"
        rows = await self._on_reader(lambda: self._r().execute(sql, params).fetchall())
        return models_from_rows(rows, event_from_row, "event")

    @_sqlite
    async def kpi_rows(
        self, machine_ids: Sequence[str], start: datetime, end: datetime, lookback: int
    ) -> dict[str, KpiRows]:
        """What the KPIs read, per machine: index range reads of ``events_machine_ts`` and
        ``alarms_machine_raised`` in one read transaction (one snapshot)."""
        out = {m: KpiRows() for m in machine_ids}
        ids = storable_ids(machine_ids)
        lo, hi = to_ms(start), to_ms(end)

        def read() -> None:
            with snapshot(self._r()) as conn:
                for m in ids:
                    rows = out[m]
                    rows.status = [status_row(r) for r in conn.execute(SQLITE_STATUS, (m, lo, hi))]
                    rows.before = [status_row(r) for r in conn.execute(SQLITE_BEFORE, (m, lo, lookback))]
                    rows.counts = conn.execute(SQLITE_COUNTS, (m, lo, hi)).fetchall()
                    rows.alarms = [r[0] for r in conn.execute(SQLITE_ALARMS, (m, lo, hi))]

        await self._on_reader(read)
        return out

    @_sqlite
    async def events_after(self, cursor: EventCursor | None) -> tuple[EventCursor, dict[str, int]]:
        """See ``Store.events_after``. One writer connection: ids commit in order, so the newest id is the cursor."""

        def read() -> tuple[EventCursor, dict[str, int]]:
            with snapshot(self._r()) as conn:
                newest = int(conn.execute(NEWEST_EVENT).fetchone()[0])
                if cursor is None or cursor.mark >= newest:
                    return EventCursor(newest), {}
                return EventCursor(newest), dict(conn.execute(EVENTS_AFTER, (cursor.mark,)).fetchall())

        return await self._on_reader(read)

    @_sqlite
    async def alarm_times(self, machine_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, list[int]]:
        """Raise times of the alarms in ``[start, end)`` per machine (index range reads)."""
        out: dict[str, list[int]] = {m: [] for m in machine_ids}
        ids, lo, hi = storable_ids(machine_ids), to_ms(start), to_ms(end)

        def read() -> None:
            conn = self._r()
            for m in ids:
                out[m] = [r[0] for r in conn.execute(SQLITE_ALARMS, (m, lo, hi))]

        await self._on_reader(read)
        return out

    @_sqlite
    async def save_alarm(self, alarm: Alarm) -> Alarm:
        """Insert (id None) or update an alarm; return it with its id."""
        return await self._on_writer(self._save_alarm_sync, alarm)

    def _save_alarm_sync(self, alarm: Alarm) -> Alarm:
        conn = self._w()
        values = alarm_row(alarm)
        if alarm.id is None:
            sql = f"INSERT INTO alarms ({', '.join(ALARM_COLUMNS)}) VALUES ({', '.join('?' * len(ALARM_COLUMNS))})"
            cur = conn.execute(sql, values)
            return alarm.model_copy(update={"id": cur.lastrowid})
        sets = ", ".join(f"{c} = ?" for c in ALARM_COLUMNS)
        cur = conn.execute(f"UPDATE alarms SET {sets} WHERE id = ?", (*values, alarm.id))
        if cur.rowcount == 0:
            raise NotFound(f"no alarm with id {alarm.id}")
        return alarm

    @_sqlite
    async def alarms(self, query: AlarmQuery) -> list[Alarm]:
        """Alarms matching ``query``, newest first."""
        if not searchable(query.machine_id):
            return []
        where, params = alarm_filter(query, "?")
        sql = f"{_ALARM_SELECT}{where} ORDER BY raised_at DESC, id DESC LIMIT {query.limit}"
        rows = await self._on_reader(lambda: self._r().execute(sql, params).fetchall())
        return models_from_rows(rows, alarm_from_row, "alarm")

    @_sqlite
    async def alarm(self, alarm_id: int) -> Alarm | None:
        """The alarm with this id, or None."""
        if not 0 <= alarm_id <= MAX_ID:
            return None
        rows = await self._on_reader(lambda: self._r().execute(f"{_ALARM_SELECT} WHERE id = ?", (alarm_id,)).fetchall())
        found = models_from_rows(rows, alarm_from_row, "alarm")
        return found[0] if found else None

    @_sqlite
    async def stats(self) -> StoreStats:
        """Counts of machines, readings and events (readings from a counter kept at write time)."""

        def count() -> StoreStats:
            conn = self._r()
            readings = conn.execute("SELECT value FROM counters WHERE name = 'readings'").fetchone()[0]
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            machines = conn.execute("SELECT count(*) FROM machines").fetchone()[0]
            return StoreStats(machines=machines, readings=readings, events=events)

        return await self._on_reader(count)
