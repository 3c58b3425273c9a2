"""The block helpers: aggregates per key and the history's bucket formula against a plain loop, the encoding,
and the writer's matrix of block ends."""

from __future__ import annotations

import random
import sqlite3

import numpy as np

from factorytwin.store import sqlite_blocks
from factorytwin.store.schema import SQLITE_BLOCKS_STEP


def test_aggregates_per_key_equal_a_plain_loop() -> None:
    rng = random.Random(3)
    keys = [rng.randint(0, 9) for _ in range(500)]
    values = [rng.uniform(-5, 5) for _ in keys]
    want: dict[int, list[float]] = {}
    for k, v in zip(keys, values, strict=True):
        want.setdefault(k, []).append(v)
    got = sqlite_blocks.aggregate(np.array(keys, dtype=np.int64), np.array(values))
    assert [row[0] for row in got] == sorted(want)
    for key, lo, hi, total, n in got:
        assert (lo, hi, n) == (min(want[key]), max(want[key]), len(want[key]))
        assert abs(total - sum(want[key])) < 1e-9


def test_buckets_follow_the_integer_formula_of_the_sql() -> None:
    origin, points, span = 1_000, 7, 60_000
    ts = np.arange(origin, origin + span, 997, dtype=np.int64)
    rows = sqlite_blocks.bucket_rows(ts, np.ones(ts.size), origin, points, span)
    counts: dict[int, int] = {}
    for t in ts.tolist():
        b = ((t - origin) * points) // span
        counts[b] = counts.get(b, 0) + 1
    assert [(b, n) for b, _, _, _, n in rows] == sorted(counts.items())
    assert sqlite_blocks.bucket_rows(ts[:0], np.ones(0), origin, points, span) == []
    assert sqlite_blocks.aggregate(ts[:0], np.ones(0)) == []


def test_a_block_is_little_endian_times_and_doubles() -> None:
    ts, vals = sqlite_blocks.encode(np.array([1, 2], dtype=np.int64), np.array([0.5, -1.25]))
    assert ts == (1).to_bytes(8, "little") + (2).to_bytes(8, "little")
    assert sqlite_blocks.last_value(vals[8:]) == -1.25


def test_series_ends_are_read_once_kept_when_the_matrix_grows_and_only_raised() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(SQLITE_BLOCKS_STEP[0])
    ts, vals = sqlite_blocks.encode(np.array([5, 9], dtype=np.int64), np.array([1.0, 2.0]))
    conn.execute(sqlite_blocks.INSERT_ROWS + "(?, ?, ?, ?, ?, ?, ?)", (3, 2, 5, 9, 2, ts, vals))
    ends = sqlite_blocks.SeriesEnds(sqlite_blocks.END)
    machines, sensors = np.array([3, 3, 1]), np.array([2, 1, 2])
    assert ends.of(conn, machines, sensors).tolist() == [9, sqlite_blocks.NONE, sqlite_blocks.NONE]
    conn.execute("DELETE FROM readings_blocks")  # known now: not read again
    assert ends.get(conn, 300, 70) == sqlite_blocks.NONE  # beyond the first matrix: grown
    assert ends.of(conn, machines, sensors).tolist() == [9, sqlite_blocks.NONE, sqlite_blocks.NONE]
    ends.raise_to(np.array([300, 3, 7]), np.array([70, 2, 7]), np.array([40, 7, 50]))  # 3/2 never lowered
    assert ends.of(conn, np.array([300, 3]), np.array([70, 2])).tolist() == [40, 9]
    assert ends.get(conn, 7, 7) == sqlite_blocks.NONE  # not known when raised: read from the file when asked
    ends.raise_one(300, 70, 45)
    ends.raise_one(300, 70, 41)
    ends.raise_one(9_999, 70, 1)  # beyond the matrix: unknown, stays so
    assert ends.of(conn, np.array([300]), np.array([70])).tolist() == [45]
