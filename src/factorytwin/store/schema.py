"""Versioned schema migrations of both backends: a ``schema_version`` table and an ordered list of steps.

A step is a list of SQL statements applied in one transaction; a store applies every step above its recorded
version on open, so opening twice (or by two processes) changes nothing. Append new steps; never edit old ones.

Readings are narrow and compact: machine and sensor are dictionary-encoded as small integers (tables
``machines.num`` and ``sensors.num``), time is integer milliseconds UTC, and the primary key
``(machine, sensor, ts)`` both rejects resends and serves every time-range query of one sensor.
"""

from __future__ import annotations

from factorytwin.store.assets_schema import POSTGRES_ASSETS_STEP, SQLITE_ASSETS_STEP
from factorytwin.store.auth_schema import POSTGRES_AUTH_STEP, SQLITE_AUTH_STEP
from factorytwin.store.profiles_schema import POSTGRES_PROFILES_STEP, SQLITE_PROFILES_STEP
from factorytwin.store.workorders_schema import POSTGRES_WORK_ORDERS_STEP, SQLITE_WORK_ORDERS_STEP

Migration = list[str]

EVENT_KEY_STEP: Migration = [
    # Events get a natural key (a hash of machine, ts, kind, status, message and data, see _rows.event_key) so a
    # resent event is stored once. Rows written before have none (NULL): unique indexes let NULLs repeat on both
    # backends, so old duplicates stay as they were and only new writes are deduplicated.
    "ALTER TABLE events ADD COLUMN natural_key TEXT",
    "CREATE UNIQUE INDEX events_natural_key ON events (natural_key)",
]

ALARM_SHELF_STEP: Migration = [
    # Shelving (until, by whom, why) and operators' comments (a JSON array of [ms, by, text]; TEXT on both
    # backends: it is read and written whole, never queried into).
    "ALTER TABLE alarms ADD COLUMN shelved_until BIGINT",
    "ALTER TABLE alarms ADD COLUMN shelved_by TEXT",
    "ALTER TABLE alarms ADD COLUMN shelve_reason TEXT",
    "ALTER TABLE alarms ADD COLUMN comments TEXT NOT NULL DEFAULT '[]'",
]

MACHINE_PROVISION_STEP: Migration = [
    # Machines provisioned live: per-machine band overrides (JSON text, read whole) and a retired flag. A deleted
    # machine is retired, not removed: its readings, events and alarms stay readable, and its dictionary number is
    # kept for the day a machine of the same id comes back.
    "ALTER TABLE machines ADD COLUMN bands TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE machines ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
]


POSTGRES_EVENT_XID_STEP: Migration = [
    # The writing transaction of each event, for Store.events_after's cursor (ids are handed out before their
    # commits, so an id cursor could step over a late commit). Older rows keep NULL: long committed.
    "ALTER TABLE events ADD COLUMN xid xid8",
    "ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()",
    "CREATE INDEX events_xid ON events (xid)",
]


def _connectors_step(integer: str) -> Migration:
    # Connector configurations (store/connectors.py): the configuration is JSON text, read and written whole.
    return [
        f"""CREATE TABLE connectors (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            config TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            saved_at {integer} NOT NULL,
            saved_by TEXT NOT NULL)"""
    ]


def _saved_views_step(serial: str, integer: str) -> Migration:
    # Saved History views (store/saved_views.py): a name, the view's dashboard hash (read and written whole), who
    # owns it and whether everyone may open it; listed by owner and by shared.
    return [
        f"""CREATE TABLE saved_views (
            id {serial} PRIMARY KEY,
            name TEXT NOT NULL,
            hash TEXT NOT NULL,
            owner TEXT NOT NULL,
            shared INTEGER NOT NULL,
            created_at {integer} NOT NULL)""",
        "CREATE INDEX saved_views_owner ON saved_views (owner)",
    ]


def _rollup_levels_step(integer: str, real: str, without_rowid: str, sensor: str) -> Migration:
    # Hourly and daily rollups (see rollup.py), filled from the minutes already rolled up. A minute still dirty
    # makes its hour and day possibly stale, but a stale unit is never read, and the refresh that cleans that
    # minute recomputes them.
    tables = [
        f"""CREATE TABLE {table} (
            machine INTEGER NOT NULL,
            sensor {sensor} NOT NULL,
            {column} {integer} NOT NULL,
            vmin {real} NOT NULL,
            vmax {real} NOT NULL,
            vsum {real} NOT NULL,
            n {integer} NOT NULL,
            PRIMARY KEY (machine, sensor, {column})){without_rowid}"""
        for table, column in (("rollup_1h", "hour"), ("rollup_1d", "day"))
    ]
    return [
        *tables,
        "INSERT INTO rollup_1h SELECT machine, sensor, minute / 60, min(vmin), max(vmax), sum(vsum), "
        "CAST(sum(n) AS BIGINT) FROM rollup_1m GROUP BY machine, sensor, minute / 60",
        "INSERT INTO rollup_1d SELECT machine, sensor, hour / 24, min(vmin), max(vmax), sum(vsum), "
        "CAST(sum(n) AS BIGINT) FROM rollup_1h GROUP BY machine, sensor, hour / 24",
    ]


