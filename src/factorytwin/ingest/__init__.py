"""Ingest: validation and the single writer path from every producer (REST, MQTT) to the store and the twin."""

from __future__ import annotations

from factorytwin.ingest.service import IngestCounters, IngestResult, IngestService, Listener

__all__ = ["IngestCounters", "IngestResult", "IngestService", "Listener"]
