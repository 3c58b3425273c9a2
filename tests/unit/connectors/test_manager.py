"""ConnectorManager: connectors added, removed, started and stopped live; one stuck never holds up another."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from factorytwin.connectors.base import Connector, ConnectorError, ConnectorState
from factorytwin.connectors.manager import ConnectorManager, build_connector
from factorytwin.connectors.modbus import ModbusConnectorRuntime
from factorytwin.connectors.models import ConnectorConfig, ModbusConnector, machine_sensors, parse_connector
from factorytwin.connectors.mqttjson import MqttJsonConnectorRuntime
from factorytwin.connectors.opcua import OpcUaConnectorRuntime
from factorytwin.errors import InvalidInput, NotFound
from factorytwin.ingest import IngestService
from factorytwin.layout import load_layout
from factorytwin.store import Store
from tests.unit.connectors.fakes import FakeSleep, Scripted, config, value

KNOWN = machine_sensors(load_layout().machines)


class Stuck(Scripted):
    """Never gets through connecting (a device that accepts the socket and then says nothing)."""

    async def session(self) -> None:
        await asyncio.Event().wait()


def factory(config: ConnectorConfig, ingest: IngestService) -> Connector[Any]:
    assert isinstance(config, ModbusConnector)
    kind = Stuck if config.id.startswith("stuck") else Scripted
    return kind(ingest, failures=0, connector_config=config, sleep=FakeSleep())


async def within(aw: Any, timeout_s: float = 10.0) -> None:
    await asyncio.wait_for(aw, timeout_s)


async def test_added_connectors_start_and_report_their_status(ingest: IngestService) -> None:
    manager = ConnectorManager(ingest, factory=factory)
    a = await manager.add(config(connector_id="a"))
    await manager.add(config(connector_id="b"), start=False)
    await within(a.wait_for(ConnectorState.CONNECTED))
    statuses = manager.statuses()
    assert list(statuses) == ["a", "b"]
    assert statuses["a"].state is ConnectorState.CONNECTED
    assert statuses["b"].state is ConnectorState.STOPPED
    assert manager.ids() == ["a", "b"]
    assert [c.id for c in manager.configs()] == ["a", "b"]
    assert "a" in manager
    assert len(manager) == 2
    await manager.start("b")
    await within(manager.get("b").wait_for(ConnectorState.CONNECTED))
    await manager.stop("a")
    assert manager.statuses()["a"].state is ConnectorState.STOPPED
    await manager.stop_all()
    assert {s.state for s in manager.statuses().values()} == {ConnectorState.STOPPED}
    await manager.start_all()
    assert {s.state for s in manager.statuses().values()} != {ConnectorState.STOPPED}
    await manager.stop_all()


async def test_a_taken_id_is_refused_naming_id(ingest: IngestService) -> None:
    manager = ConnectorManager(ingest, factory=factory)
    await manager.add(config(connector_id="a"), start=False)
    with pytest.raises(InvalidInput) as info:
        await manager.add(config(connector_id="a"))
    assert [p.loc for p in info.value.problems] == [("id",)]


async def test_targets_are_checked_when_the_factory_is_known(ingest: IngestService) -> None:
    manager = ConnectorManager(ingest, factory=factory, known=lambda: KNOWN)
    bad = parse_connector(
        {
            "kind": "modbus",
            "id": "x",
            "host": "h",
            "registers": [{"address": 0, "machine_id": "pump-01", "sensor": "torque"}],
        }
    )
    with pytest.raises(InvalidInput) as info:
        await manager.add(bad)
    assert [p.loc for p in info.value.problems] == [("registers", 0, "sensor")]
    assert "x" not in manager
    await manager.add(config(connector_id="x"), start=False)
    with pytest.raises(InvalidInput):
        await manager.replace(bad)
    assert manager.get("x").config == config(connector_id="x")  # a refused replacement leaves the old one


async def test_removed_connectors_stop_and_are_forgotten(ingest: IngestService) -> None:
    manager = ConnectorManager(ingest, factory=factory)
    a = await manager.add(config(connector_id="a"))
    await within(a.wait_for(ConnectorState.CONNECTED))
    await manager.remove("a")
    assert a.state is ConnectorState.STOPPED
    assert "a" not in manager
    for call in (manager.remove("a"), manager.start("a"), manager.stop("a")):
        with pytest.raises(NotFound, match="no connector 'a'"):
            await call


async def test_replace_swaps_a_running_connector(ingest: IngestService) -> None:
    manager = ConnectorManager(ingest, factory=factory)
    old = await manager.add(config(connector_id="a"))
    new = await manager.replace(config(initial_s=1.0, connector_id="a"))
    assert old.state is ConnectorState.STOPPED
    assert new is manager.get("a")
    assert new.config.backoff.initial_s == 1.0
    await manager.stop_all()


async def test_one_stuck_connector_never_holds_up_another(ingest: IngestService, store: Store) -> None:
    manager = ConnectorManager(ingest, factory=factory)
    stuck = await manager.add(config(connector_id="stuck-1"))
    ok = await manager.add(config(connector_id="ok"))
    await within(ok.wait_for(ConnectorState.CONNECTED))
    ok.emit([value("flow_rate", 77.0)])
    await manager.stop_all()  # the stuck one is cancelled; the other's value is handed to ingest
    assert stuck.status().state is ConnectorState.STOPPED
    assert ok.status().values_total == 1
    assert (await store.latest("pump-01"))["flow_rate"].value == 77.0


async def test_commands_and_browsing_need_an_opcua_connector(ingest: IngestService) -> None:
    manager = ConnectorManager(ingest, factory=factory)
    await manager.add(config(connector_id="m"), start=False)
    with pytest.raises(ConnectorError, match="has no commands"):
        await manager.call_command("m", "stop")
    with pytest.raises(ConnectorError, match="cannot be browsed"):
        await manager.browse("m")


def test_each_kind_builds_its_runtime(ingest: IngestService) -> None:
    mappings = [{"node_id": "ns=2;i=5", "machine_id": "pump-01", "sensor": "flow_rate"}]
    opcua = parse_connector({"kind": "opcua", "id": "u", "endpoint": "opc.tcp://h:4840", "mappings": mappings})
    mqtt = parse_connector(
        {
            "kind": "mqtt_json",
            "id": "q",
            "broker_url": "mqtt://h",
            "topic_filters": ["a/#"],
            "machine_id": "pump-01",
            "values": [{"pointer": "/v", "sensor": "flow_rate"}],
        }
    )
    assert isinstance(build_connector(opcua, ingest), OpcUaConnectorRuntime)
    assert isinstance(build_connector(config(), ingest), ModbusConnectorRuntime)
    assert isinstance(build_connector(mqtt, ingest), MqttJsonConnectorRuntime)
