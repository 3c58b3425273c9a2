"""``ConnectorManager``: the connectors of one factorytwin instance, added, removed, started and stopped live.

Each connector runs its own tasks (see ``base``), so one that cannot reach its device never holds up another;
the manager only keeps the set consistent (one lock around changes) and answers for all of them: ``statuses()``
for /health, ``call_command`` and ``browse`` for the API. Protocol modules are imported when a connector of their
kind is first built, so an instance without OPC UA connectors never loads asyncua.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from factorytwin.connectors.base import Connector, ConnectorError, ConnectorStatus
from factorytwin.connectors.models import ConnectorConfig, check_targets
from factorytwin.errors import FieldProblem, InvalidInput, NotFound
from factorytwin.ingest import IngestService

if TYPE_CHECKING:
    from factorytwin.connectors.answers import BrowsedNode, ConnectorCommandResult


class ConnectorFactory(Protocol):
    """Builds the runtime of a configuration (``build_connector``; tests pass their own)."""

    def __call__(self, config: ConnectorConfig, ingest: IngestService) -> Connector[Any]: ...


def build_connector(config: ConnectorConfig, ingest: IngestService, **options: Any) -> Connector[Any]:
    """The runtime for ``config``'s kind, not started; ``options`` (clock, sleep, ...) go to the ``Connector``."""
    if config.kind == "opcua":
        from factorytwin.connectors.opcua import OpcUaConnectorRuntime

        return OpcUaConnectorRuntime(config, ingest, **options)
    if config.kind == "modbus":
        from factorytwin.connectors.modbus import ModbusConnectorRuntime

        return ModbusConnectorRuntime(config, ingest, **options)
    from factorytwin.connectors.mqttjson import MqttJsonConnectorRuntime

    return MqttJsonConnectorRuntime(config, ingest, **options)


class ConnectorManager:
    """Several connectors feeding one ``IngestService``.

    ``known``, when given, returns machine id -> sensor keys of the factory as it is now; ``add`` then refuses a
    configuration that maps to a machine or sensor that does not exist, naming the mapping.
    """

    def __init__(
        self,
        ingest: IngestService,
        *,
        factory: ConnectorFactory = build_connector,
        known: Callable[[], Mapping[str, Collection[str]]] | None = None,
    ) -> None:
        self.ingest = ingest
        self.factory = factory
        self.known = known
        self._connectors: dict[str, Connector[Any]] = {}
        self._lock = asyncio.Lock()

    def __contains__(self, connector_id: object) -> bool:
        return connector_id in self._connectors

    def __len__(self) -> int:
        return len(self._connectors)

    def ids(self) -> list[str]:
        """The connector ids, in the order they were added."""
        return list(self._connectors)

    def get(self, connector_id: str) -> Connector[Any]:
        """The connector ``connector_id``; raise ``NotFound`` if there is none."""
        try:
            return self._connectors[connector_id]
        except KeyError:
            raise NotFound(f"no connector {connector_id!r}") from None

    def configs(self) -> list[ConnectorConfig]:
        """Every connector's configuration (e.g. to save them)."""
        return [c.config for c in self._connectors.values()]

    async def add(self, config: ConnectorConfig, *, start: bool = True) -> Connector[Any]:
        """Add (and by default start) a connector; raise ``InvalidInput`` for a taken id or an unknown target."""
        async with self._lock:
            if config.id in self._connectors:
                raise InvalidInput([FieldProblem(("id",), f"a connector {config.id!r} exists already", config.id)])
            if self.known is not None and (problems := check_targets(config, self.known())):
                raise InvalidInput(problems)
            connector = self.factory(config, self.ingest)
            self._connectors[config.id] = connector
        if start:
            await connector.start()
        return connector

    async def replace(self, config: ConnectorConfig, *, start: bool = True) -> Connector[Any]:
        """Swap the configuration of connector ``config.id``: the old one stops, the new one starts."""
        if self.known is not None and (problems := check_targets(config, self.known())):
            raise InvalidInput(problems)
        await self.remove(config.id)
        return await self.add(config, start=start)

    async def remove(self, connector_id: str) -> None:
        """Stop connector ``connector_id`` and forget it; raise ``NotFound`` if there is none."""
        async with self._lock:
            connector = self.get(connector_id)
            del self._connectors[connector_id]
        await connector.stop()

    async def start(self, connector_id: str) -> None:
        """Start connector ``connector_id`` (a no-op when it runs)."""
        await self.get(connector_id).start()

    async def stop(self, connector_id: str) -> None:
        """Stop connector ``connector_id``, keeping its configuration (a no-op when it is stopped)."""
        await self.get(connector_id).stop()

    async def start_all(self) -> None:
        """Start every connector."""
        await asyncio.gather(*(c.start() for c in list(self._connectors.values())))

    async def stop_all(self) -> None:
        """Stop every connector, all at once (a slow one does not hold up the others)."""
        await asyncio.gather(*(c.stop() for c in list(self._connectors.values())))

    def statuses(self) -> dict[str, ConnectorStatus]:
        """Connector id -> status, for /health."""
        return {cid: c.status() for cid, c in self._connectors.items()}

    async def call_command(self, connector_id: str, name: str, args: Sequence[Any] = ()) -> ConnectorCommandResult:
        """Run command ``name`` of connector ``connector_id`` (OPC UA connectors have commands)."""
        from factorytwin.connectors.opcua import OpcUaConnectorRuntime

        connector = self.get(connector_id)
        if not isinstance(connector, OpcUaConnectorRuntime):
            raise ConnectorError(f"connector {connector_id!r} ({connector.config.kind}) has no commands")
        return await connector.call_command(name, args)

    async def browse(self, connector_id: str, node_id: str | None = None) -> list[BrowsedNode]:
        """The children of ``node_id`` on the server of OPC UA connector ``connector_id``."""
        from factorytwin.connectors.opcua import OpcUaConnectorRuntime

        connector = self.get(connector_id)
        if not isinstance(connector, OpcUaConnectorRuntime):
            raise ConnectorError(f"connector {connector_id!r} ({connector.config.kind}) cannot be browsed")
        return await connector.browse(node_id)


__all__ = ["ConnectorFactory", "ConnectorManager", "build_connector"]
