"""SQLite side of history: the SQL of raw and rollup-assisted history queries, and the rollup refresh."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from factorytwin.store import rollup, sqlite_blocks
from factorytwin.store.schema import HISTORY_SQL
from factorytwin.store.sqlite_conn import rollback, snapshot

INSERT_READINGS = "INSERT OR IGNORE INTO readings (machine, sensor, ts, value) VALUES "
INSERT_HOT = "INSERT OR IGNORE INTO readings_hot (machine, sensor, ts, value) VALUES "
_NOT_IN = (
    ") AS v WHERE NOT EXISTS (SELECT 1 FROM {other} AS o "
    "WHERE o.machine = v.column1 AND o.sensor = v.column2 AND o.ts = v.column3)"
)
CHECKED = {
    table: (
        f"INSERT OR IGNORE INTO {table} (machine, sensor, ts, value) SELECT * FROM (VALUES ",
        _NOT_IN.format(other=other),
    )
    for table, other in (("readings", "readings_hot"), ("readings_hot", "readings"))
}
"""(prefix, suffix) inserting into one partition the readings the other does not hold: a key is in one at most."""
INSERT_MARKS = "INSERT OR IGNORE INTO rollup_dirty (machine, sensor, minute) VALUES "
ROWS_PER_STATEMENT = 1024
MERGE = {
    level: (
        f"INSERT INTO {level.table} (machine, sensor, {level.column}, vmin, vmax, vsum, n) VALUES ",
        f" ON CONFLICT (machine, sensor, {level.column}) DO UPDATE SET vmin = min(vmin, excluded.vmin), "
        "vmax = max(vmax, excluded.vmax), vsum = vsum + excluded.vsum, n = n + excluded.n",
    )
    for level in rollup.LEVELS
}
"""(prefix, suffix) of the statements adding new readings' aggregates to each rollup level."""
_statements: dict[tuple[str, int, int], str] = {}


def insert_rows(conn: sqlite3.Connection, prefix: str, columns: Sequence[Sequence[Any]], suffix: str = "") -> None:
    """Insert parallel ``columns`` with multi-row ``VALUES`` statements of up to 1024 rows.

    Not ``executemany``: it gives up the GIL around every row's step and must win it back each time, so with the
    event loop busy (parsing the next request) each row waits for the interpreter's switch interval; measured
    82 ms instead of 37 ms per 7,500 rows. One statement per 1,024 rows gives it up once per statement. Row
    counts go in powers of two below 1,024, so a handful of statement texts serves every batch (SQLite caches
    them).
    """
    width = len(columns)
    flat = list(itertools.chain.from_iterable(zip(*columns, strict=True)))
    total = len(flat) // width if width else 0
    done = 0
    while done < total:
        left = total - done
        n = ROWS_PER_STATEMENT if left >= ROWS_PER_STATEMENT else 1 << (left.bit_length() - 1)
        key = (prefix + suffix, width, n)
        sql = _statements.get(key)
        if sql is None:
            row = "(" + ", ".join("?" * width) + ")"
            sql = _statements[key] = prefix + ", ".join([row] * n) + suffix
        conn.execute(sql, flat[done * width : (done + n) * width])
        done += n


MERGE_MIN_READINGS_PER_MINUTE = 4
"""A batch of all-new readings merges its aggregates into the rollups when it holds at least this many readings
per distinct (machine, sensor, minute); a thinner one (many machines, a reading or two of each of their sensors:
an edge gateway's batch at 1 Hz) marks those minutes for the refresh instead. A merge is three upserts per
distinct minute of a series in every batch; a mark is written once per minute of a series (``Marked``) and the
refresh recomputes that minute once, after it has closed. In process, 10,000 machines x 8 sensors at 1 Hz in
batches of 500 machines: 10.5 µs of writer CPU per reading merged, 4.6 marked (3.9, and 0.7 for the refresh)."""

Mark = tuple[int, int, int]
"""(machine, sensor, minute) in ``rollup_dirty``"""


class Marked:
    """Marks this process knows to be committed in ``rollup_dirty`` since its last refresh: a batch writes only the
    marks not in it. Used on the writer thread only; filled after a commit, emptied by every refresh (which
    deletes marks), so a mark it holds is in the table. A needless write of a mark that is there costs a lookup,
    a missing one would leave a minute's rollup wrong: when in doubt, it forgets."""

    LIMIT = 1_000_000

    def __init__(self) -> None:
        self._known: set[Mark] = set()

    def __contains__(self, mark: Mark) -> bool:
        return mark in self._known

    def committed(self, marks: list[Mark]) -> None:
        """These marks were just committed."""
        if len(self._known) + len(marks) > self.LIMIT:
            self._known.clear()
        self._known.update(marks)

    def forget(self) -> None:
        """A refresh deleted marks: know none."""
        self._known.clear()


