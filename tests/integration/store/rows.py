"""Builders shared by the store's test modules."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from factorytwin.store import ReadingColumns

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp()) * 1000


def columns(rows: list[tuple[str, str, int, float]]) -> ReadingColumns:
    """Columns of ``(machine, sensor, ts_ms, value)`` rows."""
    cols = ReadingColumns()
    for machine, sensor, ts, value in rows:
        cols.machine_ids.append(machine)
        cols.sensors.append(sensor)
        cols.ts_ms.append(ts)
        cols.values.append(value)
    return cols


def thin(second: int, value: float = 1.0) -> list[tuple[str, str, int, float]]:
    """One reading of each of two series at ``T0 + second`` s (a 1 Hz gateway's batch): every (series, minute) of
    the batch has one reading."""
    return [(m, "power", T0_MS + second * 1_000, value) for m in ("mill-01", "pump-01")]


def sqlite_readings(path: str | Path) -> list[tuple[int, int, int, float]]:
    """Every ``(machine, sensor, ts_ms, value)`` of a SQLite store's file, read outside the store: the row partitions
    and the blocks (little-endian int64 times and float64 values, as docs/ARCHITECTURE.md describes them)."""
    conn = sqlite3.connect(path)
    try:
        rows = [tuple(r) for r in conn.execute("SELECT machine, sensor, ts, value FROM readings_all")]
        for machine, sensor, ts, vals in conn.execute("SELECT machine, sensor, ts, vals FROM readings_blocks"):
            times, values = np.frombuffer(ts, "<i8").tolist(), np.frombuffer(vals, "<f8").tolist()
            rows.extend((machine, sensor, t, v) for t, v in zip(times, values, strict=True))
    finally:
        conn.close()
    return rows


def aggregates(
    rows: list[tuple[int, int, int, float]], unit_ms: int
) -> list[tuple[int, int, int, float, float, float, int]]:
    """``(machine, sensor, unit, min, max, sum, count)`` of readings at or after 1970, per unit of ``unit_ms``."""
    acc: dict[tuple[int, int, int], list[float]] = {}
    for machine, sensor, ts, value in rows:
        if ts < 0:
            continue
        a = acc.setdefault((machine, sensor, ts // unit_ms), [value, value, 0.0, 0])
        a[0], a[1], a[2], a[3] = min(a[0], value), max(a[1], value), a[2] + value, a[3] + 1
    return [(*key, a[0], a[1], a[2], int(a[3])) for key, a in acc.items()]
