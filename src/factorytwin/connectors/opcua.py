"""OPC UA: an asyncua client that subscribes to data changes of the mapped nodes (no polling) and runs commands.

* One subscription (``publishing_interval_ms``) with a monitored item per mapped node; the server sends the
  current value on subscribing and every change after. A change is mapped to its sensor, converted and queued
  for ingest, stamped with the device's SourceTimestamp (else the server's, else the arrival time).
* A change that cannot be used is unmapped (counted and logged with its node id): a node nobody mapped, a status
  that is not Good (the device does not vouch for the value), a value that is not a number.
* A node the server does not have is unmapped once per connection, and named in ``last_error``.
* The link is watched by asyncua's own supervisor (a probe every second); asyncua's reconnecting is switched off,
  so a loss ends the session and the connector's supervisor reconnects with its back-off.
* ``browse(node_id)`` lists a node's children (node id, browse name, node class, data type) for an API to walk
  the server's address space; ``call_command(name, args)`` is the control channel: it calls the configured method,
  or writes the configured variable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.subscription import DataChangeNotif
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.uaerrors._base import UaError  # what ua.UaError is (its star import hides it from mypy)

from factorytwin.connectors.answers import BrowsedNode, ConnectorCommandResult
from factorytwin.connectors.base import ConnectionLost, Connector, ConnectorError, MappedValue, describe
from factorytwin.connectors.models import OpcUaConnector, OpcUaMethodCommand, OpcUaNodeMapping
from factorytwin.errors import FieldProblem, InvalidInput, NotFound

WATCHDOG_S = 1.0  # how often asyncua probes the server (ServerState) to notice a dead link
DISCONNECT_TIMEOUT_S = 2.0


def canonical_node_id(node_id: str) -> str:
    """``node_id`` as asyncua writes it back (``ns=0;i=5`` is ``i=5``), so a data change finds its mapping."""
    return ua.NodeId.from_string(node_id).to_string()


def _plain(value: Any) -> Any:
    """A method output as JSON can carry it."""
    if isinstance(value, ua.Variant):
        value = value.Value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)  # OPC UA times are UTC


class _Handler:
    """asyncua's subscription callbacks, handed to the connector (called in asyncua's own task: quick, no I/O)."""

    def __init__(self, runtime: OpcUaConnectorRuntime) -> None:
        self.runtime = runtime

    def datachange_notification(self, node: Node, val: Any, data: DataChangeNotif) -> None:
        self.runtime.on_data_change(node.nodeid.to_string(), val, data.monitored_item.Value)

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        self.runtime.note_error(f"subscription status: {status.Status.name}")


class OpcUaConnectorRuntime(Connector[OpcUaConnector]):
    """An OPC UA client of one server; see the module docstring."""

    def __init__(self, config: OpcUaConnector, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.by_node: dict[str, OpcUaNodeMapping] = {canonical_node_id(m.node_id): m for m in config.mappings}
        self._client: Client | None = None

    async def _client_for(self) -> Client:
        c = self.config
        client = Client(c.endpoint, timeout=c.timeout_s, watchdog_intervall=WATCHDOG_S)
        client.application_uri = c.security.application_uri
        client.name = client.description = f"factorytwin connector {c.id}"
        if c.username is not None:
            client.set_user(c.username)
        if c.password is not None:
            client.set_password(c.password.get_secret_value())
        s = c.security
        if s.policy == "Basic256Sha256":
            await client.set_security(
                SecurityPolicyBasic256Sha256,
                certificate=str(s.client_certificate),
                private_key=str(s.client_private_key),
                server_certificate=str(s.server_certificate) if s.server_certificate else None,
                mode=ua.MessageSecurityMode[s.mode],
            )
        return client

    async def session(self) -> None:
        """Connect, subscribe to every mapped node, and wait until asyncua reports the link lost."""
        client = await self._client_for()
        lost = asyncio.Event()
        why: list[str] = []

        async def on_lost(exc: Exception) -> None:
            why.append(describe(exc))
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            await client.connect()
            subscription = await client.create_subscription(self.config.publishing_interval_ms, _Handler(self))
            nodes = [client.get_node(m.node_id) for m in self.config.mappings]
            results = await subscription.subscribe_data_change(nodes)
            for mapping, result in zip(self.config.mappings, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    self.note_error(f"cannot subscribe to {mapping.node_id}: {result.name}")
                    self.unmapped(mapping.node_id, f"the server refused a subscription to it: {result.name}")
            self._client = client
            self.connected()
            await lost.wait()
            raise ConnectionLost(why[0] if why else "the connection was lost")
        finally:
            self._client = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), timeout=DISCONNECT_TIMEOUT_S)

    def on_data_change(self, node_id: str, value: Any, data: ua.DataValue) -> None:
        """Map one data change and queue it, or count it as unmapped."""
        mapping = self.by_node.get(node_id)
        if mapping is None:
            self.unmapped(node_id, "no mapping for this node")
            return
        status = data.StatusCode
        if status is not None and not status.is_good():
            self.unmapped(node_id, f"status {status.name}: the server does not vouch for the value")
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.unmapped(node_id, f"{type(value).__name__} {str(value)[:40]!r} is not a number")
            return
        ts = (_aware(data.SourceTimestamp) or _aware(data.ServerTimestamp)) if self.config.source_timestamps else None
        converted = mapping.convert(value)
        self.emit([MappedValue(mapping.machine_id, mapping.sensor, converted, ts or self.clock(), node_id)])

    def _connected_client(self) -> Client:
        if self._client is None:
            raise ConnectorError(f"connector {self.id} is not connected ({self.state})")
        return self._client

    async def browse(self, node_id: str | None = None) -> list[BrowsedNode]:
        """The children of ``node_id`` (the Objects folder when None); raise ``ConnectorError`` when not connected."""
        client = self._connected_client()
        node = client.get_node(node_id) if node_id else client.nodes.objects
        try:
            await node.read_node_class()  # an unknown node has no children: say so instead of listing none
            children = await node.get_children()
            return [await self._describe(client, child) for child in children]
        except (UaError, OSError, TimeoutError) as exc:
            raise ConnectorError(f"cannot browse {node_id or 'Objects'}: {describe(exc)}") from exc

    async def _describe(self, client: Client, node: Node) -> BrowsedNode:
        browse_name = await node.read_browse_name()
        display_name = await node.read_display_name()
        node_class = await node.read_node_class()
        data_type = None
        if node_class == ua.NodeClass.Variable:
            data_type = (await client.get_node(await node.read_data_type()).read_browse_name()).Name
        return BrowsedNode(
            node_id=node.nodeid.to_string(),
            browse_name=browse_name.to_string(),
            display_name=display_name.Text or "",
            node_class=node_class.name,
            data_type=data_type,
        )

    async def call_command(self, name: str, args: Sequence[Any] = ()) -> ConnectorCommandResult:
        """Run the configured command ``name``: call its method with ``args``, or write its one argument.

        Raises ``NotFound`` for a command the connector does not have, ``InvalidInput`` for arguments that do not
        fit it, ``ConnectorError`` when not connected or when the server refuses.
        """
        command = self.config.commands.get(name)
        if command is None:
            known = ", ".join(sorted(self.config.commands)) or "none"
            raise NotFound(f"connector {self.id} has no command {name!r} (it has: {known})")
        client = self._connected_client()
        try:
            if isinstance(command, OpcUaMethodCommand):
                variants = _method_args(command, args)
                outputs = await client.get_node(command.object_node_id).call_method(
                    ua.NodeId.from_string(command.method_node_id), *variants
                )
                if outputs is None:
                    return ConnectorCommandResult(command=name)
                outs = outputs if isinstance(outputs, list) else [outputs]
                return ConnectorCommandResult(command=name, outputs=_plain(outs))
            if len(args) != 1:
                raise InvalidInput([FieldProblem(("args",), f"{name} writes one value, got {len(args)}", len(args))])
            variant = _variant(args[0], command.data_type, ("args", 0))
            await client.get_node(command.node_id).write_value(variant)
            return ConnectorCommandResult(command=name)
        except (UaError, OSError, TimeoutError) as exc:
            raise ConnectorError(f"the server refused {name}: {describe(exc)}") from exc


def _method_args(command: OpcUaMethodCommand, args: Sequence[Any]) -> list[Any]:
    if not command.arg_types:
        return list(args)
    if len(args) != len(command.arg_types):
        raise InvalidInput(
            [FieldProblem(("args",), f"the method takes {len(command.arg_types)} argument(s), got {len(args)}")]
        )
    return [_variant(a, t, ("args", i)) for i, (a, t) in enumerate(zip(args, command.arg_types, strict=True))]


_INTEGER_RANGES = {
    "SByte": (-(2**7), 2**7 - 1),
    "Byte": (0, 2**8 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "UInt16": (0, 2**16 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "UInt32": (0, 2**32 - 1),
    "Int64": (-(2**63), 2**63 - 1),
    "UInt64": (0, 2**64 - 1),
}


def _variant(value: Any, type_name: str, loc: tuple[str | int, ...]) -> ua.Variant:
    kind = ua.VariantType[type_name]
    ok = {
        "Boolean": isinstance(value, bool),
        "String": isinstance(value, str),
        "Float": isinstance(value, int | float) and not isinstance(value, bool),
        "Double": isinstance(value, int | float) and not isinstance(value, bool),
    }.get(type_name, isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise InvalidInput([FieldProblem(loc, f"{type_name} expected, got {type(value).__name__}", _plain(value))])
    if type_name in ("Float", "Double"):
        value = float(value)
    bounds = _INTEGER_RANGES.get(type_name)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise InvalidInput([FieldProblem(loc, f"{value} is outside the range of {type_name}", value)])
    try:
        return ua.Variant(value, kind)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput([FieldProblem(loc, f"{value!r} does not fit {type_name}: {exc}", _plain(value))]) from exc


__all__ = ["BrowsedNode", "ConnectorCommandResult", "OpcUaConnectorRuntime", "canonical_node_id"]
