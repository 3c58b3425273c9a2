"""``ConnectorService``: the connectors of a running factorytwin, configured over the API, stored, run live.

Configurations live in the store (``store.connectors``), so they start again with the server; the running side
is a ``ConnectorManager`` (one supervisor per connector: a device that cannot be reached never holds up another
or the API). Secrets (an OPC UA password, the password in an MQTT broker URL) are stored and used but never
returned: a view shows ``**********`` in their place, and a configuration written back with that placeholder
keeps the stored secret.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, Field

from factorytwin.connectors.base import ConnectorError, ConnectorState, ConnectorStatus
from factorytwin.connectors.manager import ConnectorManager
from factorytwin.connectors.models import (
    ConnectorConfig,
    MqttJsonConnector,
    OpcUaConnector,
    check_targets,
    parse_connector,
    targets,
)
from factorytwin.domain import CommandMessage
from factorytwin.errors import FieldProblem, InvalidInput, NotFound
from factorytwin.store.connectors import ConnectorStore, StoredConnector
from factorytwin.twin.commands import DispatchOutcome
from factorytwin.twin.messages import CommandState

if TYPE_CHECKING:
    from factorytwin.connectors.answers import BrowsedNode, ConnectorCommandResult

log = logging.getLogger(__name__)

MASK = "**********"
"""What a view shows in place of a secret (pydantic's own rendering of a ``SecretStr``)."""
_URL_PASSWORD = re.compile(r"^(?P<head>[a-z]+://[^:@/]+:)(?P<password>[^@/]*)(?P<tail>@.*)$")


class ConnectorView(BaseModel):
    """A connector: its configuration (secrets masked), whether it should run, and how it is doing."""

    config: ConnectorConfig
    enabled: bool = Field(description="started at server start-up and kept running (stop sets it false)")
    status: ConnectorStatus | None = Field(
        description="live state; null when the stored configuration no longer fits the plant (see problem)"
    )
    problem: str | None = Field(default=None, description="why a stored connector is not running")
    saved_at: AwareDatetime
    saved_by: str


def _mask_url(url: str) -> str:
    found = _URL_PASSWORD.match(url)
    return f"{found['head']}{MASK}{found['tail']}" if found else url


def masked(config: ConnectorConfig) -> ConnectorConfig:
    """``config`` with the password inside a broker URL masked (a ``SecretStr`` masks itself)."""
    if isinstance(config, MqttJsonConnector):
        return config.model_copy(update={"broker_url": _mask_url(config.broker_url)})
    return config


def with_stored_secrets(new: ConnectorConfig, old: ConnectorConfig | None) -> ConnectorConfig:
    """``new`` with each secret given as the mask replaced by ``old``'s (a view written back keeps them)."""
    if isinstance(new, OpcUaConnector) and new.password is not None and new.password.get_secret_value() == MASK:
        kept = old.password if isinstance(old, OpcUaConnector) else None
        return new.model_copy(update={"password": kept})
    found = _URL_PASSWORD.match(new.broker_url) if isinstance(new, MqttJsonConnector) else None
    if found is not None and found["password"] == MASK and isinstance(old, MqttJsonConnector):
        previous = _URL_PASSWORD.match(old.broker_url)
        secret = previous["password"] if previous else ""
        return new.model_copy(update={"broker_url": f"{found['head']}{secret}{found['tail']}"})
    return new


def _config_json(config: ConnectorConfig) -> str:
    doc = config.model_dump(mode="json")
    if isinstance(config, OpcUaConnector) and config.password is not None:
        doc["password"] = config.password.get_secret_value()
    return json.dumps(doc)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ConnectorService:
    """List, create, change, delete, start, stop, browse and command the plant's connectors."""

    def __init__(
        self,
        store: ConnectorStore,
        manager: ConnectorManager,
        known: Callable[[], Mapping[str, Collection[str]]],
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.manager = manager
        self.known = known
        self.now = now
        self._rows: dict[str, StoredConnector] = {}
        self._configs: dict[str, ConnectorConfig] = {}
        self._problems: dict[str, str] = {}

    async def load(self) -> None:
        """Take the stored connectors and start the enabled ones (in the background: ``add`` does not wait for a
        connection). One that no longer fits the plant (its machine deleted) is kept stopped, with the reason."""
        for row in await self.store.connectors():
            self._rows[row.id] = row
            try:
                config = parse_connector(json.loads(row.config))
            except (InvalidInput, ValueError) as exc:
                self._problems[row.id] = f"stored configuration is not valid: {exc}"
                log.warning("connector %s not started: %s", row.id, self._problems[row.id])
                continue
            self._configs[row.id] = config
            try:
                await self.manager.add(config, start=row.enabled)
            except InvalidInput as exc:
                self._problems[row.id] = "; ".join(p.msg for p in exc.problems[:3])
                log.warning("connector %s not started: %s", row.id, self._problems[row.id])

    async def close(self) -> None:
        """Stop every connector (their configurations stay stored)."""
        await self.manager.stop_all()

    # -- reads ---------------------------------------------------------------------------------------------------
    def views(self) -> list[ConnectorView]:
        """Every connector, by id."""
        return [self._view(cid) for cid in sorted(self._rows)]

    def get(self, connector_id: str) -> ConnectorView:
        """One connector; ``NotFound`` otherwise."""
        if connector_id not in self._rows:
            raise NotFound(f"no connector {connector_id!r}")
        return self._view(connector_id)

    def for_machine(self, machine_id: str) -> list[ConnectorView]:
        """The connectors that feed a machine (those mapping a value to it)."""
        return [
            self._view(cid)
            for cid in sorted(self._configs)
            if any(mid == machine_id for _, mid, _ in targets(self._configs[cid]))
        ]

    def statuses(self) -> dict[str, ConnectorStatus]:
        """Connector id -> live status (for /health)."""
        return self.manager.statuses()

    def _view(self, connector_id: str) -> ConnectorView:
        row = self._rows[connector_id]
        config = self._configs.get(connector_id)
        status = self.manager.get(connector_id).status() if connector_id in self.manager else None
        return ConnectorView(
            config=masked(config) if config is not None else _unparsed(row),
            enabled=row.enabled,
            status=status,
            problem=self._problems.get(connector_id),
            saved_at=row.saved_at,
            saved_by=row.saved_by,
        )

    # -- writes --------------------------------------------------------------------------------------------------
    async def create(self, config: ConnectorConfig, by: str) -> ConnectorView:
        """Store and start a connector: 422 naming the field for a taken id or a mapping to a machine or sensor
        the plant does not have."""
        if config.id in self._rows:
            raise InvalidInput([FieldProblem(("body", "id"), f"a connector {config.id!r} exists already", config.id)])
        self._check(config)
        await self.manager.add(config, start=True)
        await self._save(config, True, by)
        return self._view(config.id)

    async def update(self, connector_id: str, config: ConnectorConfig, by: str) -> ConnectorView:
        """Replace a connector's configuration (it restarts with it if it was enabled); ``NotFound``, or 422 when
        the body's id differs from the path's."""
        row = self._row(connector_id)
        if config.id != connector_id:
            msg = f"the body's id {config.id!r} differs from the path's {connector_id!r}"
            raise InvalidInput([FieldProblem(("body", "id"), msg, config.id)])
        config = with_stored_secrets(config, self._configs.get(connector_id))
        self._check(config)
        if connector_id in self.manager:
            await self.manager.remove(connector_id)
        await self.manager.add(config, start=row.enabled)
        self._problems.pop(connector_id, None)
        await self._save(config, row.enabled, by)
        return self._view(connector_id)

    async def delete(self, connector_id: str) -> None:
        """Stop and forget a connector; ``NotFound`` otherwise."""
        self._row(connector_id)
        if connector_id in self.manager:
            await self.manager.remove(connector_id)
        await self.store.delete_connector(connector_id)
        for held in (self._rows, self._configs, self._problems):
            held.pop(connector_id, None)

    async def set_enabled(self, connector_id: str, enabled: bool, by: str) -> ConnectorView:
        """Start or stop a connector, and keep it so across restarts."""
        self._row(connector_id)
        config = self._configs.get(connector_id)
        if config is None or connector_id not in self.manager:
            problem = self._problems.get(connector_id, "it is not configured")
            msg = f"connector {connector_id!r} cannot run: {problem}; PUT a configuration that fits the plant"
            raise InvalidInput([FieldProblem(("path", "connector_id"), msg, connector_id)])
        if enabled:
            await self.manager.start(connector_id)
        else:
            await self.manager.stop(connector_id)
        await self._save(config, enabled, by)
        return self._view(connector_id)

    async def browse(self, connector_id: str, node_id: str | None) -> list[BrowsedNode]:
        """The children of an OPC UA node (the Objects folder when None) on a connector's server."""
        self._row(connector_id)
        return await self.manager.browse(connector_id, node_id)

    async def command(self, connector_id: str, name: str, args: Sequence[Any]) -> ConnectorCommandResult:
        """Run a command of an OPC UA connector (a method call or a variable write)."""
        self._row(connector_id)
        return await self.manager.call_command(connector_id, name, args)

    async def route_command(self, message: CommandMessage) -> DispatchOutcome | None:
        """The twin's command route: a machine fed by an OPC UA connector with a command named
        ``<machine_id>.<command>`` (or ``<command>``, when the connector feeds that machine alone) is commanded
        over OPC UA; None for any other machine (MQTT or in-process then)."""
        found = self._opcua_command(message.machine_id, message.command.value)
        if found is None:
            return None
        connector_id, name = found
        args = [message.speed_pct] if message.speed_pct is not None else []
        try:
            result = await self.manager.call_command(connector_id, name, args)
        except ConnectorError as exc:
            connected = self.manager.get(connector_id).status().state is ConnectorState.CONNECTED
            state = CommandState.REFUSED if connected else CommandState.UNDELIVERED
            answer = str(exc) if connected else None
            return DispatchOutcome(connected, f"OPC UA connector {connector_id}: {exc}", state, answer)
        shown = f": {result.outputs}" if result.outputs else ""
        return DispatchOutcome(True, f"applied over OPC UA ({connector_id} {name}){shown}", CommandState.APPLIED)

    def _opcua_command(self, machine_id: str, command: str) -> tuple[str, str] | None:
        for cid in sorted(self._configs):
            config = self._configs[cid]
            if not isinstance(config, OpcUaConnector) or cid not in self.manager:
                continue
            fed = {mid for _, mid, _ in targets(config)}
            if f"{machine_id}.{command}" in config.commands:
                return cid, f"{machine_id}.{command}"
            if fed == {machine_id} and command in config.commands:
                return cid, command
        return None

    def _row(self, connector_id: str) -> StoredConnector:
        try:
            return self._rows[connector_id]
        except KeyError:
            raise NotFound(f"no connector {connector_id!r}") from None

    def _check(self, config: ConnectorConfig) -> None:
        problems = check_targets(config, self.known())
        if problems:
            raise InvalidInput([FieldProblem(("body", *p.loc), p.msg, p.value) for p in problems])

    async def _save(self, config: ConnectorConfig, enabled: bool, by: str) -> None:
        row = StoredConnector(
            id=config.id,
            kind=config.kind,
            config=_config_json(config),
            enabled=enabled,
            saved_at=self.now(),
            saved_by=by,
        )
        await self.store.put_connector(row)
        self._rows[config.id] = row
        self._configs[config.id] = config


def _unparsed(row: StoredConnector) -> ConnectorConfig:
    """A stored configuration that no longer parses, shown as far as it can be: never its secrets."""
    doc = json.loads(row.config)
    doc.pop("password", None)
    try:
        return masked(parse_connector(doc))
    except (InvalidInput, ValueError):
        raise InvalidInput([FieldProblem(("path", "connector_id"), "stored configuration is broken", row.id)]) from None


__all__ = ["MASK", "ConnectorService", "ConnectorView", "masked", "with_stored_secrets"]
