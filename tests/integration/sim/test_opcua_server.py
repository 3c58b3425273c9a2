"""The simulator's OPC UA server read by a real asyncua client: browse, units, subscriptions, methods, security."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.crypto.cert_gen import (
    dump_private_key_as_pem,
    generate_private_key,
    generate_self_signed_app_certificate,
)
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from factorytwin.sim.opcua_server import APPLICATION_URI, OpcUaOptions, OpcUaSimServer
from factorytwin.sim.opcua_space import NAMESPACE_URI
from factorytwin.sim.state import STOPPED
from tests.waiting import DEADLINE_S

from .plant import serving, small_engine, small_layout

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
CLIENT_URI = "urn:factorytwin:test:client"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served() -> AsyncIterator[OpcUaSimServer]:
    """One server for the module (asyncua builds its standard address space in seconds)."""
    server = OpcUaSimServer(small_engine(), OpcUaOptions("opc.tcp://127.0.0.1:0"))
    async with serving(server.engine, server, ticks=2):
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def client(served: OpcUaSimServer) -> AsyncIterator[tuple[Client, int]]:
    """A connected client and the index of the simulator's namespace."""
    async with Client(served.endpoint, timeout=DEADLINE_S) as c:
        yield c, await c.get_namespace_index(NAMESPACE_URI)


def _node(client: Client, ns: int, node_id: str) -> Node:
    return client.get_node(f"ns={ns};s={node_id}")


async def test_factory_folder_holds_one_object_per_machine(client: tuple[Client, int]) -> None:
    c, ns = client
    folder = await c.nodes.objects.get_child(f"{ns}:Factory")
    children = await folder.get_children()
    names = [(await n.read_browse_name(), (await n.read_display_name()).Text) for n in children]
    assert names == [(ua.QualifiedName(m.id, ns), m.name) for m in small_layout().machines]
    mill = _node(c, ns, "mill-01")
    members = {(await n.read_browse_name()).Name for n in await mill.get_children()}
    assert {"spindle_speed", "torque", "tool_wear", "State", "SpeedSetpoint", "Kind"} <= members
    assert {"Start", "Stop", "SetSpeed", "Maintain"} <= members
    assert await _node(c, ns, "mill-01.Kind").read_value() == "cnc_mill"


async def test_a_sensor_is_an_analog_item_with_its_engineering_units_and_range(client: tuple[Client, int]) -> None:
    c, ns = client
    speed = _node(c, ns, "mill-01.spindle_speed")
    assert await speed.read_type_definition() == ua.NodeId(ua.Int32(ObjectIds.AnalogItemType))
    assert await speed.read_data_type() == ua.NodeId(ua.Int32(ObjectIds.Double))
    value = await speed.read_value()
    assert isinstance(value, float)
    assert 0.0 <= value <= 6000.0
    units = await (await speed.get_child("0:EngineeringUnits")).read_value()
    assert isinstance(units, ua.EUInformation)
    assert (units.UnitId, units.DisplayName.Text) == (5394509, "r/min")
    assert units.NamespaceUri == "http://www.opcfoundation.org/UA/units/un/cefact"
    assert await _node(c, ns, "mill-01.spindle_speed.EURange").read_value() == ua.Range(Low=0.0, High=6000.0)
    temp_units = await _node(c, ns, "pump-01.bearing_temp.EngineeringUnits").read_value()
    assert temp_units.DisplayName.Text == "K"


class _Changes:
    """A subscription handler that queues every value it is told about."""

    def __init__(self) -> None:
        self.values: asyncio.Queue[Any] = asyncio.Queue()

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        self.values.put_nowait(val)


async def test_a_subscription_sees_the_value_change_tick_by_tick(client: tuple[Client, int]) -> None:
    c, ns = client
    handler = _Changes()
    subscription = await c.create_subscription(50, handler)
    await subscription.subscribe_data_change(_node(c, ns, "conv-01.air_temp"))
    seen = [await asyncio.wait_for(handler.values.get(), DEADLINE_S) for _ in range(3)]
    await subscription.delete()
    assert all(isinstance(v, float) for v in seen)
    assert len(set(seen)) >= 2  # noise and the hall's air make every tick's value new


