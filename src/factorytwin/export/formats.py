"""Streaming writers: chunks of rows in, bytes out, CSV, Parquet or JSON, in constant memory.

A table is a list of ``Column``s and an async iterator of row chunks (lists of tuples). CSV and JSON are written
chunk by chunk; Parquet gets one row group per chunk, its bytes handed on as soon as the group is written (the
footer comes at the end), so none holds more than one chunk.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Row = tuple[Any, ...]
Chunks = AsyncIterator[list[Row]]


class ExportFormat(StrEnum):
    """The file formats of an export."""

    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
    ExportFormat.JSON: "application/json",
}


@dataclass(frozen=True, slots=True)
class Column:
    """A column of an export: name and Arrow type (timestamps are UTC)."""

    name: str
    type: ColumnType


ColumnType = Literal["string", "float64", "int64", "bool", "timestamp"]
"""A column's type, named (pyarrow is imported only when a Parquet file is written: the server starts without it)."""
TIMESTAMP: ColumnType = "timestamp"


def arrow_type(name: ColumnType) -> pa.DataType:
    """The Arrow type of a column type (timestamps are milliseconds, UTC)."""
    import pyarrow as pa

    if name == "timestamp":
        return pa.timestamp("ms", tz="UTC")
    return {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_()}[name]


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if value is None:
        return ""
    return value


async def csv_bytes(columns: Sequence[Column], chunks: Chunks) -> AsyncIterator[bytes]:
    """The table as CSV (header first, ISO 8601 UTC times, empty cells for nulls), one piece per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    yield buffer.getvalue().encode()
    async for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(v) for v in row] for row in rows)
        yield buffer.getvalue().encode()


class _Sink(io.RawIOBase):
    """A write-only file that keeps what was written until it is taken."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        return len(b)

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


async def parquet_bytes(columns: Sequence[Column], chunks: Chunks) -> AsyncIterator[bytes]:
    """The table as Parquet (zstd), one row group per chunk, written out as it goes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = [arrow_type(c.type) for c in columns]
    schema = pa.schema([pa.field(c.name, t) for c, t in zip(columns, types, strict=True)])
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        async for rows in chunks:
            if not rows:
                continue
            arrays = [pa.array([row[i] for row in rows], type=t) for i, t in enumerate(types)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            if piece := sink.take():
                yield piece
    finally:
        writer.close()
    yield sink.take()


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return value


async def json_bytes(columns: Sequence[Column], chunks: Chunks) -> AsyncIterator[bytes]:
    """The table as a JSON array of objects (column name -> value; ISO 8601 UTC times, null for nulls), one
    object a line, one piece per chunk."""
    names = [c.name for c in columns]
    yield b"["
    first = True
    async for rows in chunks:
        if not rows:
            continue
        lines = []
        for row in rows:
            obj = {name: _json_value(v) for name, v in zip(names, row, strict=True)}
            lines.append(("\n" if first else ",\n") + json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
            first = False
        yield "".join(lines).encode()
    yield b"\n]\n"


def encode(fmt: ExportFormat, columns: Sequence[Column], chunks: Chunks) -> AsyncIterator[bytes]:
    """The byte stream of a table in ``fmt``."""
    if fmt is ExportFormat.CSV:
        return csv_bytes(columns, chunks)
    if fmt is ExportFormat.JSON:
        return json_bytes(columns, chunks)
    return parquet_bytes(columns, chunks)
