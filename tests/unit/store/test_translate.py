"""Backend errors sorted into StoreRejected (content: retrying is useless) and StoreUnavailable (retry later)."""

from __future__ import annotations

import sqlite3

import asyncpg.exceptions as pg
import pytest
from asyncpg.exceptions import _base as pg_base

from factorytwin.errors import StoreRejected, StoreUnavailable
from factorytwin.store.translate import translate_postgres, translate_sqlite, translated

REJECTED: list[Exception] = [
    pg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
    pg.UntranslatableCharacterError("unsupported Unicode escape sequence"),
    pg.NumericValueOutOfRangeError("value out of range"),
    pg.NotNullViolationError("null value"),
    pg.ProgramLimitExceededError("index row size exceeds maximum"),
    pg_base.DataError("invalid input for query argument $1"),  # client side, an InterfaceError too
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
]
UNAVAILABLE: list[Exception] = [
    pg.AdminShutdownError("terminating connection due to administrator command"),
    pg.CannotConnectNowError("the database system is starting up"),
    pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    pg.TooManyConnectionsError("too many clients"),
    pg.DiskFullError("could not extend file"),
    pg.SerializationError("could not serialize access"),
    pg_base.InterfaceError("connection is closed"),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError(),
]


@pytest.mark.parametrize("exc", REJECTED, ids=lambda e: type(e).__name__)
def test_postgres_content_errors_are_rejected(exc: Exception) -> None:
    assert isinstance(translate_postgres(exc), StoreRejected)


@pytest.mark.parametrize("exc", UNAVAILABLE, ids=lambda e: type(e).__name__)
def test_postgres_outages_are_unavailable(exc: Exception) -> None:
    assert isinstance(translate_postgres(exc), StoreUnavailable)


@pytest.mark.parametrize(
    "exc", [pg.PostgresSyntaxError("syntax error"), pg.UndefinedTableError("no table"), KeyError("x")]
)
def test_bugs_are_left_as_they_are(exc: Exception) -> None:
    assert translate_postgres(exc) is exc
    assert translate_sqlite(exc) is exc


def test_sqlite_errors_are_sorted_the_same_way() -> None:
    assert isinstance(translate_sqlite(sqlite3.IntegrityError("NOT NULL constraint failed")), StoreRejected)
    assert isinstance(translate_sqlite(sqlite3.DataError("string or blob too big")), StoreRejected)
    assert isinstance(translate_sqlite(OverflowError("Python int too large")), StoreRejected)
    assert isinstance(translate_sqlite(sqlite3.ProgrammingError("Error binding parameter 1")), StoreRejected)
    assert isinstance(translate_sqlite(sqlite3.OperationalError("database is locked")), StoreUnavailable)
    assert isinstance(translate_sqlite(sqlite3.OperationalError("database or disk is full")), StoreUnavailable)
    assert isinstance(translate_sqlite(sqlite3.DatabaseError("file is not a database")), StoreUnavailable)
    bug = sqlite3.ProgrammingError("Cannot operate on a closed database.")
    assert translate_sqlite(bug) is bug


class _Holder:
    def __init__(self) -> None:
        self.reconnects = 0


async def _reconnect(holder: _Holder) -> None:
    holder.reconnects += 1


async def test_the_decorator_chains_the_cause_and_runs_the_outage_hook() -> None:
    @translated(translate_postgres, on_unavailable=_reconnect)
    async def fail(holder: _Holder, exc: Exception) -> None:
        raise exc

    holder = _Holder()
    cause = pg.AdminShutdownError("bye")
    with pytest.raises(StoreUnavailable) as caught:
        await fail(holder, cause)
    assert caught.value.__cause__ is cause
    assert holder.reconnects == 1
    with pytest.raises(StoreRejected):
        await fail(holder, pg.CharacterNotInRepertoireError("0x00"))
    assert holder.reconnects == 1