SQLITE_BLOCKS_STEP: Migration = [
    """CREATE TABLE readings_blocks (
        machine INTEGER NOT NULL,
        sensor INTEGER NOT NULL,
        t0 INTEGER NOT NULL,
        t1 INTEGER NOT NULL,
        n INTEGER NOT NULL,
        ts BLOB NOT NULL,
        vals BLOB NOT NULL,
        PRIMARY KEY (machine, sensor, t0))""",
    # The newest time of any block: readings all newer than it cannot repeat one stored in a block.
    f"INSERT INTO counters (name, value) VALUES ('blocks_max_ts', {-(2**62)})",
]
"""SQLite's blocks (sqlite_blocks.py; a rowid table: its rows are hundreds of bytes, the key index stays small)."""

SQLITE_MIGRATIONS: list[Migration] = [
    [
        """CREATE TABLE machines (
            num INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            line TEXT NOT NULL,
            x REAL NOT NULL,
            y REAL NOT NULL,
            rotation REAL NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL DEFAULT '{}')""",
        "CREATE TABLE sensors (num INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
        """CREATE TABLE readings (
            machine INTEGER NOT NULL,
            sensor INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (machine, sensor, ts)) WITHOUT ROWID""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            machine_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            kind TEXT NOT NULL,
            status TEXT,
            message TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL DEFAULT '{}')""",
        "CREATE INDEX events_machine_ts ON events (machine_id, ts)",
        "CREATE INDEX events_ts ON events (ts)",
        """CREATE TABLE alarms (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            machine_id TEXT NOT NULL,
            type TEXT NOT NULL,
            severity TEXT NOT NULL,
            state TEXT NOT NULL,
            message TEXT NOT NULL,
            sensor TEXT,
            value REAL,
            raised_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            acked_at INTEGER,
            acked_by TEXT,
            cleared_at INTEGER,
            cleared_by TEXT)""",
        "CREATE INDEX alarms_machine_raised ON alarms (machine_id, raised_at)",
        "CREATE INDEX alarms_state ON alarms (state)",
        # Exact counts for /health without scanning the readings table, kept in the write transaction.
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
        "INSERT INTO counters (name, value) VALUES ('readings', 0)",
    ],
    [  # one-minute rollups (see rollup.py); existing readings are marked dirty and rolled up in the background
        """CREATE TABLE rollup_1m (
            machine INTEGER NOT NULL,
            sensor INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            vmin REAL NOT NULL,
            vmax REAL NOT NULL,
            vsum REAL NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (machine, sensor, minute)) WITHOUT ROWID""",
        """CREATE TABLE rollup_dirty (
            machine INTEGER NOT NULL,
            sensor INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            PRIMARY KEY (machine, sensor, minute)) WITHOUT ROWID""",
        "INSERT OR IGNORE INTO rollup_dirty SELECT DISTINCT machine, sensor, ts / 60000 FROM readings WHERE ts >= 0",
    ],
    EVENT_KEY_STEP,
    SQLITE_AUTH_STEP,  # users, API tokens, sessions, device keys, audit trail (auth_schema.py)
    SQLITE_PROFILES_STEP,  # machine profiles and their versions (profiles_schema.py)
    ALARM_SHELF_STEP,
    MACHINE_PROVISION_STEP,
    _connectors_step("INTEGER"),
    SQLITE_WORK_ORDERS_STEP,  # work orders (workorders_schema.py)
    SQLITE_ASSETS_STEP,  # uploaded glTF/GLB assets (assets_schema.py)
    [],  # PostgreSQL's events.xid: one writer here, ids commit in order (kept so both number their steps alike)
    _saved_views_step("INTEGER", "INTEGER"),  # saved History views (INTEGER PRIMARY KEY: the rowid)
    _rollup_levels_step("INTEGER", "REAL", " WITHOUT ROWID", "INTEGER"),  # hourly and daily rollups
    [  # the hot partition of thin batches, moved into readings every few seconds (sqlite.py, "hot partition")
        """CREATE TABLE readings_hot (
            machine INTEGER NOT NULL,
            sensor INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (machine, sensor, ts)) WITHOUT ROWID""",
        "CREATE VIEW readings_all AS SELECT machine, sensor, ts, value FROM readings "
        "UNION ALL SELECT machine, sensor, ts, value FROM readings_hot",
        # The newest time in readings: a thin batch all newer than it cannot repeat a reading stored there.
        f"INSERT INTO counters (name, value) SELECT 'readings_max_ts', coalesce(max(ts), {-(2**62)}) FROM readings",
    ],
    SQLITE_BLOCKS_STEP,  # dense batches' runs of a series as blocks of two arrays (sqlite_blocks.py)
]

