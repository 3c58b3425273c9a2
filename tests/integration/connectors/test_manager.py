"""ConnectorManager with real protocols: a connector whose device is down never holds up one whose device is up."""

from __future__ import annotations

import pytest

from factorytwin.connectors import ConnectorManager, ConnectorState, machine_sensors, parse_connector
from factorytwin.ingest import IngestService
from factorytwin.store import Store
from tests.integration.connectors.conftest import FAST_BACKOFF, MACHINES, free_port, reach, stored
from tests.integration.connectors.test_mqttjson import SHARED_BROKER, now_ms, publish

pytestmark = pytest.mark.integration


async def test_a_dead_device_does_not_hold_up_a_live_one(ingest: IngestService, store: Store, prefix: str) -> None:
    manager = ConnectorManager(ingest, known=lambda: machine_sensors(MACHINES))
    dead = parse_connector(
        {
            "kind": "modbus",
            "id": "dead-plc",
            "host": "127.0.0.1",
            "port": free_port(),  # nobody listens there
            "registers": [{"address": 0, "machine_id": "press-01", "sensor": "hydraulic_pressure"}],
            "backoff": FAST_BACKOFF,
        }
    )
    live = parse_connector(
        {
            "kind": "mqtt_json",
            "id": "gateway",
            "broker_url": SHARED_BROKER,
            "topic_filters": [f"{prefix}/#"],
            "machine_id": "compressor-01",
            "timestamp_pointer": "/t",
            "timestamp_format": "epoch_ms",
            "values": [{"pointer": "/p_bar", "sensor": "discharge_pressure"}],
            "backoff": FAST_BACKOFF,
        }
    )
    await manager.add(dead)
    await manager.add(live)
    try:
        await reach(manager.get("gateway"), ConnectorState.CONNECTED)
        await publish(SHARED_BROKER, f"{prefix}/c1", {"t": now_ms(), "p_bar": 7.25})
        await stored(store, "compressor-01", "discharge_pressure", 7.25)
        statuses = manager.statuses()
        assert statuses["dead-plc"].state in (ConnectorState.CONNECTING, ConnectorState.RECONNECTING)
        assert statuses["gateway"].values_total == 1
        await reach(manager.get("dead-plc"), ConnectorState.RECONNECTING)
        assert manager.statuses()["dead-plc"].last_error
    finally:
        await manager.stop_all()
    assert {s.state for s in manager.statuses().values()} == {ConnectorState.STOPPED}
