"""A real asyncua OPC UA server for the connector tests: a pump object with variables and methods.

Certificates for Basic256Sha256 are generated here (asyncua's ``cert_gen`` over ``cryptography``), one pair for
the server and one for the client, each with its application URI in the subject alternative name.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

SERVER_URI = "urn:factorytwin:test:plc"
CLIENT_URI = "urn:factorytwin:connector"
NAMESPACE = "urn:factorytwin:test"


@dataclass(frozen=True)
class CertPair:
    """A certificate (DER) and its private key (PEM) on disk."""

    certificate: Path
    private_key: Path


def make_certificate(directory: Path, name: str, uri: str, server: bool) -> CertPair:
    """A self-signed application certificate for ``uri`` (server or client use) written to ``directory``."""
    key = cert_gen.generate_private_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    names = [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost"), x509.DNSName(socket.gethostname())]
    cert = cert_gen.generate_self_signed_app_certificate(
        key, name, {"organizationName": "factorytwin tests"}, names, [usage]
    )
    pair = CertPair(directory / f"{name}.der", directory / f"{name}.pem")
    pair.certificate.write_bytes(cert.public_bytes(Encoding.DER))
    pair.private_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return pair


class PasswordUsers(UserManager):
    """Lets in only the users of ``passwords`` (user name -> password); anonymous clients are refused."""

    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = passwords

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, certificate: Any = None
    ) -> User | None:
        if username is not None and self.passwords.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


@dataclass
class PumpServer:
    """An OPC UA server with ``Objects/Pump01`` (Flow, Speed, Quality variables; SetSpeed and Stop methods)."""

    port: int
    security: CertPair | None = None
    mode: str = "SignAndEncrypt"
    """The Basic256Sha256 mode offered with ``security``: Sign or SignAndEncrypt."""
    passwords: dict[str, str] | None = None
    calls: list[tuple[str, list[Any]]] = field(default_factory=list)
    server: Server | None = None
    node_ids: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/factorytwin/"

    async def start(self, flow: float = 80.0) -> None:
        """Start serving (again, after ``stop``: the same node ids, values from ``flow``)."""
        server = Server(user_manager=PasswordUsers(self.passwords) if self.passwords is not None else None)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("factorytwin test PLC")
        await server.set_application_uri(SERVER_URI)
        if self.security is not None:
            server.set_security_policy([getattr(ua.SecurityPolicyType, f"Basic256Sha256_{self.mode}")])
            await server.load_certificate(str(self.security.certificate))
            await server.load_private_key(str(self.security.private_key))
        idx = await server.register_namespace(NAMESPACE)
        pump = await server.nodes.objects.add_object(f"ns={idx};s=Pump01", "Pump01")
        flow_var = await pump.add_variable(f"ns={idx};s=Pump01.Flow", f"{idx}:Flow", flow, ua.VariantType.Double)
        speed = await pump.add_variable(f"ns={idx};s=Pump01.Speed", f"{idx}:Speed", 2900.0, ua.VariantType.Double)
        await speed.set_writable()
        label = await pump.add_variable(f"ns={idx};s=Pump01.Label", f"{idx}:Label", "P-101", ua.VariantType.String)

        async def set_speed(parent: ua.NodeId, rpm: ua.Variant) -> list[ua.Variant]:
            self.calls.append(("SetSpeed", [rpm.Value]))
            await speed.write_value(ua.Variant(float(rpm.Value), ua.VariantType.Double))
            return [ua.Variant(True, ua.VariantType.Boolean)]

        async def stop(parent: ua.NodeId) -> list[ua.Variant]:
            self.calls.append(("Stop", []))
            return []

        set_speed_node = await pump.add_method(
            f"ns={idx};s=Pump01.SetSpeed",
            f"{idx}:SetSpeed",
            set_speed,
            [ua.VariantType.Double],
            [ua.VariantType.Boolean],
        )
        stop_node = await pump.add_method(f"ns={idx};s=Pump01.Stop", f"{idx}:Stop", stop, [], [])
        self.variables = {"Flow": flow_var, "Speed": speed, "Label": label}
        self.node_ids = {
            "Pump01": pump.nodeid.to_string(),
            "Flow": flow_var.nodeid.to_string(),
            "Speed": speed.nodeid.to_string(),
            "Label": label.nodeid.to_string(),
            "SetSpeed": set_speed_node.nodeid.to_string(),
            "Stop": stop_node.nodeid.to_string(),
        }
        await server.start()
        self.server = server

    async def write(self, name: str, value: float) -> None:
        """Change a variable, as the device would."""
        await self.variables[name].write_value(ua.Variant(value, ua.VariantType.Double))

    async def write_bad(self, name: str) -> None:
        """Give a variable a value whose status is Bad (a sensor fault)."""
        bad = ua.StatusCode(ua.UInt32(StatusCodes.BadSensorFailure))
        dv = ua.DataValue(ua.Variant(0.0, ua.VariantType.Double), StatusCode=bad)
        await self.variables[name].write_value(dv)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
