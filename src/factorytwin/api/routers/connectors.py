"""/connectors: OPC UA, Modbus TCP and mapped-MQTT-JSON connectors, configured, stored and run live.

Reads need the viewer role, everything else the engineer role (a connector reaches into the plant's network);
each write is in the audit trail. Secrets are never returned (``**********``; written back, they are kept).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field

from factorytwin.api.auth import Engineer, Viewer, audit
from factorytwin.api.deps import UNAVAILABLE, ServicesDep
from factorytwin.api.errors import ErrorBody
from factorytwin.connectors.answers import BrowsedNode, ConnectorCommandResult
from factorytwin.connectors.base import ConnectorError
from factorytwin.connectors.models import ConnectorConfig
from factorytwin.connectors.service import ConnectorService, ConnectorView
from factorytwin.errors import ServiceUnavailable

router = APIRouter(tags=["connectors"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such connector", "model": ErrorBody}}
NO_MACHINE: dict[int | str, dict[str, Any]] = {404: {"description": "no such machine", "model": ErrorBody}}
BAD: dict[int | str, dict[str, Any]] = {422: {"description": "bad configuration, named by field", "model": ErrorBody}}


async def get_connectors(services: ServicesDep) -> ConnectorService:
    """FastAPI dependency: the connector service; 503 when it is not running."""
    if not services.settings.connectors_enabled:
        raise ServiceUnavailable(
            "connectors run in another process of this deployment (FT_CONNECTORS_ENABLED=false here): "
            "send /connectors requests to that one"
        )
    if services.connectors is None:
        raise ServiceUnavailable("the connector service is not running")
    return services.connectors


ConnectorsDep = Annotated[ConnectorService, Depends(get_connectors)]


class BrowseRequest(BaseModel):
    """Which node's children to list (the Objects folder when null)."""

    node_id: str | None = Field(default=None, max_length=4096, description="e.g. ns=2;s=Pump01; null: Objects")


class CommandRequest(BaseModel):
    """A command of an OPC UA connector and its arguments (typed by the command's ``arg_types``)."""

    name: str = Field(min_length=1, max_length=64)
    args: list[float | int | str | bool] = Field(default_factory=list, max_length=32)


def _device(exc: ConnectorError) -> ServiceUnavailable:
    return ServiceUnavailable(str(exc))


@router.get("/connectors", responses=UNAVAILABLE)
async def list_connectors(connectors: ConnectorsDep, _: Viewer) -> list[ConnectorView]:
    """Every connector with its status (connected, reconnecting with back-off, last error, last value time)."""
    return connectors.views()


@router.get("/connectors/{connector_id}", responses=NOT_FOUND | UNAVAILABLE)
async def get_connector(connector_id: str, connectors: ConnectorsDep, _: Viewer) -> ConnectorView:
    """One connector and its status."""
    return connectors.get(connector_id)


@router.get(
    "/machines/{machine_id}/connectors",
    responses=NO_MACHINE | UNAVAILABLE,
)
async def machine_connectors(
    machine_id: str, connectors: ConnectorsDep, services: ServicesDep, _: Viewer
) -> list[ConnectorView]:
    """The connectors feeding a machine (the machine panel shows them); 404 for an unknown machine."""
    services.machine(machine_id)
    return connectors.for_machine(machine_id)


@router.post("/connectors", status_code=status.HTTP_201_CREATED, responses=BAD | UNAVAILABLE)
async def create_connector(
    body: ConnectorConfig, connectors: ConnectorsDep, who: Engineer, request: Request
) -> ConnectorView:
    """Store and start a connector (it connects in the background: its status says how it goes)."""
    async with audit(request, who, "connector.create", body.id):
        return await connectors.create(body, who.name)


@router.put("/connectors/{connector_id}", responses=NOT_FOUND | BAD | UNAVAILABLE)
async def update_connector(
    connector_id: str, body: ConnectorConfig, connectors: ConnectorsDep, who: Engineer, request: Request
) -> ConnectorView:
    """Replace a connector's configuration; it restarts with it (a masked secret keeps the stored one)."""
    async with audit(request, who, "connector.update", connector_id):
        return await connectors.update(connector_id, body, who.name)


@router.delete("/connectors/{connector_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND | UNAVAILABLE)
async def delete_connector(connector_id: str, connectors: ConnectorsDep, who: Engineer, request: Request) -> Response:
    """Stop a connector and forget it (what it stored stays)."""
    async with audit(request, who, "connector.delete", connector_id):
        await connectors.delete(connector_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/connectors/{connector_id}/start", responses=NOT_FOUND | BAD | UNAVAILABLE)
async def start_connector(
    connector_id: str, connectors: ConnectorsDep, who: Engineer, request: Request
) -> ConnectorView:
    """Start a connector and keep it running across restarts."""
    async with audit(request, who, "connector.start", connector_id):
        return await connectors.set_enabled(connector_id, True, who.name)


@router.post("/connectors/{connector_id}/stop", responses=NOT_FOUND | BAD | UNAVAILABLE)
async def stop_connector(
    connector_id: str, connectors: ConnectorsDep, who: Engineer, request: Request
) -> ConnectorView:
    """Stop a connector (its configuration stays) and keep it stopped across restarts."""
    async with audit(request, who, "connector.stop", connector_id):
        return await connectors.set_enabled(connector_id, False, who.name)


@router.post("/connectors/{connector_id}/browse", responses=NOT_FOUND | UNAVAILABLE)
async def browse_connector(
    connector_id: str, body: BrowseRequest, connectors: ConnectorsDep, _: Engineer
) -> list[BrowsedNode]:
    """The children of a node on an OPC UA connector's server, to pick nodes to map (503 when not connected)."""
    try:
        return await connectors.browse(connector_id, body.node_id)
    except ConnectorError as exc:
        raise _device(exc) from None


@router.post("/connectors/{connector_id}/commands", responses=NOT_FOUND | UNAVAILABLE)
async def connector_command(
    connector_id: str, body: CommandRequest, connectors: ConnectorsDep, who: Engineer, request: Request
) -> ConnectorCommandResult:
    """Run a command of an OPC UA connector (a method call or a variable write); 503 when it cannot."""
    async with audit(request, who, "connector.command", f"{connector_id} {body.name}"):
        try:
            return await connectors.command(connector_id, body.name, body.args)
        except ConnectorError as exc:
            raise _device(exc) from None
