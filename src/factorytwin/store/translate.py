"""Backend errors translated into the two store errors callers act on: ``StoreRejected`` and ``StoreUnavailable``.

The difference decides what a caller does. Data the backend cannot hold (a NUL in PostgreSQL text, a value out of
range, a constraint broken by the content) is *rejected*: retrying the same data never helps, so the API answers
422 and MQTT ingest acknowledges the message and counts it. A store that cannot be reached or is failing for
reasons outside the data (connection lost, server shutting down, disk full, locked, timed out) is *unavailable*:
the API answers 503 with Retry-After and MQTT ingest retries. Anything else (a bug: a syntax error, a wrong type
in our own code) is left as it is, so it shows up as the bug it is.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import asyncpg.exceptions as pg
from asyncpg.exceptions import _base as pg_base

from factorytwin.errors import StoreRejected, StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")
Translate = Callable[[Exception], Exception]

# Order matters: asyncpg's client-side DataError ("invalid input for query argument") is an InterfaceError, and
# InterfaceError otherwise means the connection is closed or broken.
_PG_REJECTED: tuple[type[Exception], ...] = (
    pg_base.DataError,  # client side: a value the protocol cannot encode (an int over int64, ...)
    pg.DataError,  # class 22: CharacterNotInRepertoire (NUL), UntranslatableCharacter, NumericValueOutOfRange, ...
    pg.IntegrityConstraintViolationError,  # class 23
    pg.ProgramLimitExceededError,  # class 54: a row or index entry too large
    UnicodeEncodeError,  # a lone surrogate cannot be sent as UTF-8
    OverflowError,
)
_PG_UNAVAILABLE: tuple[type[Exception], ...] = (
    pg.PostgresConnectionError,  # class 08
    pg.OperatorInterventionError,  # class 57: admin shutdown (pg_terminate_backend), cannot connect now, cancelled
    pg.InsufficientResourcesError,  # class 53: disk full, out of memory, too many connections
    pg.TransactionRollbackError,  # class 40: serialization failure, deadlock (retrying helps)
    pg.ObjectNotInPrerequisiteStateError,  # class 55: database not accepting connections, lock not available
    pg_base.InterfaceError,  # connection closed / in a broken state
    pg_base.InternalClientError,  # the protocol state of a connection the server closed under a query
    OSError,  # refused, reset, unreachable
    TimeoutError,
)


def translate_postgres(exc: Exception) -> Exception:
    """The store error for an asyncpg (or socket) error; ``exc`` itself when it is neither kind."""
    if isinstance(exc, StoreRejected | StoreUnavailable):
        return exc
    if isinstance(exc, _PG_REJECTED):
        return StoreRejected(f"the database refused the data: {exc}")
    if isinstance(exc, _PG_UNAVAILABLE):
        return StoreUnavailable(f"the database is unavailable: {type(exc).__name__}: {exc}")
    return exc


def translate_sqlite(exc: Exception) -> Exception:
    """The store error for a sqlite3 (or file system) error; ``exc`` itself when it is neither kind."""
    if isinstance(exc, StoreRejected | StoreUnavailable):
        return exc
    if isinstance(exc, sqlite3.DataError | sqlite3.IntegrityError | OverflowError | UnicodeEncodeError):
        return StoreRejected(f"the database refused the data: {exc}")
    if isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in str(exc):
        return StoreRejected(f"the database refused the data: {exc}")
    # OperationalError: locked, disk full, I/O error, read-only file; DatabaseError: a file that is not (or no
    # longer) a database.
    if isinstance(exc, sqlite3.OperationalError | OSError) or type(exc) is sqlite3.DatabaseError:
        return StoreUnavailable(f"the database is unavailable: {exc}")
    return exc


def translated(
    translate: Translate, on_unavailable: Callable[[Any], Awaitable[None]] | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Decorate an async store method so its backend errors leave it translated by ``translate``.

    ``on_unavailable(self)``, when given, runs before a ``StoreUnavailable`` is raised (PostgreSQL: drop the
    pool's connections, so the next call connects afresh instead of reusing one the server closed).
    """

    def decorate(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(method)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await method(*args, **kwargs)
            except Exception as exc:
                mapped = translate(exc)
                if mapped is exc:
                    raise
                if on_unavailable is not None and isinstance(mapped, StoreUnavailable) and args:
                    await on_unavailable(args[0])
                raise mapped from exc

        return wrapper

    return decorate


def translate_results(results: list[int | Exception], translate: Translate) -> list[int | Exception]:
    """Per-batch results of ``write_batches`` with each error translated."""
    return [translate(r) if isinstance(r, Exception) else r for r in results]
