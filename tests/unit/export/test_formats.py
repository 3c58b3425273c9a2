"""The JSON writer: an array of objects, a piece per chunk, times as ISO 8601 UTC, nulls for what JSON cannot say."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from factorytwin.export import Column, ExportFormat, encode
from factorytwin.export.formats import TIMESTAMP, Chunks, Row

COLUMNS = [Column("id", "int64"), Column("ts", TIMESTAMP), Column("value", "float64"), Column("text", "string")]


async def _chunks(*chunks: list[Row]) -> Chunks:
    for chunk in chunks:
        yield chunk


async def _pieces(chunks: Chunks) -> list[bytes]:
    return [piece async for piece in encode(ExportFormat.JSON, COLUMNS, chunks)]


async def test_json_is_an_array_of_objects_written_a_chunk_at_a_time() -> None:
    ts = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    pieces = await _pieces(
        _chunks([(1, ts, 1.5, 'a, "b" — ü')], [], [(2, None, float("nan"), None), (3, ts, float("inf"), "")])
    )
    assert len(pieces) == 4  # the opening bracket, one piece per non-empty chunk, the closing bracket
    assert json.loads(b"".join(pieces)) == [
        {"id": 1, "ts": "2026-03-02T10:00:00Z", "value": 1.5, "text": 'a, "b" — ü'},
        {"id": 2, "ts": None, "value": None, "text": None},
        {"id": 3, "ts": "2026-03-02T10:00:00Z", "value": None, "text": ""},
    ]


async def test_an_empty_table_is_an_empty_array() -> None:
    assert json.loads(b"".join(await _pieces(_chunks()))) == []
