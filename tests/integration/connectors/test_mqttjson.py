"""Mapped MQTT JSON against real Mosquitto: values reach the store through ingest; a broker outage and back."""

from __future__ import annotations

import json
import time
from typing import Any

import aiomqtt
import pytest

from factorytwin.connectors.base import ConnectorState
from factorytwin.connectors.models import MqttJsonConnector, parse_connector
from factorytwin.connectors.mqttjson import MqttJsonConnectorRuntime
from factorytwin.ingest import IngestService
from factorytwin.store import Store
from tests.integration.connectors.conftest import FAST_BACKOFF, Mosquitto, reach, stored

pytestmark = pytest.mark.integration

SHARED_BROKER = "mqtt://127.0.0.1:1883"


def config(broker_url: str, prefix: str, **over: Any) -> MqttJsonConnector:
    parsed = parse_connector(
        {
            "kind": "mqtt_json",
            "id": f"gw-{prefix}",
            "broker_url": broker_url,
            "topic_filters": [f"{prefix}/+/state"],
            "machine_id_topic_segment": 1,
            "timestamp_pointer": "/ts",
            "timestamp_format": "epoch_ms",
            "values": [
                {"pointer": "/bearing/temp_c", "sensor": "bearing_temp", "offset": 273.15},
                {"pointer": "/flow_l_min", "sensor": "flow_rate", "scale": 0.06},
            ],
            "backoff": FAST_BACKOFF,
        }
        | over
    )
    assert isinstance(parsed, MqttJsonConnector)
    return parsed


async def publish(broker_url: str, topic: str, payload: object) -> None:
    host, port = broker_url.removeprefix("mqtt://").split(":")
    async with aiomqtt.Client(host, int(port)) as client:
        await client.publish(topic, json.dumps(payload) if not isinstance(payload, bytes) else payload, qos=1)


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_mapped_messages_arrive_in_the_store(ingest: IngestService, store: Store, prefix: str) -> None:
    conn = MqttJsonConnectorRuntime(config(SHARED_BROKER, prefix), ingest)
    await conn.start()
    try:
        await reach(conn, ConnectorState.CONNECTED)
        await publish(SHARED_BROKER, f"{prefix}/pump-01/state", b"{broken")
        await publish(
            SHARED_BROKER, f"{prefix}/pump-01/state", {"ts": now_ms(), "bearing": {"temp_c": 41.0}, "flow_l_min": 1500}
        )
        await stored(store, "pump-01", "flow_rate", 90.0)
        await stored(store, "pump-01", "bearing_temp", 314.15)
        status = conn.status()
        assert status.values_total == 2
        assert status.unmapped_total == 2  # the broken message: both of its values
        assert status.last_value_at is not None
    finally:
        await conn.stop()
    assert conn.status().state is ConnectorState.STOPPED


async def test_a_broker_that_goes_away_is_reconnecting_and_recovers(
    ingest: IngestService, store: Store, private_broker: Mosquitto, prefix: str
) -> None:
    conn = MqttJsonConnectorRuntime(config(private_broker.url, prefix), ingest)
    await conn.start()
    try:
        await reach(conn, ConnectorState.CONNECTED)
        private_broker.stop()
        await reach(conn, ConnectorState.RECONNECTING)
        status = conn.status()
        assert status.last_error
        assert status.reconnects >= 1
        private_broker.start()
        await reach(conn, ConnectorState.CONNECTED)
        await publish(
            private_broker.url,
            f"{prefix}/pump-02/state",
            {"ts": now_ms(), "bearing": {"temp_c": 50.0}, "flow_l_min": 600},
        )
        await stored(store, "pump-02", "flow_rate", 36.0)
    finally:
        await conn.stop()
