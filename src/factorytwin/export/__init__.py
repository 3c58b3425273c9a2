"""Exports of history, alarms, events, KPIs and work orders as CSV, Parquet or JSON, streamed in constant memory.

Public face: ``ExportFormat``, ``MEDIA_TYPES``, ``encode`` (a table's byte stream) and the table sources of
``export.tables``.
"""

from __future__ import annotations

from factorytwin.export import tables
from factorytwin.export.formats import MEDIA_TYPES, Column, ExportFormat, csv_bytes, encode, json_bytes, parquet_bytes

__all__ = ["MEDIA_TYPES", "Column", "ExportFormat", "csv_bytes", "encode", "json_bytes", "parquet_bytes", "tables"]
