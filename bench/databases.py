"""Fresh PostgreSQL databases for the benchmarks: created on 127.0.0.1:5432, dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg

PG_ADMIN_DSN = os.environ.get("FT_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
"""A database the benchmarks connect to in order to create and drop their own."""


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new, uniquely named PostgreSQL database, dropped afterwards; yields its DSN."""
    name = f"ft_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
