"""POST /machines/{id}/commands: send a command to a machine (MQTT ``ft/<id>/commands``, or in process)."""

from __future__ import annotations

from fastapi import APIRouter

from factorytwin.api.deps import UNAVAILABLE, ServicesDep, TwinDep
from factorytwin.domain import Command
from factorytwin.twin.service import CommandResult

router = APIRouter(tags=["commands"])


@router.post(
    "/machines/{machine_id}/commands",
    status_code=202,
    responses={
        404: {"description": "no such machine"},
        422: {"description": "bad command or arguments"},
        **UNAVAILABLE,
    },
)
async def post_command(machine_id: str, command: Command, services: ServicesDep, twin: TwinDep) -> CommandResult:
    """Send ``command`` to the machine; the command and its outcome are written to the machine's event log.

    202: the command left the twin (``delivered``) or could not (``delivered`` false, ``outcome`` says why);
    whether the machine obeys shows in its telemetry and event log.
    """
    services.machine(machine_id)
    return await twin.send_command(machine_id, command)
