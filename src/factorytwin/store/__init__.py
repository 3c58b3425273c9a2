"""Storage of machines, readings, events and alarms: the ``Store`` protocol and its SQLite/PostgreSQL backends.

``open_store(url)`` picks the backend by URL scheme and returns it unopened; call ``await store.open()``.
"""

from __future__ import annotations

import re
from pathlib import Path

from factorytwin.store._rows import query_buckets
from factorytwin.store.base import (
    MAX_HISTORY_POINTS,
    MAX_LIST_LIMIT,
    AlarmQuery,
    Bucketing,
    EventQuery,
    HistoryBucket,
    HistoryQuery,
    LatestValue,
    ReadingColumns,
    Store,
    StoreStats,
    all_events,
)

__all__ = [
    "MAX_HISTORY_POINTS",
    "MAX_LIST_LIMIT",
    "AlarmQuery",
    "Bucketing",
    "EventQuery",
    "HistoryBucket",
    "HistoryQuery",
    "LatestValue",
    "ReadingColumns",
    "Store",
    "StoreStats",
    "all_events",
    "open_store",
    "query_buckets",
    "redact_url",
]

_USERINFO_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/@:]*):[^/]*@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|pass|pwd)=)[^&#]*")


def redact_url(url: str) -> str:
    """``url`` fit to be printed or logged: a password (``user:secret@`` or ``?password=``) replaced by ``***``.

    ``postgresql://app:s3cret@db:5432/ft`` becomes ``postgresql://app:***@db:5432/ft``; a URL without a password
    comes back unchanged.
    """
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\g<head>:***@", url))


def open_store(url: str) -> Store:
    """The store for ``url``: ``sqlite:///relative/path.db``, ``sqlite:////abs/path.db`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ValueError(f"database URL {redact_url(url)!r} names no file: use sqlite:///path/to/file.db")
        from factorytwin.store.sqlite import SQLiteStore

        return SQLiteStore(Path(path))
    if url.startswith(("postgresql://", "postgres://")):
        from factorytwin.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(
        f"database URL {redact_url(url)!r}: use sqlite:///path/to/file.db or postgresql://user@host:port/db"
    )