def levels_of(machines: list[int], sensors: list[int], ts: list[int], values: list[float]) -> list[rollup.Deltas]:
    """The minute, hour and day aggregates of a batch (``rollup.deltas``)."""
    import numpy as np

    return rollup.deltas(np.array(machines), np.array(sensors), np.array(ts, dtype=np.int64), np.array(values))


def is_thin(readings: int, levels: list[rollup.Deltas]) -> bool:
    """Fewer than ``MERGE_MIN_READINGS_PER_MINUTE`` readings per distinct (machine, sensor, minute): an edge
    gateway's batch of many machines at 1 Hz, rolled up by marks and stored in the hot partition."""
    return bool(levels) and readings < MERGE_MIN_READINGS_PER_MINUTE * len(levels[0].unit)


def roll_up_new(conn: sqlite3.Connection, levels: list[rollup.Deltas], thin: bool, marked: Marked) -> list[Mark]:
    """Roll up a batch's readings, all new in the open transaction, from its ``levels``: merged into the three
    levels (a dense batch) or their minutes marked (a ``thin`` one, ``is_thin``). Returns the marks written, for
    ``marked`` once the transaction has committed."""
    if not levels:
        return []
    if thin:
        minutes = levels[0]
        units = zip(minutes.machine.tolist(), minutes.sensor.tolist(), minutes.unit.tolist(), strict=True)
        marks = [mark for mark in units if mark not in marked]
        if marks:
            insert_rows(conn, INSERT_MARKS, tuple(zip(*marks, strict=True)))
        return marks
    for d in levels:
        prefix, suffix = MERGE[d.level]
        columns = [a.tolist() for a in (d.machine, d.sensor, d.unit, d.vmin, d.vmax, d.vsum, d.n)]
        insert_rows(conn, prefix, columns, suffix)
    return []


_HISTORY = HISTORY_SQL.format(
    readings="readings_all",
    origin=":origin",
    start=":start",
    points=":points",
    span=":span",
    machine=":m",
    sensor=":s",
    end=":end",
)
_DIRTY_IN_RANGE = rollup.DIRTY_IN_RANGE_SQL.format(machine=":m", sensor=":s", m0=":m0", m1=":m1")
# CROSS JOIN keeps the ranges outside, so each range is one seek on the key (of the readings or of a level).
# Each partition apart: joined with json_each, SQLite would materialise the whole series of the union view first.
_RAW_RANGES = [
    f"""
SELECT ((r.ts - :origin) * :points) / :span AS bucket, min(r.value), max(r.value), sum(r.value), count(*)
FROM json_each(:ranges) AS j CROSS JOIN {table} AS r
WHERE r.machine = :m AND r.sensor = :s AND r.ts >= j.value ->> 0 AND r.ts < j.value ->> 1
GROUP BY bucket
"""
    for table in ("readings", "readings_hot")
]


def _level_ranges(level: rollup.Level, skip_dirty: bool) -> str:
    select, in_one_bucket = rollup.level_sql(level, "r", ":origin", ":points", ":span")
    col = f"r.{level.column}"
    skip = f" AND {col} NOT IN (SELECT value FROM json_each(:dirty))" if skip_dirty else ""
    return f"""SELECT {select}
FROM json_each(:ranges) AS j CROSS JOIN {level.table} AS r
WHERE r.machine = :m AND r.sensor = :s AND {col} >= j.value ->> 0 AND {col} < j.value ->> 1 AND {in_one_bucket}{skip}
GROUP BY bucket"""


_LEVEL_RANGES = {(level, skip): _level_ranges(level, skip) for level in rollup.LEVELS for skip in (False, True)}
_REFRESH_SELECT = rollup.REFRESH_SQL.format(readings="readings_all", machine="?", sensor="?", lo="?", hi="?")
_REPLACE_1M = "INSERT OR REPLACE INTO rollup_1m (machine, sensor, minute, vmin, vmax, vsum, n) "
_REFRESH = _REPLACE_1M + _REFRESH_SELECT
_REFRESH_INSERT = _REPLACE_1M + "VALUES (?, ?, ?, ?, ?, ?, ?)"
_ROLL_UP = {
    (fine, coarse): f"INSERT OR REPLACE INTO {coarse.table} (machine, sensor, {coarse.column}, vmin, vmax, vsum, n) "
    + rollup.roll_up_sql(fine, coarse, "?", "?", "?", "?")
    for fine, coarse in rollup.COARSER
}


