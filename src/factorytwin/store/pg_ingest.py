"""PostgreSQL batch ingest: ``PostgresStore.write_batches`` in three round trips for a group of one batch.

A group of batches is one transaction, each batch in its own savepoint (all-or-nothing on its own). The statements
that take no parameters go together as one simple query: ``BEGIN`` and the first savepoint in one round trip;
between two batches ``RELEASE`` and the next ``SAVEPOINT`` in one; at the end the last ``RELEASE``, the shared
rollup lock, the rollup dirty marks, the rollup merges, the readings counter and ``COMMIT`` in one. So a group of
``k`` batches costs ``2k + 1`` round trips (3 for one batch, against 9 before: docs/ARCHITECTURE.md, "Ingest beside
its peers").

A batch's readings go by binary ``COPY`` of a payload made from its columns at once (``payload_of``: one numpy
array of the whole wire format, no Python tuple per reading). ``COPY`` cannot skip a key stored before, so a
resend (or a key repeated in the batch) fails it with a unique violation; the savepoint is rolled back and the
batch goes again through ``INSERT ... ON CONFLICT DO NOTHING`` of its columns as arrays, which stores and counts
only what is new.

Rollups (store/rollup.py): a batch stored by ``COPY`` is all new, so its minute, hour and day aggregates are
computed from its columns (``rollup.deltas``, numpy) and merged into ``rollup_1m``/``1h``/``1d`` at the end
(``INSERT ... ON CONFLICT DO UPDATE`` with ``LEAST``/``GREATEST``/sums): the refresh never re-reads them. A batch
stored by ``INSERT`` (which may have stored only part of itself) marks its minutes in ``rollup_dirty`` instead, and
the refresh recomputes them from the readings. Marks, merges and the counter are written only for batches that
stored something, after all of them, still inside the transaction, so a failed batch or group leaves none.

The rollup lock is taken shared just before the marks and merges, not at ``BEGIN``: a refresh (which takes it
exclusively and holds it for its whole transaction) then delays only the last round trip of a write, not its
``COPY``. Either the refresh holds the lock first: it cannot see the write's uncommitted readings, and the write
inserts its marks and adds its merges only after the refresh has committed (and deleted the old marks), so the
marks survive it and the merges add to what it computed without the write's readings; or the write holds it
first, and commits readings, marks and merges together before the refresh reads any of them (its recompute then
includes those readings once). A merge never races a refresh's recompute of the same row.

Writers lock rollup rows in one order (marks, then minutes, hours, days, each statement in key order, then the
counter), so two writers on the same units wait for each other but never deadlock; ``ON CONFLICT DO UPDATE``
combines with the newest committed row. A sum that overflows a double fails its write (PostgreSQL refuses float
overflow, for a merge as for ``sum()`` over the readings); ingest bounds every value to its sensor's physical
range long before that.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from factorytwin.store import rollup
from factorytwin.store._rows import event_row
from factorytwin.store.base import Batch, ReadingColumns
from factorytwin.store.codes import Dictionary

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    # A batch's readings as native arrays (machine, sensor, ts, value).
    Columns = tuple[NDArray[np.int32], NDArray[np.int16], NDArray[np.int64], NDArray[np.float64]]

# Writes take it shared, a rollup refresh exclusive: a refresh never clears the mark of a minute whose new readings
# it could not see (another process's writes included).
ROLLUP_LOCK = 0x46547770
INSERT_EVENT = (
    "INSERT INTO events (machine_id, ts, kind, status, message, data, natural_key) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (natural_key) DO NOTHING"
)
_INSERT_READINGS = (
    "INSERT INTO readings (machine, sensor, ts, value) "
    "SELECT * FROM unnest($1::integer[], $2::smallint[], $3::bigint[], $4::float8[]) "
    "ON CONFLICT DO NOTHING"
)
_READING_COLUMNS = ("machine", "sensor", "ts", "value")
_BEGIN = "BEGIN; SAVEPOINT batch"
_NEXT = "RELEASE SAVEPOINT batch; SAVEPOINT batch"
_UNDO = "ROLLBACK TO SAVEPOINT batch"

# PostgreSQL's binary COPY format: a signature, flags and header extension length (both 0); per tuple its field
# count, then per field its length and its big-endian value; -1 as the trailer.
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_TRAILER = b"\xff\xff"
_FIELDS = (("machine", ">i4"), ("sensor", ">i2"), ("ts", ">i8"), ("value", ">f8"))


@functools.cache
def _tuple_type() -> np.dtype[Any]:
    """One tuple of ``readings`` on the wire: ``(4, 4, machine, 2, sensor, 8, ts, 8, value)``, packed (40 bytes)."""
    import numpy as np  # here, not at module level: start-up imports no numeric stack (test_startup)

    parts: list[tuple[str, str]] = [("count", ">i2")]
    for name, kind in _FIELDS:
        parts += [(f"{name}_len", ">i4"), (name, kind)]
    return np.dtype(parts)


def reading_arrays(
    machines: Sequence[int], sensors: Sequence[int], ts_ms: Sequence[int], values: Sequence[float]
) -> Columns:
    """The columns as native arrays of their ``readings`` types (machine INTEGER, sensor SMALLINT, ts BIGINT,
    value DOUBLE PRECISION); an integer outside its column's type raises ``OverflowError``."""
    import numpy as np

    n = len(values)
    if not len(machines) == len(sensors) == len(ts_ms) == n:
        raise ValueError("reading columns of different lengths")
    return (
        np.fromiter(machines, dtype=np.int32, count=n),
        np.fromiter(sensors, dtype=np.int16, count=n),
        np.fromiter(ts_ms, dtype=np.int64, count=n),
        np.fromiter(values, dtype=np.float64, count=n),
    )


