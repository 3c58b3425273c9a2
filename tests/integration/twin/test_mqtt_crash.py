"""MQTT ingest across a ``kill -9`` of the server: what the broker had accepted is all stored, exactly once.

A real ``factorytwin serve`` process (not an in-process app) takes a steady stream of QoS 1 messages, is killed with
SIGKILL in the middle of it (groups parsed, committing, acknowledged or not), and a second process with the same
client id and database takes over the persistent session. Counted in the database itself afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import asyncpg
import pytest

from factorytwin.store import sqlite_blocks
from tests.integration.api.serve_process import SERVE, free_port
from tests.integration.twin.conftest import Mosquitto
from tests.integration.twin.test_mqtt_live import MILL, reading_set

pytestmark = pytest.mark.integration
MESSAGES = 3000
DEADLINE_S = 120.0  # only for failing: every wait below ends as soon as its condition holds


@contextlib.contextmanager
def server(workdir: Path, database_url: str, broker: Mosquitto, log_name: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "FT_DATABASE_URL": database_url,
        "FT_MQTT_URL": broker.url,
        "FT_MQTT_CLIENT_ID": "ft-crash",
        "FT_MODEL_DIR": str(workdir / "models"),
        "FT_PORT": str(free_port()),
        "FT_HOST": "127.0.0.1",
    }
    with (workdir / log_name).open("wb") as out:
        process = subprocess.Popen(SERVE, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(30)


def _sqlite_count(path: str) -> int:
    if not Path(path).exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        try:
            return int(conn.execute(sqlite_blocks.COUNT_ALL).fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


async def stored(database_url: str) -> int:
    """Readings in the database, counted there (no server needed)."""
    if database_url.startswith("sqlite:///"):
        return await asyncio.to_thread(_sqlite_count, database_url.removeprefix("sqlite:///"))
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM readings"))
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await conn.close()


async def until_stored(database_url: str, at_least: int, process: subprocess.Popen[bytes]) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while (n := await stored(database_url)) < at_least:
        assert process.poll() is None, "the server exited"
        assert loop.time() < deadline, f"{n} readings stored, waiting for {at_least}"
        await asyncio.sleep(0.05)
    return n


async def probe(broker: Mosquitto, database_url: str, process: subprocess.Popen[bytes]) -> None:
    """Publish reading set 0 (again: a resend stores nothing twice) until the server has stored it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while await stored(database_url) == 0:
        assert process.poll() is None, "the server exited"
        assert loop.time() < deadline, "the server never subscribed"
        await publish(broker, 0, 1)
        await asyncio.sleep(0.2)


async def publish(broker: Mosquitto, first: int, count: int) -> None:
    """QoS 1, each publish acknowledged by the broker before the next: all of them are the broker's to deliver."""
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"crash-pub-{first}") as client:
        for i in range(first, first + count):
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(i)), qos=1)


async def test_a_server_killed_mid_stream_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, mosquitto: Mosquitto, backend_url: str
) -> None:
    per = len(MILL)
    with server(tmp_path, backend_url, mosquitto, "first.log") as first:
        await probe(mosquitto, backend_url, first)  # now the session and its subscription exist
        stream = asyncio.create_task(publish(mosquitto, 1, MESSAGES))
        await until_stored(backend_url, per * 300, first)  # well into the stream ...
        os.kill(first.pid, signal.SIGKILL)  # ... the server dies without a word
        first.wait(30)
        await stream  # the rest goes to the broker, which queues it for the session
    killed_at = await stored(backend_url)
    assert killed_at < per * (MESSAGES + 1), "the stream ended before the kill: nothing was tested"
    with server(tmp_path, backend_url, mosquitto, "second.log") as second:
        await until_stored(backend_url, per * (MESSAGES + 1), second)
        await asyncio.sleep(0.5)  # anything redelivered late must not add a row either
        assert await stored(backend_url) == per * (MESSAGES + 1)
