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


def thin(second: int, value: float = 1.0) -> list[tuple[str, str, int, float]]:
    """One reading of each of two series at ``T0 + second`` s (a 1 Hz gateway's batch): every (series, minute) of
    the batch has one reading."""
    return [(m, "power", T0_MS + second * 1_000, value) for m in ("mill-01", "pump-01")]
