"""MQTT ingest under faults, against a private Mosquitto (persistence on), with SQLite and PostgreSQL.

Every figure is counted on both sides: what the publisher had acknowledged by the broker, and what the store holds.
docs/RELIABILITY.md ("MQTT") lists these faults and what each test measured.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api.deps import Services
from factorytwin.config import Settings
from factorytwin.ingest.mqtt import MqttIngest
from factorytwin.sim.publish import MqttPublisher
from tests.conftest import _admin
from tests.credentials import admin_headers
from tests.integration.twin.conftest import Mosquitto, serve, serve_app, wait_until
from tests.integration.twin.test_mqtt_live import MILL, counted, health, reading_set, stored_readings

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)
PER_SET = len(MILL)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/twin.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


def settings_for(database_url: str, broker: Mosquitto, client_id: str = "ft-rel", **extra: Any) -> Settings:
    return Settings(
        database_url=database_url, mqtt_url=broker.url, mqtt_client_id=client_id, stream_interval_s=0.05, **extra
    )


def poison_messages() -> list[bytes]:
    """20 messages that must never halt ingest, of every kind found by the fault-injection run."""
    ts = datetime.now(UTC).isoformat()
    nul_event = {"events": [{"machine_id": "mill-01", "ts": ts, "kind": "fault", "message": "a\u0000b"}]}
    kinds = [
        b"[" * 5000,  # RecursionError in json.loads
        json.dumps({"machine_id": "mill-01", "ts": ts, "values": {**MILL, "tor\u0000que": 1.0}}).encode(),
        json.dumps(nul_event).encode(),
        b'{"machine_id": "mill-01", "ts": "'
        + ts.encode()
        + b'", "values": {"torque": 1}, "x": "'
        + b"y" * 2_000_000
        + b'"}',
        json.dumps({"machine_id": "mill-01", "ts": "0001-01-01T00:00:00+14:00", "values": MILL}).encode(),
        b'{"machine_id": "mill-01", "ts": "\xff\xfe"}',
        b"not json at all",
        json.dumps({"machine_id": "mill-01", "ts": ts, "values": {**MILL, "torque": 99999.0}}).encode(),
        json.dumps({"machine_id": "mill-01", "ts": ts}).encode(),
        json.dumps({"machine_id": "ghost-01", "ts": ts, "values": MILL}).encode(),
    ]
    return kinds * 2


async def test_poison_mixed_into_steady_traffic_leaves_every_good_message_stored(
    database_url: str, mosquitto: Mosquitto
) -> None:
    good, poison = 2_000, poison_messages()
    every = good // len(poison)
    async with (
        serve(settings_for(database_url, mosquitto)) as base,
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        published = 0
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="pub-poison") as client:
            for i in range(good):
                if i % every == every // 2:
                    await client.publish("ft/mill-01/telemetry", poison[i // every], qos=1)
                await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(i)), qos=1)
                published += 1  # acknowledged by the broker (QoS 1)
        await wait_until(lambda: _stored_is(http, published * PER_SET), timeout_s=60)
        mqtt = await _mqtt(http)
        await wait_until(lambda: _rejected_is(http, len(poison)), timeout_s=10)
        mqtt = await _mqtt(http)
        log.warning(
            "poison: %d good published, %d stored; %s", published, mqtt["ingested_messages"], counted(mqtt, "rejected.")
        )
        assert mqtt["ingested_messages"] == good
        assert mqtt["rejected_messages"] == len(poison)
        reasons = counted(mqtt, "rejected.")
        assert sum(reasons.values()) == len(poison)
        assert reasons["too_deep"] == 2
        assert reasons["nul_character"] == 4
        assert reasons["too_large"] == 2
        assert mqtt["reconnects"] == 0  # no redelivery loop: every poison message was acknowledged once
        assert mqtt["connects"] == 1
        assert mqtt["connected"] is True
        # The read paths still answer for the machine the poison was aimed at.
        assert (await http.get("/api/v1/machines")).status_code == 200
        assert (await http.get("/api/v1/machines/mill-01")).status_code == 200
        assert (await http.get("/api/v1/machines/mill-01/events")).status_code == 200
    # Nothing is left for redelivery: a new start of the same session ingests nothing more and rejects nothing.
    async with (
        serve(settings_for(database_url, mosquitto)) as base,
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        await asyncio.sleep(1.0)  # an absence: give a redelivery the time to show up
        mqtt = await _mqtt(http)
        assert mqtt["messages"] == 0
        assert await stored_readings(http) == published * PER_SET


async def test_dead_letters_carry_the_raw_payload_and_the_reason(database_url: str, mosquitto: Mosquitto) -> None:
    async with (
        serve(settings_for(database_url, mosquitto)) as base,
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
        aiomqtt.Client(
            "127.0.0.1", mosquitto.port, identifier="dead-reader", protocol=aiomqtt.ProtocolVersion.V5
        ) as reader,
    ):
        await reader.subscribe("ft/_deadletter/#", qos=1)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="pub-dead") as client:
            await client.publish("ft/mill-01/telemetry", b"[[[[not json", qos=1)
        message = await asyncio.wait_for(anext(aiter(reader.messages)), 10)
        assert str(message.topic) == "ft/_deadletter/mill-01/telemetry"
        assert message.payload == b"[[[[not json"
        assert message.properties is not None
        props = dict(getattr(message.properties, "UserProperty", []))
        assert props["reason"] == "not_json"
        assert props["topic"] == "ft/mill-01/telemetry"
        assert (await _mqtt(http))["dead_lettered"] == 1


async def _publish_steadily(publisher: MqttPublisher, sets: int, stop: asyncio.Event, every_s: float) -> int:
    """Hand the publisher one reading set every ``every_s`` (each with its own timestamp); return how many."""
    t0 = datetime.now(UTC) - timedelta(hours=2)
    for i in range(sets):
        if stop.is_set():
            return i
        ts = (t0 + timedelta(milliseconds=10 * i)).isoformat()
        publisher.submit([{"machine_id": "mill-02", "ts": ts, "values": MILL}], [])
        await asyncio.sleep(every_s)
    return sets


@pytest.mark.parametrize("shared", [False, True], ids=["plain", "shared"])
async def test_three_broker_restarts_while_telemetry_flows_lose_nothing(
    database_url: str, mosquitto: Mosquitto, shared: bool
) -> None:
    settings = settings_for(database_url, mosquitto, mqtt_shared_subscription=shared)
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http:
        publisher = MqttPublisher(mosquitto.url, client_id="sim-restarts", backoff_initial_s=0.1, backoff_max_s=0.5)
        sender = asyncio.create_task(publisher.run())
        stop = asyncio.Event()
        feeder = asyncio.create_task(_publish_steadily(publisher, 100_000, stop, 0.01))
        try:
            for _ in range(3):
                flowing = await stored_readings(http)
                await wait_until(partial(_stored_more_than, http, flowing), timeout_s=20)  # telemetry flows ...
                connects = (await _mqtt(http))["connects"]
                mosquitto.stop()  # ... and the broker goes away (SIGTERM: it saves its persistence file)
                await asyncio.sleep(0.3)
                mosquitto.start()
                await wait_until(partial(_mqtt_at_least, http, "connects", connects + 1), timeout_s=20)
            await asyncio.sleep(0.5)  # a little more traffic after the last restart
            stop.set()
            submitted = await feeder
            assert await publisher.drain(30), f"{publisher.pending()} still unsent"
            await wait_until(lambda: _stored_is(http, submitted * PER_SET), timeout_s=30)
            mqtt = await _mqtt(http)
            log.warning(
                "restarts (%s): %d submitted, %d resent for no subscriber, %d stored",
                "shared" if shared else "plain",
                submitted,
                publisher.stats.unmatched,
                await stored_readings(http) // PER_SET,
            )
            assert mqtt["connects"] == 4
            assert publisher.stats.overflowed == 0
        finally:
            stop.set()
            sender.cancel()
            await asyncio.gather(sender, feeder, return_exceptions=True)


def _ingest_of(app: FastAPI) -> MqttIngest:
    services: Services = app.state.services
    assert services.mqtt_ingest is not None
    return services.mqtt_ingest


async def test_a_stale_share_group_session_expires_and_then_nothing_is_lost(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    url = f"sqlite:///{tmp_path}/twin.db"
    expiry_s = 2
    a = settings_for(url, mosquitto, "ft-rel-a", mqtt_shared_subscription=True, mqtt_session_expiry_s=expiry_s)
    b = a.model_copy(update={"mqtt_client_id": "ft-rel-b", "database_url": f"sqlite:///{tmp_path}/b.db"})
    async with (
        serve(a) as base_a,
        httpx.AsyncClient(base_url=base_a, headers=admin_headers(base_a)) as http_a,
        serve_app(b) as (_base_b, app_b),
    ):
        # B crashes: its task ends without leaving the group; the broker keeps its session for expiry_s.
        crashed = _ingest_of(app_b)
        assert crashed._task is not None
        crashed._task.cancel()
        await asyncio.gather(crashed._task, return_exceptions=True)
        crashed._task = None
        window = await _publish_for(mosquitto, 0, expiry_s + 1.0)  # B's session takes its share meanwhile
        await asyncio.sleep(1.5)  # past the expiry, with a margin
        in_window = (await _mqtt(http_a))["ingested_messages"]
        after = 200
        await _publish_batch(mosquitto, 10_000, after)  # stamped after the window's
        # Had B's session outlived its expiry, about half of these would wait in it and this would time out.
        await wait_until(lambda: _ingested_is(http_a, in_window + after), timeout_s=20)
        log.warning(
            "stale session: %d published in the %d s window, A took %d (%d went to the dead session); "
            "%d of %d published after the expiry reached A",
            window,
            expiry_s,
            in_window,
            window - in_window,
            after,
            after,
        )
        assert in_window <= window


async def test_a_crashed_member_back_within_the_expiry_gets_its_queued_share(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    url = f"sqlite:///{tmp_path}/twin.db"
    a = settings_for(url, mosquitto, "ft-rel-a", mqtt_shared_subscription=True, mqtt_session_expiry_s=30)
    b = a.model_copy(update={"mqtt_client_id": "ft-rel-b"})
    async with serve(a) as base_a, httpx.AsyncClient(base_url=base_a, headers=admin_headers(base_a)) as http_a:
        async with serve_app(b) as (_base_b, app_b):
            crashed = _ingest_of(app_b)
            assert crashed._task is not None
            crashed._task.cancel()
            await asyncio.gather(crashed._task, return_exceptions=True)
            crashed._task = None
        published = await _publish_for(mosquitto, 0, 1.0)  # B's share waits in its session
        async with serve(b) as base_b, httpx.AsyncClient(base_url=base_b, headers=admin_headers(base_b)) as http_b:

            async def all_ingested() -> bool:
                got = (await _mqtt(http_a))["ingested_messages"] + (await _mqtt(http_b))["ingested_messages"]
                return bool(got == published)

            await wait_until(all_ingested, timeout_s=20)
            taken_by_b = (await _mqtt(http_b))["ingested_messages"]
            log.warning("crashed member back: %d published, B took %d from its session", published, taken_by_b)
            assert taken_by_b > 0


async def test_a_member_stopping_cleanly_leaves_the_group_and_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    url = f"sqlite:///{tmp_path}/twin.db"
    a = settings_for(url, mosquitto, "ft-rel-a", mqtt_shared_subscription=True)
    b = a.model_copy(update={"mqtt_client_id": "ft-rel-b"})
    async with serve(a) as base_a, httpx.AsyncClient(base_url=base_a, headers=admin_headers(base_a)) as http_a:
        async with serve(b):
            await _publish_batch(mosquitto, 0, 100)
        await _publish_batch(mosquitto, 100, 200)  # B is gone: without the clean leave, half of these went to it
        await wait_until(lambda: _stored_is(http_a, 300 * PER_SET), timeout_s=20)


# -- helpers -------------------------------------------------------------------------------------------------------
async def _mqtt(http: httpx.AsyncClient) -> dict[str, Any]:
    section: dict[str, Any] = (await health(http))["sections"]["mqtt"]
    return section


async def _stored_is(http: httpx.AsyncClient, expected: int) -> bool:
    return await stored_readings(http) == expected


async def _ingested_is(http: httpx.AsyncClient, expected: int) -> bool:
    return bool((await _mqtt(http))["ingested_messages"] == expected)


async def _stored_more_than(http: httpx.AsyncClient, count: int) -> bool:
    return await stored_readings(http) > count


async def _mqtt_at_least(http: httpx.AsyncClient, key: str, value: int) -> bool:
    return bool((await _mqtt(http))[key] >= value)


async def _rejected_is(http: httpx.AsyncClient, count: int) -> bool:
    return bool((await _mqtt(http))["rejected_messages"] == count)


async def _publish_batch(broker: Mosquitto, start: int, count: int) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"pub-{start}") as client:
        for i in range(start, start + count):
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(i)), qos=1)


async def _publish_for(broker: Mosquitto, start: int, seconds: float) -> int:
    """Publish one reading set every 20 ms for ``seconds``; return how many."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    count = 0
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"pub-for-{start}") as client:
        while loop.time() < end:
            await client.publish("ft/mill-01/telemetry", json.dumps(reading_set(start + count)), qos=1)
            count += 1
            await asyncio.sleep(0.02)
    return count


async def test_a_store_outage_is_waited_out_on_the_same_broker_connection(
    mosquitto: Mosquitto, postgres_url: str
) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    async with (
        serve_app(settings_for(postgres_url, mosquitto)) as (base, app),
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        ingest = _ingest_of(app)
        await _publish_batch(mosquitto, 0, 100)
        await wait_until(lambda: _stored_is(http, 100 * PER_SET))
        # The database goes away: no new connections, and the pool's are cut.
        await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            await _publish_batch(mosquitto, 100, 100)  # acknowledged by the broker, waiting for the store
            # Read in process: /health needs the database too.
            await wait_until(lambda: _true(ingest.counters.store_retries >= 2), timeout_s=30)
        finally:
            await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await wait_until(lambda: _stored_is(http, 200 * PER_SET), timeout_s=60)
        mqtt = await _mqtt(http)
        log.warning(
            "store outage: 200 published, %d stored, %d store retries", mqtt["ingested_messages"], mqtt["store_retries"]
        )
        assert mqtt["ingested_messages"] == 200
        assert mqtt["rejected_messages"] == 0  # an outage is never taken for bad content
        assert mqtt["reconnects"] == 0  # the broker connection stayed up throughout


async def _true(value: bool) -> bool:
    return value
