"""Connectors: industrial protocol clients (OPC UA, Modbus TCP, mapped MQTT JSON) feeding the one ingest path."""