def history_rows(
    conn: sqlite3.Connection, params: dict[str, int], plan: rollup.RollupPlan | None
) -> list[rollup.Aggregate]:
    """``(bucket, min, max, avg, count)`` rows of a history query: raw, or rollup levels + raw, with the blocks' raw
    readings, in one snapshot."""
    with snapshot(conn):  # the dirty marks, the rollup parts, the raw part and the blocks
        if plan is not None:
            params = {**params, "m0": plan.first_minute, "m1": plan.end_minute}
            dirty = [r[0] for r in conn.execute(_DIRTY_IN_RANGE, params)]
        if plan is None or len(dirty) > rollup.MAX_DIRTY_EXCLUDED:
            whole = [[params["start"], params["end"]]]
            blocks = _block_buckets(conn, params, whole)
            if not blocks:
                return conn.execute(_HISTORY, params).fetchall()
            return rollup.merge(blocks, *_raw_rows(conn, params, whole))
        parts = plan.parts(dirty)
        found = [
            conn.execute(
                _LEVEL_RANGES[part.level, bool(part.dirty)],
                {**params, "ranges": json.dumps(part.ranges), "dirty": json.dumps(part.dirty)},
            ).fetchall()
            for part in parts.levels
        ]
        if parts.raw:  # aligned buckets whose range starts and ends on whole minutes leave nothing raw
            found.extend(_raw_rows(conn, params, parts.raw))
            found.append(_block_buckets(conn, params, parts.raw))
    return rollup.merge(*found)


def _raw_rows(conn: sqlite3.Connection, params: dict[str, int], ranges: Sequence[Sequence[int]]) -> list[list[Any]]:
    """``(bucket, min, max, sum, count)`` rows of the row partitions' readings in ``ranges``, one list each."""
    raw = {**params, "ranges": json.dumps(ranges)}
    return [conn.execute(sql, raw).fetchall() for sql in _RAW_RANGES]


def _block_buckets(
    conn: sqlite3.Connection, params: dict[str, int], ranges: Sequence[Sequence[int]]
) -> list[tuple[int, float, float, float, int]]:
    """``(bucket, min, max, sum, count)`` of the blocks' readings in ``ranges`` of the query's series."""
    parts = [sqlite_blocks.read(conn, params["m"], params["s"], lo, hi) for lo, hi in ranges]
    parts = [p for p in parts if p[0].size]
    if not parts:
        return []
    import numpy as np

    ts = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    return sqlite_blocks.bucket_rows(ts, values, params["origin"], params["points"], params["span"])


_RUN = 1 << 32
"""A (run, minute) key of the refresh: ``run * _RUN + minute`` (minutes since 1970 stay below 2**32)."""


