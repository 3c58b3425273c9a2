"""The compact reads of ``Store.kpi_rows``: the SQL of both backends picking the few JSON fields the KPIs use.

A year of the default factory is 132 k events; building an ``Event`` (pydantic, with its JSON checks) per row cost
13 s per KPI request. These statements return plain rows instead: time, kind, status and the picked fields, typed
by SQL (``json_type`` on SQLite, ``jsonb_typeof`` on PostgreSQL) so the KPI code sees what ``json.loads`` of the
whole ``data`` would give it for those fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from factorytwin.domain import unstorable_text
from factorytwin.store.base import KPI_STATUS_KINDS, StatusRow

_KINDS = ", ".join(f"'{k}'" for k in KPI_STATUS_KINDS)

# --- SQLite -------------------------------------------------------------------------------------------------------
_SQLITE_STATUS_COLS = """ts, kind, status,
  CASE json_type(data, '$.mode') WHEN 'text' THEN json_extract(data, '$.mode') END,
  CASE WHEN json_type(data, '$.mode') NOT IN ('text', 'null') THEN data -> '$.mode' END,
  CASE json_type(data, '$.reason') WHEN 'text' THEN json_extract(data, '$.reason') END,
  IFNULL(json_type(data, '$.planned') = 'true', 0)"""
SQLITE_STATUS = (
    f"SELECT {_SQLITE_STATUS_COLS} FROM events WHERE machine_id = ? AND kind IN ({_KINDS}) "
    "AND status IS NOT NULL AND ts >= ? AND ts < ? ORDER BY ts, id"
)
SQLITE_BEFORE = (
    f"SELECT {_SQLITE_STATUS_COLS} FROM events WHERE machine_id = ? AND kind IN ({_KINDS}) AND ts < ? "
    "ORDER BY ts DESC, id DESC LIMIT ?"
)
_SQLITE_NUMBER = "CASE WHEN json_type(data, '$.{0}') IN ('integer', 'real') THEN json_extract(data, '$.{0}') END"
SQLITE_COUNTS = (
    f"SELECT ts, json_extract(data, '$.parts_total'), {_SQLITE_NUMBER.format('parts_bad')}, "
    f"{_SQLITE_NUMBER.format('ideal_cycle_s')} FROM events WHERE machine_id = ? AND kind = 'production' "
    "AND ts > ? AND ts <= ? AND json_type(data, '$.parts_total') IN ('integer', 'real') "
    "AND json_extract(data, '$.parts_total') >= 0 ORDER BY ts, id"
)
SQLITE_ALARMS = (
    "SELECT raised_at FROM alarms WHERE machine_id = ? AND raised_at >= ? AND raised_at < ? ORDER BY raised_at, id"
)

EVENTS_AFTER = "SELECT machine_id, min(ts) FROM events WHERE id > ? GROUP BY machine_id"
NEWEST_EVENT = "SELECT coalesce(max(id), 0) FROM events"

# --- PostgreSQL ---------------------------------------------------------------------------------------------------
POSTGRES_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
"""The oldest transaction still running: every event of a lower transaction is committed (or never will be)."""
POSTGRES_EVENTS_SINCE = "SELECT id, machine_id, ts, xid::text::bigint FROM events WHERE xid >= $1::text::xid8"
_PG_STATUS_COLS = """e.ts, e.kind, e.status,
  CASE WHEN jsonb_typeof(e.data -> 'mode') = 'string' THEN e.data ->> 'mode' END,
  CASE WHEN jsonb_typeof(e.data -> 'mode') NOT IN ('string', 'null') THEN (e.data -> 'mode')::text END,
  CASE WHEN jsonb_typeof(e.data -> 'reason') = 'string' THEN e.data ->> 'reason' END,
  coalesce(e.data -> 'planned' = 'true'::jsonb, false)"""
POSTGRES_STATUS = (
    f"SELECT e.machine_id, {_PG_STATUS_COLS} FROM events e WHERE e.machine_id = ANY($1::text[]) "
    f"AND e.kind IN ({_KINDS}) AND e.status IS NOT NULL AND e.ts >= $2 AND e.ts < $3 "
    "ORDER BY e.machine_id, e.ts, e.id"
)
POSTGRES_BEFORE = (
    f"SELECT m.id, b.* FROM unnest($1::text[]) WITH ORDINALITY AS m(id, n) CROSS JOIN LATERAL ("
    f"SELECT {_PG_STATUS_COLS}, e.id AS event_id FROM events e WHERE e.machine_id = m.id AND e.kind IN ({_KINDS}) "
    "AND e.ts < $2 ORDER BY e.ts DESC, e.id DESC LIMIT $3) AS b ORDER BY m.n, b.ts DESC, b.event_id DESC"
)
# A CASE guards each cast: PostgreSQL does not promise to evaluate the type test of a WHERE first.
_PG_NUMBER = "CASE WHEN jsonb_typeof(data -> '{0}') = 'number' THEN (data ->> '{0}')::float8 END"
POSTGRES_COUNTS = (
    f"SELECT machine_id, ts, {_PG_NUMBER.format('parts_total')}, {_PG_NUMBER.format('parts_bad')}, "
    f"{_PG_NUMBER.format('ideal_cycle_s')} FROM events WHERE machine_id = ANY($1::text[]) AND kind = 'production' "
    f"AND ts > $2 AND ts <= $3 AND {_PG_NUMBER.format('parts_total')} >= 0 ORDER BY machine_id, ts, id"
)
POSTGRES_ALARMS = (
    "SELECT machine_id, raised_at FROM alarms WHERE machine_id = ANY($1::text[]) AND raised_at >= $2 "
    "AND raised_at < $3 ORDER BY machine_id, raised_at, id"
)


def storable_ids(machine_ids: Iterable[str]) -> list[str]:
    """The ids a row can hold (others find nothing), each once, in their first order."""
    return [m for m in dict.fromkeys(machine_ids) if unstorable_text(m) is None]


def status_row(r: Sequence[Any]) -> StatusRow:
    """A ``StatusRow`` from ``(ts, kind, status, mode_text, mode_json, reason, planned)``: a mode that is no string
    comes as JSON text and is decoded (rare: the simulator and gateways send strings)."""
    ts, kind, status, mode_text, mode_json, reason, planned = r
    mode: object = mode_text if mode_text is not None else json.loads(mode_json) if mode_json is not None else None
    return (ts, kind, status, mode, reason, bool(planned))
