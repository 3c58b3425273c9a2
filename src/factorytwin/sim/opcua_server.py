"""The simulator as an OPC UA server (asyncua): every simulated machine browsable, readable, subscribable, callable.

``OpcUaSimServer`` builds the address space that ``opcua_space.plan_address_space`` plans (node ids
``ns=<idx>;s=<machine>.<sensor>`` in the namespace ``urn:factorytwin:sim``), writes every sensor, the State and the
SpeedSetpoint on each simulator tick (stamped with the wall clock, as the HTTP/MQTT publishers stamp them) and
turns each method call into ``sim.commands.apply_command``. The real-time driver starts it before the first tick and
stops it on the way out; method callbacks run on the driver's event loop (they are coroutines, so asyncua does not
hand them to a thread), between two ticks, like an MQTT command.

Security: without a certificate the server offers the None endpoint only. With ``cert`` and ``key`` it offers
Basic256Sha256 Sign and SignAndEncrypt and no unsecured endpoint. Users are anonymous either way.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

from factorytwin.errors import InvalidInput
from factorytwin.sim.commands import apply_command
from factorytwin.sim.engine import Engine
from factorytwin.sim.opcua_space import (
    FOLDER_ID,
    NAMESPACE_URI,
    OUTPUTS,
    MachineNode,
    MethodArgument,
    MethodArgumentError,
    MethodSpec,
    SensorNode,
    command_for_call,
    eu_information,
    eu_property_id,
    eu_range,
    plan_address_space,
    range_property_id,
)
from factorytwin.sim.state import STATUSES, Frame

log = logging.getLogger("factorytwin.sim.opcua")
APPLICATION_URI = "urn:factorytwin:sim:server"
SERVER_NAME = "factorytwin simulator"
MethodCallback = Callable[..., Awaitable[ua.CallMethodResult]]


@dataclass(frozen=True, slots=True)
class OpcUaOptions:
    """Where the server listens and, optionally, its certificate and private key (PEM or DER files)."""

    url: str
    cert: Path | None = None
    key: Path | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "opc.tcp" or not parts.hostname:
            raise ValueError(f"--opcua must be an opc.tcp://HOST:PORT URL, not {self.url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"--opcua {self.url!r}: the port is not a number") from None
        if port is None:
            raise ValueError(f"--opcua {self.url!r} needs a port, e.g. opc.tcp://0.0.0.0:4840")
        if (self.cert is None) != (self.key is None):
            raise ValueError("--opcua-cert and --opcua-key go together: give both or neither")
        for flag, path in (("--opcua-cert", self.cert), ("--opcua-key", self.key)):
            if path is not None and not path.is_file():
                raise ValueError(f"{flag} {path}: no such file")

    @property
    def secure(self) -> bool:
        """True when the server signs and encrypts (a certificate is given)."""
        return self.cert is not None


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence logger ``name`` (asyncua logs a traceback when it cannot listen; we say it in one line instead)."""
    logger = logging.getLogger(name)
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


