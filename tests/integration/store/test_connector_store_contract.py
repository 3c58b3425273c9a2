"""The one suite every ``ConnectorStore`` passes (SQLite and PostgreSQL): put, replace by id, list by id, delete;
a configuration's text (secrets included) reads back exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from factorytwin.store import Store
from factorytwin.store.connectors import StoredConnector, connector_store_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


def row(cid: str, enabled: bool = True, **config: object) -> StoredConnector:
    body = json.dumps({"kind": "opcua", "id": cid, "password": "s3cret ü\u00e9", **config})
    return StoredConnector(id=cid, kind="opcua", config=body, enabled=enabled, saved_at=T0, saved_by="erin")


async def test_connectors_are_put_replaced_listed_and_deleted(store: Store) -> None:
    connectors = connector_store_for(store)
    assert await connectors.connectors() == []
    await connectors.put_connector(row("plc-b"))
    await connectors.put_connector(row("plc-a", enabled=False))
    assert [c.id for c in await connectors.connectors()] == ["plc-a", "plc-b"]
    assert (await connectors.connectors())[0] == row("plc-a", enabled=False)  # exact: text, flag, time to the ms
    replaced = row("plc-a", enabled=True, endpoint="opc.tcp://plc2:4840/")
    await connectors.put_connector(replaced)
    assert (await connectors.connectors())[0] == replaced
    assert await connectors.delete_connector("plc-a") is True
    assert await connectors.delete_connector("plc-a") is False
    assert [c.id for c in await connectors.connectors()] == ["plc-b"]
