"""Fixtures shared by every test package: small and generic (settings, fresh databases)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import asyncpg
import pytest

from factorytwin.config import Settings

HANG_S = float(os.environ.get("FT_TEST_HANG_S", "600"))
"""A test (its fixtures included) still running after this long has hung: it fails, with the stacks of its
asyncio tasks, instead of stalling the whole run until CI's budget is spent. The slowest test takes ~4 min."""


class TestHung(Exception):
    """Raised in a test that ran past ``HANG_S``."""


def _on_hang(signum: int, frame: FrameType | None) -> None:
    stacks = io.StringIO()
    try:
        for task in asyncio.all_tasks(asyncio.get_running_loop()):
            task.print_stack(file=stacks)
    except RuntimeError:  # no event loop running: the traceback of the exception says where it hung
        pass
    raise TestHung(f"the test ran for more than {HANG_S:.0f} s; its asyncio tasks:\n{stacks.getvalue()}")


@pytest.fixture(autouse=True)
def _hang_watchdog() -> Iterator[None]:
    """Arm a ``HANG_S`` timer around each test, fixtures included (this autouse fixture is set up first and torn
    down last)."""
    previous = signal.signal(signal.SIGALRM, _on_hang)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


PG_ADMIN_DSN = os.environ.get("FT_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
"""A PostgreSQL database any test may connect to in order to create and drop its own databases."""


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite database file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'factorytwin.db'}"


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """Settings of a test service: a fresh SQLite file, the built-in layout, no MQTT."""
    return Settings(database_url=sqlite_url, mqtt_url=None, layout_path=None)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, uniquely named PostgreSQL database on 127.0.0.1:5432, dropped after the test.

    A plain (sync) fixture, so async fixtures may also reach it through ``request.getfixturevalue``.
    """
    name = f"ft_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def backend_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh database of each backend: a SQLite file, and a PostgreSQL database (marked integration).

    A sync fixture: the PostgreSQL one creates its database in an event loop of its own."""
    return sqlite_url if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the main thread for its
    session, and no asyncio test can run while it does."""
    for item in items:  # a browser test is one by where it lives, whether or not its file says so
        if item.nodeid.startswith("tests/e2e/") and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