def _minutes_with_blocks(
    conn: sqlite3.Connection, runs: list[tuple[int, int, int, int]]
) -> list[tuple[int, int, int, float, float, float, int]]:
    """The minute rows of ``(machine, sensor, lo, hi)`` runs from their rows (SQL) and their blocks (decoded and
    aggregated for all runs at once: per run only its two queries)."""
    import numpy as np

    rows: list[tuple[int, float, float, float, int]] = []  # keyed by (run, minute)
    times: list[bytes] = []
    values: list[bytes] = []
    owner: list[int] = []  # the run of each block
    for i, (machine, sensor, lo, hi) in enumerate(runs):
        rows.extend((i * _RUN + r[2], *r[3:]) for r in conn.execute(_REFRESH_SELECT, (machine, sensor, lo, hi)))
        for ts, vals in conn.execute(sqlite_blocks.OVERLAPPING, (machine, sensor, lo, hi)):
            times.append(ts)
            values.append(vals)
            owner.append(i)
    blocks: list[tuple[int, float, float, float, int]] = []
    if times:
        ts = np.frombuffer(b"".join(times), sqlite_blocks.I64).astype(np.int64)
        vals = np.frombuffer(b"".join(values), sqlite_blocks.F64).astype(np.float64)
        run = np.repeat(np.array(owner, dtype=np.int64), [len(t) // 8 for t in times])
        bounds = np.array([(lo, hi) for _, _, lo, hi in runs], dtype=np.int64)
        inside = (ts >= bounds[run, 0]) & (ts < bounds[run, 1])
        blocks = sqlite_blocks.aggregate(run[inside] * _RUN + ts[inside] // rollup.MINUTE_MS, vals[inside])
    return [
        (*runs[key // _RUN][:2], key % _RUN, lo_v, hi_v, total, n)
        for key, lo_v, hi_v, total, n in rollup.merge_sums(rows, blocks)
    ]


def refresh_chunk(conn: sqlite3.Connection, before_minute: int, blocks_max_ts: int) -> int:
    """Recompute up to ``REFRESH_LIMIT`` dirty minutes before ``before_minute``, and their hours and days, in one
    transaction (writer only); ``blocks_max_ts``: at or after every block's last time (blocks are read only for
    minutes up to it)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        marks = conn.execute(
            "SELECT machine, sensor, minute FROM rollup_dirty WHERE minute < ? "
            "ORDER BY machine, sensor, minute LIMIT ?",
            (before_minute, rollup.REFRESH_LIMIT),
        ).fetchall()
        minute_runs = rollup.group_runs(marks)
        with_blocks: list[tuple[int, int, int, int]] = []  # runs whose minutes may hold blocks: recomputed together
        for machine, sensor, first, last in minute_runs:
            lo, hi = first * rollup.MINUTE_MS, (last + 1) * rollup.MINUTE_MS
            if lo <= blocks_max_ts:
                with_blocks.append((machine, sensor, lo, hi))
            else:
                conn.execute(_REFRESH, (machine, sensor, lo, hi))
            conn.execute(
                "DELETE FROM rollup_dirty WHERE machine = ? AND sensor = ? AND minute >= ? AND minute <= ?",
                (machine, sensor, first, last),
            )
        if with_blocks:
            conn.executemany(_REFRESH_INSERT, _minutes_with_blocks(conn, with_blocks))
        unit_runs = minute_runs
        for fine, coarse in rollup.COARSER:  # the hours of those minutes, then the days of those hours
            ratio = coarse.unit_ms // fine.unit_ms
            unit_runs = rollup.coarse_runs(unit_runs, fine, coarse)
            for machine, sensor, first, last in unit_runs:
                conn.execute(_ROLL_UP[fine, coarse], (machine, sensor, first * ratio, (last + 1) * ratio))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back by itself (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise
    return len(marks)


HOT_MOVE_INTERVAL_S = 10.0
"""How often the hot partition is moved into ``readings``: each series' last page is written once per move."""
HOT_MOVE_ROWS = 5_000
"""Readings moved from the hot partition into ``readings`` per transaction: bounds how long a move holds up the
writer (10-20 ms; at 10,000 machines 20,000 gave 75-s p99 latencies of 235-269 ms, 10,000 183-309, 5,000 158-208)."""
_HOT_ORDER = "ORDER BY machine, sensor, ts"


def move_hot_chunk(conn: sqlite3.Connection, newest: int) -> tuple[int, bool]:
    """Move up to ``HOT_MOVE_ROWS`` readings, the first in key order, from ``readings_hot`` into ``readings``, in one
    transaction (writer only): (readings moved, whether the hot partition is now empty). ``newest``: a time at or
    after every reading of the hot partition, kept as readings' newest time (a bound above the truth only costs a
    check of the hot partition's keys against readings, one below it would let a reading be stored twice).

    A key is in one partition at most (the writes check the other), so a plain ``INSERT`` moves every row; in key
    order, each series' last page of ``readings`` is written once per move, not once per batch."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        bound = conn.execute(
            f"SELECT machine, sensor, ts FROM readings_hot {_HOT_ORDER} LIMIT 1 OFFSET ?", (HOT_MOVE_ROWS - 1,)
        ).fetchone()
        where = "" if bound is None else "WHERE (machine, sensor, ts) <= (?, ?, ?)"
        args = () if bound is None else tuple(bound)
        before = conn.total_changes
        move = f"INSERT INTO readings SELECT machine, sensor, ts, value FROM readings_hot {where} {_HOT_ORDER}"
        conn.execute(move, args)
        moved = conn.total_changes - before
        conn.execute(f"DELETE FROM readings_hot {where}", args)
        conn.execute("UPDATE counters SET value = max(value, ?) WHERE name = 'readings_max_ts'", (newest,))
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return moved, bound is None
