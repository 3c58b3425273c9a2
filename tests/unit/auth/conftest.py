"""Fixtures of the auth tests: settable clocks, a cheap Argon2 hasher, an ``AuthService`` over a fresh SQLite file
and a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from factorytwin.auth import AuthService, Passwords
from factorytwin.store import Store, open_store
from factorytwin.store.auth import auth_store_for

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand: ``now()`` (UTC) and ``monotonic()`` advance together."""

    def __init__(self, start: datetime = T0) -> None:
        self.at = start
        self.seconds = 1000.0

    def now(self) -> datetime:
        """The current fake UTC time."""
        return self.at

    def monotonic(self) -> float:
        """The current fake monotonic time."""
        return self.seconds

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self.at += timedelta(seconds=seconds)
        self.seconds += seconds


def cheap_passwords() -> Passwords:
    """Argon2id with the smallest cost, so tests hash in microseconds (the algorithm and format are the same)."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def clock() -> Clock:
    """A fresh fake clock at T0."""
    return Clock()


@pytest.fixture
async def backend_store(backend_url: str) -> AsyncIterator[Store]:
    """An open store on each backend."""
    store = open_store(backend_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def service(backend_store: Store, clock: Clock) -> AuthService:
    """An ``AuthService`` over each backend's store, on the fake clock: every service test runs on both."""
    return AuthService(
        auth_store_for(backend_store), passwords=cheap_passwords(), now=clock.now, limiter_clock=clock.monotonic
    )
