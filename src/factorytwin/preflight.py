"""Before ``serve`` and ``demo`` start: can the database be opened and the MQTT broker reached? One clear line if not.

The server itself would find out too, but as an 80-line traceback from its start-up (a missing PostgreSQL
database) or by retrying for ever (a broker that is not there). Once running, the twin rides out a lost
connection (503s with Retry-After, MQTT reconnects with back-off); only a start that cannot work is refused.
"""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt

from factorytwin.config import Settings
from factorytwin.errors import FactoryTwinError
from factorytwin.mqtt import ClientOptions, MqttEndpoint
from factorytwin.store import open_store, redact_url

BROKER_TIMEOUT_S = 5.0
STORE_TIMEOUT_S = 15.0


class StartupProblem(FactoryTwinError):
    """The database or the broker of the settings cannot be used; the message is one line for the operator."""


def one_line(exc: BaseException) -> str:
    """An exception as one line: its first line of text, else its type's name."""
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__


async def check_store(database_url: str) -> None:
    """Open (and close) the store at ``database_url``; ``StartupProblem`` saying why when it cannot be opened."""
    where = redact_url(database_url)
    try:
        store = open_store(database_url)
    except ValueError as exc:
        raise StartupProblem(str(exc)) from None
    try:
        await asyncio.wait_for(store.open(), STORE_TIMEOUT_S)
    except TimeoutError:
        raise StartupProblem(f"cannot open the database {where}: no answer in {STORE_TIMEOUT_S:g} s") from None
    except Exception as exc:  # asyncpg, sqlite3 and OS errors alike: whatever it is, the start cannot go on
        raise StartupProblem(f"cannot open the database {where}: {one_line(exc)}") from None
    try:
        await store.close()
    except Exception as exc:
        raise StartupProblem(f"the database {where} opened but failed to close: {one_line(exc)}") from None


async def check_broker(settings: Settings) -> None:
    """Connect to (and leave) the MQTT broker of ``settings`` (its URL, credentials and TLS files, as the server
    will); ``StartupProblem`` saying why when it cannot."""
    try:
        endpoint = MqttEndpoint.from_settings(settings)
    except ValueError as exc:
        raise StartupProblem(str(exc)) from None
    client = ClientOptions(f"ft-preflight-{uuid.uuid4().hex[:8]}").client(endpoint)
    try:
        async with asyncio.timeout(BROKER_TIMEOUT_S):
            async with client:
                pass
    except TimeoutError:
        raise StartupProblem(f"cannot reach the MQTT broker {endpoint}: no answer in {BROKER_TIMEOUT_S:g} s") from None
    except aiomqtt.MqttError as exc:
        raise StartupProblem(f"cannot reach the MQTT broker {endpoint}: {one_line(exc)}") from None


async def check_connections(settings: Settings) -> None:
    """Check the database and, when MQTT is on, the broker of ``settings``."""
    await check_store(settings.database_url)
    if settings.mqtt_url:
        await check_broker(settings)