def copy_payload(
    machines: Sequence[int], sensors: Sequence[int], ts_ms: Sequence[int], values: Sequence[float]
) -> bytearray:
    """The binary ``COPY`` data of these ``readings`` rows, the columns as typed (Python ints, floats). Values go
    bit for bit (NaN and infinities too, which the database takes, as with ``copy_records_to_table`` before); an
    integer outside its column's type raises ``OverflowError`` before anything is sent (the store translates it
    into ``StoreRejected``)."""
    return payload_of(reading_arrays(machines, sensors, ts_ms, values))


def payload_of(columns: Columns) -> bytearray:
    """The binary ``COPY`` data of ``reading_arrays`` columns: one numpy array of the whole wire format."""
    import numpy as np

    n = len(columns[3])
    kind = _tuple_type()
    out = bytearray(len(_HEADER) + n * kind.itemsize + len(_TRAILER))
    out[: len(_HEADER)] = _HEADER
    out[len(out) - len(_TRAILER) :] = _TRAILER
    rows = np.frombuffer(out, dtype=kind, count=n, offset=len(_HEADER))
    rows["count"] = len(_FIELDS)
    arrays: list[NDArray[Any]] = list(columns)
    for (name, _), array in zip(_FIELDS, arrays, strict=True):
        rows[f"{name}_len"] = array.dtype.itemsize
        rows[name] = array
    return out


async def write_batches(conn: asyncpg.Connection, codes: Dictionary, batches: Sequence[Batch]) -> list[int | Exception]:
    """Store ``batches`` on ``conn`` in one transaction, each all-or-nothing; per batch its new count or its error
    (untranslated). Raises when the transaction as a whole fails (nothing of it is stored)."""
    results: list[int | Exception] = []
    marks: set[tuple[int, int, int]] = set()  # of the batches stored by INSERT
    copied: list[Columns] = []  # the batches stored by COPY: all new, rolled up at the end
    await conn.execute(_BEGIN)
    try:
        clean = True  # the open savepoint holds no statement yet
        for readings, events in batches:
            try:
                machines, sensors = codes.encode(readings)
                codes.check_event_machines(events)
                event_rows = [event_row(e) for e in events]
                cols = reading_arrays(machines, sensors, readings.ts_ms, readings.values) if len(readings) else None
            except Exception as exc:  # refused before anything was sent
                results.append(exc)
                continue
            if not clean:
                await conn.execute(_NEXT)
            clean = False
            try:
                new, by_copy = await _write_batch(conn, machines, sensors, readings, cols, event_rows)
            except Exception as exc:
                await conn.execute(_UNDO)  # raises on a lost connection: the whole group fails
                clean = True
                results.append(exc)
                continue
            if by_copy and cols is not None:
                copied.append(cols)
            elif new:
                marks.update(rollup.dirty_marks(machines, sensors, readings.ts_ms))
            results.append(new)
        total = sum(r for r in results if isinstance(r, int))
        await conn.execute(_finish(marks, _deltas(copied), total))
    except BaseException:
        with contextlib.suppress(Exception):
            await conn.execute("ROLLBACK")
        raise
    return results