POSTGRES_MIGRATIONS: list[Migration] = [
    [
        """CREATE TABLE machines (
            num INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            line TEXT NOT NULL,
            x DOUBLE PRECISION NOT NULL,
            y DOUBLE PRECISION NOT NULL,
            rotation DOUBLE PRECISION NOT NULL DEFAULT 0,
            metadata JSONB NOT NULL DEFAULT '{}')""",
        "CREATE TABLE sensors (num SMALLINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
        """CREATE TABLE readings (
            machine INTEGER NOT NULL,
            sensor SMALLINT NOT NULL,
            ts BIGINT NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (machine, sensor, ts))""",
        """CREATE TABLE events (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            machine_id TEXT NOT NULL,
            ts BIGINT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT,
            message TEXT NOT NULL DEFAULT '',
            data JSONB NOT NULL DEFAULT '{}')""",
        "CREATE INDEX events_machine_ts ON events (machine_id, ts)",
        "CREATE INDEX events_ts ON events (ts)",
        """CREATE TABLE alarms (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            machine_id TEXT NOT NULL,
            type TEXT NOT NULL,
            severity TEXT NOT NULL,
            state TEXT NOT NULL,
            message TEXT NOT NULL,
            sensor TEXT,
            value DOUBLE PRECISION,
            raised_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            acked_at BIGINT,
            acked_by TEXT,
            cleared_at BIGINT,
            cleared_by TEXT)""",
        "CREATE INDEX alarms_machine_raised ON alarms (machine_id, raised_at)",
        "CREATE INDEX alarms_state ON alarms (state)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO counters (name, value) VALUES ('readings', 0)",
    ],
    [
        """CREATE TABLE rollup_1m (
            machine INTEGER NOT NULL,
            sensor SMALLINT NOT NULL,
            minute BIGINT NOT NULL,
            vmin DOUBLE PRECISION NOT NULL,
            vmax DOUBLE PRECISION NOT NULL,
            vsum DOUBLE PRECISION NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (machine, sensor, minute))""",
        """CREATE TABLE rollup_dirty (
            machine INTEGER NOT NULL,
            sensor SMALLINT NOT NULL,
            minute BIGINT NOT NULL,
            PRIMARY KEY (machine, sensor, minute))""",
        "INSERT INTO rollup_dirty SELECT DISTINCT machine, sensor, ts / 60000 FROM readings WHERE ts >= 0",
    ],
    EVENT_KEY_STEP,
    POSTGRES_AUTH_STEP,  # users, API tokens, sessions, device keys, audit trail (auth_schema.py)
    POSTGRES_PROFILES_STEP,  # machine profiles and their versions (profiles_schema.py)
    ALARM_SHELF_STEP,
    MACHINE_PROVISION_STEP,
    _connectors_step("BIGINT"),
    POSTGRES_WORK_ORDERS_STEP,  # work orders (workorders_schema.py)
    POSTGRES_ASSETS_STEP,  # uploaded glTF/GLB assets (assets_schema.py)
    POSTGRES_EVENT_XID_STEP,
    _saved_views_step("BIGINT GENERATED BY DEFAULT AS IDENTITY", "BIGINT"),  # saved History views
    _rollup_levels_step("BIGINT", "DOUBLE PRECISION", "", "SMALLINT"),  # hourly and daily rollups
    [],  # SQLite's hot partition: PostgreSQL's heap appends in arrival order (kept so both number their steps alike)
    [],  # SQLite's blocks: PostgreSQL's COPY writes a batch in bulk already
]

HISTORY_SQL = """
SELECT ((ts - {origin}) * {points}) / {span} AS bucket, min(value), max(value), avg(value), count(*)
FROM {readings}
WHERE machine = {machine} AND sensor = {sensor} AND ts >= {start} AND ts < {end}
GROUP BY bucket ORDER BY bucket
"""
"""Bucketed history, the same on both backends (integer division of non-negative integers truncates alike: the
origin is at or before the start, ``rollup.Buckets``); ``{readings}``: the table, or SQLite's view of both
partitions."""

LATEST_SQL = """
SELECT s.key, r.ts, r.value
FROM sensors s {join} {readings} r ON r.machine = {machine} AND r.sensor = s.num
 AND r.ts = (SELECT max(ts) FROM {readings} WHERE machine = {machine} AND sensor = s.num)
"""
"""Newest value per sensor: one index seek per sensor of the dictionary; ``{readings}``: a table (SQLite asks each
of its partitions, the view would be materialised for the join); ``{join}``: ``JOIN``, or SQLite's ``CROSS JOIN``,
which keeps the sensors outside (its own order scanned every reading of the machine, running the subquery for each:
500 ms for a machine of a million readings; checked with EXPLAIN QUERY PLAN)."""