def _check_port_free(host: str, port: int) -> None:
    """``OSError`` (one line) when ``host:port`` cannot be bound now; port 0 (any free one) always can."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in infos:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
                probe.bind(address)
    except OSError as exc:
        raise OSError(f"OPC UA server cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _ns0(identifier: int) -> ua.NodeId:
    """A node id of the standard namespace (0)."""
    return ua.NodeId(ua.Int32(identifier))


def _status_code(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


def _argument(arg: MethodArgument) -> ua.Argument:
    return ua.Argument(
        Name=arg.name,
        DataType=_ns0(arg.variant.value),
        ValueRank=ua.ValueRank.Scalar,
        ArrayDimensions=[],
        Description=ua.LocalizedText(arg.description),
    )


class OpcUaSimServer:
    """An asyncua server over an ``Engine``: ``start``, ``update`` on each tick, ``stop``."""

    def __init__(self, engine: Engine, options: OpcUaOptions) -> None:
        self.engine = engine
        self.options = options
        self.plan = plan_address_space(engine.layout)
        self.server: Server | None = None
        self.ns = 0
        self.commands = 0
        self.refused = 0
        self.ticks = 0  # ticks served so far

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when the URL says port 0)."""
        if self.server is None or self.server.bserver is None or self.server.bserver.port is None:
            raise RuntimeError("the OPC UA server is not started")
        return int(self.server.bserver.port)

    @property
    def endpoint(self) -> str:
        """The URL a client connects to (with the real port)."""
        host = urlsplit(self.options.url).hostname or "127.0.0.1"
        return f"opc.tcp://{'127.0.0.1' if host == '0.0.0.0' else host}:{self.port}"

    async def start(self) -> None:
        """Build the address space and listen; ``OSError`` in one line when the port is taken."""
        parts = urlsplit(self.options.url)
        # asyncua binds only after building its standard address space (seconds): a taken port is told at once.
        _check_port_free(parts.hostname or "", parts.port or 0)
        server = Server()
        await server.init()
        server.set_endpoint(self.options.url)
        server.set_server_name(SERVER_NAME)
        await server.set_application_uri(APPLICATION_URI)
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        if self.options.cert is not None and self.options.key is not None:
            try:
                await server.load_certificate(str(self.options.cert))
            except ValueError as exc:
                raise ValueError(f"--opcua-cert {self.options.cert}: not a PEM or DER certificate ({exc})") from None
            try:
                await server.load_private_key(str(self.options.key))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"--opcua-key {self.options.key}: not an unencrypted PEM or DER key ({exc})") from None
            server.set_security_policy(
                [ua.SecurityPolicyType.Basic256Sha256_Sign, ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
            )
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.ns = await server.register_namespace(NAMESPACE_URI)
        await self._build(server)
        try:
            with _quiet("asyncua.server.server"):
                await server.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OSError(f"OPC UA server cannot listen on {parts.hostname}:{parts.port}: {reason}") from None
        self.server = server
        log.info("OPC UA server on %s (%s)", self.endpoint, "Basic256Sha256" if self.options.secure else "no security")

    async def stop(self) -> None:
        """Close every session and stop listening."""
        if self.server is not None:
            server, self.server = self.server, None
            await server.stop()

    # ------------------------------------------------------------------------------------------------ building
    def _id(self, node_id: str) -> ua.NodeId:
        return ua.NodeId(ua.String(node_id), ua.Int16(self.ns))

    async def _build(self, server: Server) -> None:
        folder = await server.nodes.objects.add_folder(self._id(FOLDER_ID), ua.QualifiedName(FOLDER_ID, self.ns))
        for machine in self.plan:
            await self._build_machine(server, folder, machine)

    async def _build_machine(self, server: Server, folder: Node, m: MachineNode) -> None:
        obj = await folder.add_object(self._id(m.node_id), ua.QualifiedName(m.machine_id, self.ns))
        await server.write_attribute_value(
            obj.nodeid, ua.DataValue(ua.Variant(ua.LocalizedText(m.name))), AttributeIds.DisplayName
        )
        await obj.add_property(self._id(m.kind_id), ua.QualifiedName("Kind", self.ns), m.kind.value)
        for sensor in m.sensors:
            await self._add_sensor(server, obj, sensor)
        i = m.index
        await obj.add_variable(
            self._id(m.state_id), ua.QualifiedName("State", self.ns), self._status(i), ua.VariantType.String
        )
        await obj.add_variable(
            self._id(m.setpoint_id),
            ua.QualifiedName("SpeedSetpoint", self.ns),
            float(self.engine.speed_pct[i]),
            ua.VariantType.Double,
        )
        for spec, node_id in m.method_ids:
            await obj.add_method(
                self._id(node_id),
                ua.QualifiedName(spec.name, self.ns),
                self._callback(m, spec),
                [_argument(a) for a in spec.inputs],
                [_argument(a) for a in OUTPUTS],
            )

    async def _add_sensor(self, server: Server, obj: Node, sensor: SensorNode) -> None:
        """An AnalogItem (Double) with EngineeringUnits and EURange; Bad_WaitingForInitialData until a tick."""
        item = ua.AddNodesItem(
            RequestedNewNodeId=self._id(sensor.node_id),
            BrowseName=ua.QualifiedName(sensor.key, self.ns),
            NodeClass=ua.NodeClass.Variable,
            ParentNodeId=obj.nodeid,
            ReferenceTypeId=_ns0(ObjectIds.HasComponent),
            TypeDefinition=_ns0(ObjectIds.AnalogItemType),
            NodeAttributes=ua.VariableAttributes(
                DisplayName=ua.LocalizedText(sensor.key),
                Description=ua.LocalizedText(f"{sensor.label} [{sensor.unit}]"),
                DataType=_ns0(ObjectIds.Double),
                Value=ua.Variant(0.0, ua.VariantType.Double),
                ValueRank=ua.ValueRank.Scalar,
                AccessLevel=ua.AccessLevel.CurrentRead.mask,
                UserAccessLevel=ua.AccessLevel.CurrentRead.mask,
            ),
        )
        (result,) = await obj.session.add_nodes([item])
        result.StatusCode.check()
        var = server.get_node(result.AddedNodeId)
        await var.add_property(
            self._id(eu_property_id(sensor.node_id)),
            ua.QualifiedName("EngineeringUnits", 0),
            eu_information(sensor.unit),
            datatype=_ns0(ObjectIds.EUInformation),
        )
        await var.add_property(
            self._id(range_property_id(sensor.node_id)),
            ua.QualifiedName("EURange", 0),
            eu_range(sensor),
            datatype=_ns0(ObjectIds.Range),
        )
        await server.write_attribute_value(
            var.nodeid, ua.DataValue(StatusCode=_status_code(StatusCodes.BadWaitingForInitialData))
        )

    # ------------------------------------------------------------------------------------------------ values
    def _status(self, i: int) -> str:
        return STATUSES[int(self.engine.status[i])].value

    async def update(self, frame: Frame) -> None:
        """Write the last sample of every sensor, and every State and SpeedSetpoint, stamped now."""
        server = self.server
        if server is None:
            return
        now = ua.DateTime.now(UTC)
        row = frame.n - 1
        for m in self.plan:
            values = frame.machine_values(row, m.index)
            for sensor in m.sensors:
                value = values.get(sensor.key)
                if value is None:
                    continue
                dv = ua.DataValue(ua.Variant(value, ua.VariantType.Double), SourceTimestamp=now, ServerTimestamp=now)
                await server.write_attribute_value(self._id(sensor.node_id), dv)
            await self._write_machine(server, m, now)
        self.ticks += 1

    async def _write_machine(self, server: Server, m: MachineNode, now: ua.DateTime) -> None:
        state = ua.DataValue(ua.Variant(self._status(m.index), ua.VariantType.String), SourceTimestamp=now)
        await server.write_attribute_value(self._id(m.state_id), state)
        pct = float(self.engine.speed_pct[m.index])
        setpoint = ua.DataValue(ua.Variant(pct, ua.VariantType.Double), SourceTimestamp=now)
        await server.write_attribute_value(self._id(m.setpoint_id), setpoint)

    # ------------------------------------------------------------------------------------------------ methods
    def _callback(self, m: MachineNode, spec: MethodSpec) -> MethodCallback:
        async def call(parent: ua.NodeId, *args: ua.Variant) -> ua.CallMethodResult:
            return await self.call(m, spec, [a.Value for a in args])

        return call

    async def call(self, m: MachineNode, spec: MethodSpec, args: list[object]) -> ua.CallMethodResult:
        """Apply the command a method call stands for; State and SpeedSetpoint show its effect at once."""
        self.commands += 1
        try:
            command = command_for_call(spec, args)
            outcome = apply_command(self.engine, m.machine_id, command)
        except MethodArgumentError as exc:
            self.refused += 1
            log.warning("refused OPC UA call %s on %s: %s", spec.name, m.machine_id, exc)
            return ua.CallMethodResult(
                StatusCode=_status_code(exc.status),
                InputArgumentResults=[_status_code(code) for code in exc.argument_status],
            )
        except InvalidInput:  # pragma: no cover - command_for_call validates what apply_command checks
            self.refused += 1
            return ua.CallMethodResult(StatusCode=_status_code(StatusCodes.BadInvalidArgument))
        if not outcome.accepted:
            self.refused += 1
        log.info("OPC UA %s on %s: %s", spec.name, m.machine_id, outcome.message)
        if self.server is not None:
            await self._write_machine(self.server, m, ua.DateTime.now(UTC))
        return ua.CallMethodResult(
            OutputArguments=[
                ua.Variant(outcome.accepted, ua.VariantType.Boolean),
                ua.Variant(outcome.message, ua.VariantType.String),
            ]
        )
