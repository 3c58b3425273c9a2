"""POST /machines/{id}/commands: send a command to a machine (MQTT ``ft/<id>/commands``, or in process)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from factorytwin.api.auth import Operator, client_source
from factorytwin.api.deps import UNAVAILABLE, ServicesDep, TwinDep
from factorytwin.auth import Context, Outcome
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
async def post_command(
    who: Operator, machine_id: str, command: Command, services: ServicesDep, twin: TwinDep, request: Request
) -> CommandResult:
    """Send ``command`` to the machine; the command and its outcome are written to the machine's event log.

    202: the command left the twin (``delivered``) or could not (``delivered`` false, ``outcome`` says why);
    whether the machine obeys shows in its telemetry and event log. The command is issued in the caller's name
    (``issued_by`` is set from the credential) and recorded in the audit trail with its outcome.
    """
    services.machine(machine_id)
    command = command.model_copy(update={"issued_by": who.name})
    result = await twin.send_command(machine_id, command)
    outcome = Outcome.SUCCESS if result.delivered else Outcome.FAILURE
    detail = f"{command.command.value}" + (f" {command.speed_pct} %" if command.speed_pct is not None else "")
    ctx = Context.of(who, client_source(request))
    await services.auth.record(ctx, "machines.command", outcome, machine_id, f"{detail}: {result.outcome}")
    return result
