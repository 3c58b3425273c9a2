"""Builders shared by the store's test modules."""

from __future__ import annotations

from datetime import UTC, datetime

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
