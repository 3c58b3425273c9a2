"""OPC UA against a real asyncua server (plain, and Basic256Sha256 Sign and SignAndEncrypt): data-change
subscriptions reach the store through ingest; a server outage and back; browse; methods and writes as commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from factorytwin.connectors.base import ConnectorError, ConnectorState
from factorytwin.connectors.manager import ConnectorManager
from factorytwin.connectors.models import OpcUaConnector, parse_connector
from factorytwin.connectors.opcua import OpcUaConnectorRuntime
from factorytwin.errors import InvalidInput, NotFound
from factorytwin.ingest import IngestService
from factorytwin.store import Store
from tests.integration.connectors.conftest import FAST_BACKOFF, free_port, reach, stored
from tests.integration.connectors.uaserver import CLIENT_URI, SERVER_URI, CertPair, PumpServer, make_certificate
from tests.waiting import until

pytestmark = pytest.mark.integration


def config(server: PumpServer, **over: Any) -> OpcUaConnector:
    ids = server.node_ids
    parsed = parse_connector(
        {
            "kind": "opcua",
            "id": "pump-plc",
            "endpoint": server.endpoint,
            "publishing_interval_ms": 50,
            "timeout_s": 2.0,
            "mappings": [
                {"node_id": ids["Flow"], "machine_id": "pump-01", "sensor": "flow_rate"},
                {"node_id": ids["Speed"], "machine_id": "pump-01", "sensor": "motor_speed"},
                {"node_id": ids["Label"], "machine_id": "pump-01", "sensor": "vibration"},  # text: unmapped
                {"node_id": "ns=2;s=Pump01.Missing", "machine_id": "pump-01", "sensor": "bearing_temp"},
            ],
            "commands": {
                "set_speed": {
                    "kind": "method",
                    "object_node_id": ids["Pump01"],
                    "method_node_id": ids["SetSpeed"],
                    "arg_types": ["Double"],
                },
                "stop": {"kind": "method", "object_node_id": ids["Pump01"], "method_node_id": ids["Stop"]},
                "write_speed": {"kind": "write", "node_id": ids["Speed"], "data_type": "Double"},
                "write_label": {"kind": "write", "node_id": ids["Label"], "data_type": "Double"},
            },
            "username": "operator",
            "password": "s3cret",
            "backoff": FAST_BACKOFF,
        }
        | over
    )
    assert isinstance(parsed, OpcUaConnector)
    return parsed


@pytest.fixture
async def plain_server() -> AsyncIterator[PumpServer]:
    server = PumpServer(free_port(), passwords={"operator": "s3cret"})
    await server.start()
    yield server
    await server.stop()


async def test_subscribed_changes_reach_the_store_and_commands_run(
    plain_server: PumpServer, ingest: IngestService, store: Store
) -> None:
    manager = ConnectorManager(ingest)
    conn = await manager.add(config(plain_server), start=False)
    assert isinstance(conn, OpcUaConnectorRuntime)
    with pytest.raises(ConnectorError, match="not connected"):
        await conn.browse()
    intruder = await manager.add(config(plain_server, id="intruder", password="guess"))
    await manager.start(conn.id)
    try:
        await reach(conn, ConnectorState.CONNECTED)
        await stored(store, "pump-01", "flow_rate", 80.0)  # the value on subscribing
        await plain_server.write("Flow", 91.25)  # a change, pushed by the server
        await stored(store, "pump-01", "flow_rate", 91.25)
        status = conn.status()
        assert status.last_error == "cannot subscribe to ns=2;s=Pump01.Missing: BadNodeIdUnknown"
        assert status.unmapped_total >= 2  # the missing node, the text variable

        await plain_server.write_bad("Flow")  # a sensor fault: not stored
        await until(lambda: conn.status().unmapped_total >= 3, "the Bad value counted as unmapped")
        assert (await store.latest("pump-01"))["flow_rate"].value == 91.25

        result = await manager.call_command(conn.id, "set_speed", [2500])
        assert result.outputs == [True]
        assert plain_server.calls == [("SetSpeed", [2500.0])]
        await stored(store, "pump-01", "motor_speed", 2500.0)  # the method changed Speed; the change came back
        assert (await conn.call_command("stop")).outputs == []
        assert plain_server.calls[-1] == ("Stop", [])
        await conn.call_command("write_speed", [2750.0])
        await stored(store, "pump-01", "motor_speed", 2750.0)

        with pytest.raises(NotFound, match="has no command 'explode'"):
            await conn.call_command("explode")
        with pytest.raises(InvalidInput, match="takes 1 argument"):
            await conn.call_command("set_speed", [])
        with pytest.raises(InvalidInput, match="Double expected, got str"):
            await conn.call_command("set_speed", ["fast"])
        with pytest.raises(ConnectorError, match="the server refused write_label"):
            await conn.call_command("write_label", [1.0])  # not writable (and not a Double)

        children = {c.browse_name: c for c in await conn.browse(plain_server.node_ids["Pump01"])}
        assert children["2:Flow"].node_class == "Variable"
        assert children["2:Flow"].data_type == "Double"
        assert children["2:Flow"].node_id == plain_server.node_ids["Flow"]
        assert children["2:SetSpeed"].node_class == "Method"
        assert children["2:SetSpeed"].data_type is None
        top = {c.display_name for c in await manager.browse(conn.id)}
        assert {"Server", "Pump01"} <= top
        with pytest.raises(ConnectorError, match="cannot browse"):
            await conn.browse("ns=7;s=nothing")

        # A wrong password is refused by the server: the connector keeps trying, and says why.
        await until(lambda: intruder.status().reconnects >= 1, "the wrong password refused")
        assert intruder.status().state is not ConnectorState.CONNECTED
        assert intruder.status().reconnects >= 1
        assert "BadUserAccessDenied" in (intruder.status().last_error or "")
    finally:
        await manager.stop_all()
    assert conn.status().state is ConnectorState.STOPPED


async def test_a_server_that_goes_away_is_reconnecting_and_recovers(
    plain_server: PumpServer, ingest: IngestService, store: Store
) -> None:
    conn = OpcUaConnectorRuntime(config(plain_server), ingest)
    await conn.start()
    try:
        await stored(store, "pump-01", "flow_rate", 80.0)
        await plain_server.stop()
        await reach(conn, ConnectorState.RECONNECTING)
        status = conn.status()
        assert status.last_error
        assert status.reconnects >= 1
        with pytest.raises(ConnectorError, match="not connected"):
            await conn.call_command("stop")
        await plain_server.start(flow=64.5)
        await reach(conn, ConnectorState.CONNECTED)
        await stored(store, "pump-01", "flow_rate", 64.5)
        await conn.call_command("stop")
        assert plain_server.calls == [("Stop", [])]
    finally:
        await conn.stop()


@pytest.fixture
def certificates(tmp_path: Path) -> tuple[CertPair, CertPair]:
    (tmp_path / "pki").mkdir()
    server = make_certificate(tmp_path / "pki", "server", SERVER_URI, server=True)
    client = make_certificate(tmp_path / "pki", "client", CLIENT_URI, server=False)
    return server, client


@pytest.mark.parametrize("mode", ["Sign", "SignAndEncrypt"])
async def test_basic256sha256_sign_and_sign_and_encrypt(
    mode: str, certificates: tuple[CertPair, CertPair], ingest: IngestService, store: Store
) -> None:
    server_pair, client_pair = certificates
    server = PumpServer(free_port(), security=server_pair, mode=mode)
    await server.start(flow=55.5)
    security = {
        "policy": "Basic256Sha256",
        "mode": mode,
        "client_certificate": str(client_pair.certificate),
        "client_private_key": str(client_pair.private_key),
        "server_certificate": str(server_pair.certificate),
        "application_uri": CLIENT_URI,
    }
    secure = OpcUaConnectorRuntime(config(server, security=security), ingest)
    insecure = OpcUaConnectorRuntime(config(server, id="no-security"), ingest)
    try:
        await secure.start()
        await insecure.start()
        await reach(secure, ConnectorState.CONNECTED)
        await stored(store, "pump-01", "flow_rate", 55.5)
        assert (await secure.call_command("set_speed", [1800.0])).outputs == [True]
        await stored(store, "pump-01", "motor_speed", 1800.0)
        # A client without security finds no endpoint it may use: it keeps trying, and says why.
        await until(lambda: insecure.status().reconnects >= 1, "the insecure connector refused")
        assert insecure.status().state is not ConnectorState.CONNECTED
        assert (
            insecure.status().last_error
            == "UaError: No matching endpoints: 1, http://opcfoundation.org/UA/SecurityPolicy#None"
        )
    finally:
        await secure.stop()
        await insecure.stop()
        await server.stop()
