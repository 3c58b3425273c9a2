"""SQLite's block partition: a dense batch's run of new readings of one series stored as one row of two arrays.

A request of 5,040 values holds ~40 readings of each of its ~120 series; as rows that is 5,040 B-tree inserts, as
blocks 120 (docs/ARCHITECTURE.md, "SQLite blocks"). A block holds the readings of one series with times ``t0`` to
``t1``, in time order and all distinct, as little-endian int64 milliseconds (``ts``) and float64 values (``vals``).
It is written only where its series holds no reading between its first and last time in any partition (after all
of them: bounds kept in memory; in a gap: a seek in each partition), so the blocks of a series never overlap each
other and a key is still in one partition at most. Readings that do not qualify (a thin batch, a short run, a
resend, a late reading) go to the row partitions as before, after a check against the blocks where their times can
meet one.
"""

from __future__ import annotations

import sqlite3
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported on the first block, not at start-up (tests/integration/api/test_startup.py)
    import numpy as np
    import numpy.typing as npt

BLOCK_MIN_READINGS = 8
"""A dense batch's readings of one series become a block when they are at least this many (all new, in order)."""
BLOCK_MAX_READINGS = 1_000
"""At most this many readings per block (16 kB): a longer run is cut, so a short read decodes little."""

Row = tuple[int, int, int, int, int, bytes, bytes]
"""A block as inserted: (machine, sensor, t0, t1, n, ts, vals)."""
SERIES = 65536
"""A series' key in the writer's maps: ``machine * SERIES + sensor`` (sensor numbers are below 32,768)."""
COUNT_ALL = "SELECT (SELECT count(*) FROM readings_all) + (SELECT coalesce(sum(n), 0) FROM readings_blocks)"
"""Every reading of the file, counted outside the store: the row partitions and the blocks."""
INSERT_ROWS = "INSERT INTO readings_blocks (machine, sensor, t0, t1, n, ts, vals) VALUES "
END = "SELECT t1 FROM readings_blocks WHERE machine = ? AND sensor = ? ORDER BY t0 DESC LIMIT 1"
"""The last time of a series' newest block."""
ENDING_BEFORE = "SELECT t1 FROM readings_blocks WHERE machine = ? AND sensor = ? AND t0 <= ? ORDER BY t0 DESC LIMIT 1"
"""The end of the last block starting at or before a time: the only one that can overlap a run ending then."""
ROWS_IN = {
    table: f"SELECT 1 FROM {table} WHERE machine = ? AND sensor = ? AND ts >= ? AND ts <= ? LIMIT 1"
    for table in ("readings", "readings_hot")
}
"""Whether a row partition holds a reading of a series in ``[?3, ?4]``."""
_FROM = (
    "FROM readings_blocks WHERE machine = ?1 AND sensor = ?2 AND t0 < ?4 AND t0 >= "
    "coalesce((SELECT max(t0) FROM readings_blocks WHERE machine = ?1 AND sensor = ?2 AND t0 <= ?3), ?3)"
)
OVERLAPPING = f"SELECT ts, vals {_FROM} ORDER BY t0"
"""The blocks of a series that may hold times in ``[?3, ?4)``: the one starting at or before ?3, and those starting
in the range (two seeks on the key: blocks do not overlap)."""
FIRST = f"SELECT ts {_FROM} ORDER BY t0 LIMIT 2"
LAST = f"SELECT ts {_FROM} ORDER BY t0 DESC LIMIT 1"
LATEST = (
    "SELECT s.key, b.t1, substr(b.vals, b.n * 8 - 7, 8) FROM sensors s CROSS JOIN readings_blocks b "
    "ON b.machine = ?1 AND b.sensor = s.num "
    "AND b.t0 = (SELECT max(t0) FROM readings_blocks WHERE machine = ?1 AND sensor = s.num)"
)
"""Per sensor, the time and value (8 bytes) of the last reading of its newest block (CROSS JOIN: two seeks per sensor,
not a scan of the machine's blocks; checked with EXPLAIN QUERY PLAN)."""
NONE = -(2**63)
"""The newest time of a series that holds nothing (below every time)."""