async def test_stop_method_stops_the_machine_and_its_state_says_so(
    client: tuple[Client, int], served: OpcUaSimServer
) -> None:
    c, ns = client
    pump = _node(c, ns, "pump-01")
    assert await _node(c, ns, "pump-01.State").read_value() == "running"
    accepted, message = await pump.call_method(f"{ns}:Stop")
    assert (accepted, message) == (True, "stopped")
    assert served.engine.status[1] == STOPPED
    assert await _node(c, ns, "pump-01.State").read_value() == "stopped"
    assert await pump.call_method(f"{ns}:Start") == [True, "started"]
    assert await _node(c, ns, "pump-01.State").read_value() == "running"


async def test_set_speed_method_changes_the_setpoint_and_refuses_out_of_range(
    client: tuple[Client, int], served: OpcUaSimServer
) -> None:
    c, ns = client
    conveyor = _node(c, ns, "conv-01")
    assert await conveyor.call_method(f"{ns}:SetSpeed", 70.0) == [True, "speed set to 70 % of nominal"]
    assert await _node(c, ns, "conv-01.SpeedSetpoint").read_value() == 70.0
    with pytest.raises(UaStatusCodeError) as refused:
        await conveyor.call_method(f"{ns}:SetSpeed", 150.0)
    assert refused.value.code == StatusCodes.BadInvalidArgument
    assert served.engine.speed_pct[2] == 70.0


async def test_a_taken_port_is_one_line(served: OpcUaSimServer) -> None:
    other = OpcUaSimServer(small_engine(), OpcUaOptions(f"opc.tcp://127.0.0.1:{served.port}"))
    with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1") as taken:
        await other.start()
    assert "\n" not in str(taken.value)


def _certificate(tmp_path: Path, name: str, uri: str) -> tuple[Path, Path]:
    key = generate_private_key()
    cert = generate_self_signed_app_certificate(
        key,
        name,
        {},
        [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost")],
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    cert_path, key_path = tmp_path / f"{name}-cert.pem", tmp_path / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(dump_private_key_as_pem(key))
    return cert_path, key_path


async def test_with_a_certificate_only_basic256sha256_is_offered_and_works(tmp_path: Path) -> None:
    server_cert, server_key = _certificate(tmp_path, "server", APPLICATION_URI)
    client_cert, client_key = _certificate(tmp_path, "client", CLIENT_URI)
    server = OpcUaSimServer(small_engine(), OpcUaOptions("opc.tcp://127.0.0.1:0", cert=server_cert, key=server_key))
    async with serving(server.engine, server, ticks=1):
        endpoints = await Client(server.endpoint, timeout=DEADLINE_S).connect_and_get_server_endpoints()
        assert {(e.SecurityPolicyUri, e.SecurityMode) for e in endpoints} == {
            (SecurityPolicyBasic256Sha256.URI, ua.MessageSecurityMode.Sign),
            (SecurityPolicyBasic256Sha256.URI, ua.MessageSecurityMode.SignAndEncrypt),
        }
        unsecured = Client(server.endpoint, timeout=DEADLINE_S)
        with pytest.raises(UaError):
            async with unsecured:
                await unsecured.get_namespace_index(NAMESPACE_URI)
        secure = Client(server.endpoint, timeout=DEADLINE_S)
        secure.application_uri = CLIENT_URI
        await secure.set_security(
            SecurityPolicyBasic256Sha256,
            str(client_cert),
            str(client_key),
            server_certificate=str(server_cert),
            mode=ua.MessageSecurityMode.SignAndEncrypt,
        )
        async with secure:
            ns = await secure.get_namespace_index(NAMESPACE_URI)
            value = await _node(secure, ns, "mill-01.torque").read_value()
            assert 0.0 <= value <= 200.0


async def test_a_port_taken_by_another_program_is_told_before_the_address_space_is_built() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = OpcUaSimServer(small_engine(), OpcUaOptions(f"opc.tcp://127.0.0.1:{port}"))
        with pytest.raises(OSError, match=f"127.0.0.1:{port}: .*in use"):
            await asyncio.wait_for(server.start(), 5.0)  # the address space takes seconds: it was not built


async def test_a_file_that_is_no_certificate_is_named(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    server = OpcUaSimServer(small_engine(), OpcUaOptions("opc.tcp://127.0.0.1:0", cert=garbage, key=garbage))
    with pytest.raises(ValueError, match=r"--opcua-cert .*garbage\.pem: not a PEM or DER certificate"):
        await server.start()