async def _write_batch(
    conn: asyncpg.Connection,
    machines: list[int],
    sensors: list[int],
    readings: ReadingColumns,
    cols: Columns | None,
    event_rows: list[tuple[Any, ...]],
) -> tuple[int, bool]:
    """One batch inside the open savepoint: readings by COPY, else (a key stored before) by INSERT; then events.
    Its new count, and whether COPY stored it (then every reading of it is new)."""
    new, by_copy = 0, False
    if cols is not None:
        try:
            status = await conn.copy_to_table(
                "readings", source=payload_of(cols), columns=_READING_COLUMNS, format="binary"
            )
            by_copy = True
        except asyncpg.UniqueViolationError:
            await conn.execute(_UNDO)
            status = await conn.execute(_INSERT_READINGS, machines, sensors, readings.ts_ms, readings.values)
        new = int(status.rsplit(" ", 1)[-1])  # "COPY <rows>" / "INSERT 0 <rows>"
    if event_rows:
        await conn.executemany(INSERT_EVENT, event_rows)
    return new, by_copy


def _deltas(copied: list[Columns]) -> list[rollup.Deltas]:
    """The rollup aggregates of every batch stored by COPY, together (one row per key and level in the merge)."""
    if not copied:
        return []
    if len(copied) == 1:
        return rollup.deltas(*copied[0])
    import numpy as np

    machines, sensors, ts, values = (np.concatenate(c) for c in zip(*copied, strict=True))
    return rollup.deltas(machines, sensors, ts, values)


def _finish(marks: set[tuple[int, int, int]], deltas: list[rollup.Deltas], total: int) -> str:
    """The last round trip: release the savepoint, take the rollup lock shared, mark the rollup minutes of the
    batches stored by INSERT, merge the aggregates of those stored by COPY into the three levels, count, commit.

    A simple query takes no parameters, so marks and aggregates go as array literals ``unnest``-ed: as cheap for
    the server as binary arrays, where a ``VALUES`` list of the same rows costs it a third more to parse (doubles
    as Python's ``repr``, which reads back to the same double; ``nan``, ``inf`` and ``-inf`` are valid input). Each
    statement in key order, and the tables always in the same order (marks, minutes, hours, days, the counter), so
    that two writers never wait on each other's rows in opposite orders."""
    parts = ["RELEASE SAVEPOINT batch", f"SELECT pg_advisory_xact_lock_shared({ROLLUP_LOCK})"]
    if marks:
        machines, sensors, minutes = (_array(col) for col in zip(*sorted(marks), strict=True))
        parts.append(
            "INSERT INTO rollup_dirty (machine, sensor, minute) SELECT * FROM "
            f"unnest({machines}::integer[], {sensors}::smallint[], {minutes}::bigint[]) ON CONFLICT DO NOTHING"
        )
    parts.extend(_merge(d) for d in deltas)
    if total:
        parts.append(f"UPDATE counters SET value = value + {int(total)} WHERE name = 'readings'")
    parts.append("COMMIT")
    return "; ".join(parts)


def _merge(d: rollup.Deltas) -> str:
    """Add the aggregates of new readings to one rollup level: a new unit gets them, a stored one is combined."""
    col = d.level.column
    machines, sensors, units, n = (_array(a.tolist()) for a in (d.machine, d.sensor, d.unit, d.n))
    vmin, vmax, vsum = (_floats(a.tolist()) for a in (d.vmin, d.vmax, d.vsum))
    return (
        f"INSERT INTO {d.level.table} AS r (machine, sensor, {col}, vmin, vmax, vsum, n) SELECT * FROM "
        f"unnest({machines}::integer[], {sensors}::smallint[], {units}::bigint[], {vmin}::float8[], "
        f"{vmax}::float8[], {vsum}::float8[], {n}::bigint[]) ON CONFLICT (machine, sensor, {col}) DO UPDATE SET "
        "vmin = LEAST(r.vmin, excluded.vmin), vmax = GREATEST(r.vmax, excluded.vmax), vsum = r.vsum + excluded.vsum, "
        "n = r.n + excluded.n"
    )


def _floats(column: Sequence[float]) -> str:
    """A PostgreSQL array literal of doubles, quoted, each as its shortest exact ``repr``."""
    return "'{" + ",".join(map(repr, column)) + "}'"


def _array(column: Sequence[int]) -> str:
    """A PostgreSQL array literal of integers, quoted (``'{1,2,3}'``)."""
    return "'{" + ",".join(str(int(x)) for x in column) + "}'"