I64 = "<i8"
F64 = "<f8"


def encode(ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> tuple[bytes, bytes]:
    """A block's two arrays as stored."""
    return ts.astype(I64, copy=False).tobytes(), values.astype(F64, copy=False).tobytes()


def last_value(blob: bytes) -> float:
    """The value of the 8 bytes ``LATEST`` answers."""
    return float(struct.unpack("<d", blob)[0])


def read(
    conn: sqlite3.Connection, machine: int, sensor: int, lo: int, hi: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The times and values of a series' blocks in ``[lo, hi)``, in time order."""
    import numpy as np

    rows = conn.execute(OVERLAPPING, (machine, sensor, lo, hi)).fetchall()
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    ts = np.concatenate([np.frombuffer(t, I64) for t, _ in rows]).astype(np.int64)
    vals = np.concatenate([np.frombuffer(v, F64) for _, v in rows]).astype(np.float64)
    keep = (ts >= lo) & (ts < hi)
    return ts[keep], vals[keep]


MACHINE_OVERLAPPING = (
    "SELECT s.num, b.ts, b.vals FROM sensors s CROSS JOIN readings_blocks b ON b.machine = ?1 AND b.sensor = s.num "
    "AND b.t0 < ?3 AND b.t0 >= coalesce((SELECT max(t0) FROM readings_blocks WHERE machine = ?1 AND sensor = s.num "
    "AND t0 <= ?2), ?2)"
)
"""``OVERLAPPING`` for every sensor of the dictionary in one statement: the loop over sensors inside SQLite (CROSS
JOIN keeps the sensors outside, so each is two seeks on the key; checked with EXPLAIN QUERY PLAN)."""


def read_machine(
    conn: sqlite3.Connection, machine: int, lo: int, hi: int, sensors: set[int] | None = None
) -> list[tuple[int, int, float]]:
    """``(sensor, ts, value)`` of a machine's blocks in ``[lo, hi)`` (of ``sensors`` only, if given), unordered."""
    import numpy as np

    out: list[tuple[int, int, float]] = []
    for sensor, blob_ts, blob_vals in conn.execute(MACHINE_OVERLAPPING, (machine, lo, hi)):
        if sensors is not None and sensor not in sensors:
            continue
        ts, vals = np.frombuffer(blob_ts, I64), np.frombuffer(blob_vals, F64)
        keep = (ts >= lo) & (ts < hi)
        out.extend((sensor, t, v) for t, v in zip(ts[keep].tolist(), vals[keep].tolist(), strict=True))
    return out


def span(conn: sqlite3.Connection, machine: int, sensor: int, lo: int, hi: int) -> tuple[int, int] | None:
    """First and last time of a series' blocks in ``[lo, hi)`` (None: none there)."""
    import numpy as np

    first = None
    for (blob,) in conn.execute(FIRST, (machine, sensor, lo, hi)):
        ts = np.frombuffer(blob, I64)
        inside = ts[(ts >= lo) & (ts < hi)]
        if inside.size:
            first = int(inside[0])
            break
    if first is None:
        return None
    (blob,) = conn.execute(LAST, (machine, sensor, lo, hi)).fetchone()
    ts = np.frombuffer(blob, I64)
    return first, int(ts[ts < hi][-1])


def bucket_rows(
    ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64], origin: int, points: int, span_ms: int
) -> list[tuple[int, float, float, float, int]]:
    """``(bucket, min, max, sum, count)`` of readings in ``Buckets``' integer bucket formula (``ts >= origin``)."""
    if not ts.size:
        return []
    buckets = ((ts - origin) * points) // span_ms
    return aggregate(buckets, values)


def aggregate(
    keys: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> list[tuple[int, float, float, float, int]]:
    """``(key, min, max, sum, count)`` per distinct key, in key order."""
    import numpy as np

    if not keys.size:
        return []
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return list(
        zip(
            keys[starts].tolist(),
            np.minimum.reduceat(values, starts).tolist(),
            np.maximum.reduceat(values, starts).tolist(),
            np.add.reduceat(values, starts).tolist(),
            np.diff(np.r_[starts, keys.size]).tolist(),
            strict=True,
        )
    )


def without_stored(
    conn: sqlite3.Connection,
    machines: npt.NDArray[np.int64],
    sensors: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Which of these readings no block holds (a mask), one ``read`` per series."""
    import numpy as np

    keep = np.ones(ts.size, dtype=bool)
    series = machines * SERIES + sensors
    order = np.argsort(series, kind="stable")
    ordered = series[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    for key, at in zip(ordered[starts].tolist(), np.split(order, starts[1:]), strict=True):
        stored, _ = read(conn, key // SERIES, key % SERIES, int(ts[at].min()), int(ts[at].max()) + 1)
        if stored.size:
            keep[at] = ~np.isin(ts[at], stored)
    return keep


ROWS_END = "SELECT max(ts) FROM readings WHERE machine = ? AND sensor = ?"
"""The newest time of a series in ``readings`` (NULL: none)."""


class SeriesEnds:
    """Per series, the newest time it holds in one partition (``NONE``: none), read with ``sql`` from the file the
    first time a series is asked for and raised by the writer after its writes there; a value may be above the
    truth (a rolled-back write), never below. A matrix indexed by the machine's and the sensor's numbers, so the
    thousands of series of a gateway's batch are looked up at once. Writer thread only."""

    UNKNOWN = 2**63 - 1

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._ends: npt.NDArray[np.int64] | None = None

    def clear(self) -> None:
        self._ends = None

    def of(
        self, conn: sqlite3.Connection, machines: npt.NDArray[np.int64], sensors: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """The ends of these series (one seek for each not known yet)."""
        import numpy as np

        ends = self._grown(int(machines.max()) + 1, int(sensors.max()) + 1)
        found = ends[machines, sensors]
        unknown = found == self.UNKNOWN
        if unknown.any():
            pairs = np.unique(np.stack([machines[unknown], sensors[unknown]], axis=1), axis=0)
            for machine, sensor in pairs.tolist():
                end = conn.execute(self.sql, (machine, sensor)).fetchone()
                ends[machine, sensor] = NONE if end is None or end[0] is None else end[0]
            found = ends[machines, sensors]
        return found

    def get(self, conn: sqlite3.Connection, machine: int, sensor: int) -> int:
        """The end of one series."""
        ends = self._ends
        if ends is not None and machine < ends.shape[0] and sensor < ends.shape[1]:
            end = int(ends[machine, sensor])
            if end != self.UNKNOWN:
                return end
        import numpy as np

        return int(self.of(conn, np.array([machine]), np.array([sensor]))[0])

    def raise_to(
        self, machines: npt.NDArray[np.int64], sensors: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
    ) -> None:
        """These series now hold times up to ``ends`` (a series not known yet stays unknown: read when asked)."""
        import numpy as np

        if self._ends is None or not machines.size:
            return
        matrix = self._grown(int(machines.max()) + 1, int(sensors.max()) + 1)
        known = matrix[machines, sensors] != self.UNKNOWN
        np.maximum.at(matrix, (machines[known], sensors[known]), ends[known])

    def raise_one(self, machine: int, sensor: int, end: int) -> None:
        """One series now holds times up to ``end`` (``raise_to`` for one)."""
        ends = self._ends
        if ends is not None and machine < ends.shape[0] and sensor < ends.shape[1]:
            known = int(ends[machine, sensor])
            if known != self.UNKNOWN and end > known:
                ends[machine, sensor] = end

    def _grown(self, machines: int, sensors: int) -> npt.NDArray[np.int64]:
        """The matrix, grown (doubling its machines) to hold these numbers."""
        import numpy as np

        ends = self._ends
        rows, cols = (0, 0) if ends is None else ends.shape
        if ends is not None and rows >= machines and cols >= sensors:
            return ends
        shape = (rows if rows >= machines else max(machines, 2 * rows, 64), cols if cols >= sensors else sensors + 16)
        grown = np.full(shape, self.UNKNOWN, dtype=np.int64)
        if ends is not None:
            grown[:rows, :cols] = ends
        self._ends = grown
        return grown
