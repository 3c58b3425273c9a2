"""Connectors: industrial protocol clients (OPC UA, Modbus TCP, mapped MQTT JSON) feeding the one ingest path.

Configure with ``parse_connector`` (a pydantic model per ``kind``), run with ``ConnectorManager`` (add, remove,
start, stop live; ``statuses()``). Every value goes through ``IngestService.ingest``. The protocol runtimes
(``opcua``, ``modbus``, ``mqttjson``) are imported on first use, so asyncua and pymodbus load only when needed.
See docs/CONNECT.md.
"""

from __future__ import annotations

from factorytwin.connectors.base import (
    ConnectionLost,
    Connector,
    ConnectorError,
    ConnectorState,
    ConnectorStatus,
    MappedValue,
)
from factorytwin.connectors.manager import ConnectorManager, build_connector
from factorytwin.connectors.models import (
    CONNECTOR_CONFIG,
    ConnectorConfig,
    ModbusConnector,
    MqttJsonConnector,
    OpcUaConnector,
    check_targets,
    machine_sensors,
    parse_connector,
)

__all__ = [
    "CONNECTOR_CONFIG",
    "ConnectionLost",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorManager",
    "ConnectorState",
    "ConnectorStatus",
    "MappedValue",
    "ModbusConnector",
    "MqttJsonConnector",
    "OpcUaConnector",
    "build_connector",
    "check_targets",
    "machine_sensors",
    "parse_connector",
]
