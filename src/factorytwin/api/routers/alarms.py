"""GET /alarms, POST /alarms/{id}/ack, POST /alarms/{id}/clear: the alarm list and its lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from factorytwin.api.deps import UNAVAILABLE, ServicesDep, TwinDep
from factorytwin.domain import Alarm, AlarmSeverity, AlarmState
from factorytwin.store.base import AlarmQuery

router = APIRouter(tags=["alarms"])


class AlarmAction(BaseModel):
    """Who acknowledges or clears an alarm."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="operator", min_length=1, max_length=64, description="user name recorded with the step")


@router.get("/alarms")
async def list_alarms(
    services: ServicesDep,
    state: Annotated[list[AlarmState] | None, Query(description="repeat to allow several")] = None,
    machine_id: Annotated[str | None, Query()] = None,
    severity: Annotated[list[AlarmSeverity] | None, Query(description="repeat to allow several")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> list[Alarm]:
    """Alarms, newest first, filtered by state, machine and severity."""
    query = AlarmQuery(machine_id=machine_id, states=state, severities=severity, limit=limit)
    return await services.store.alarms(query)


@router.post("/alarms/{alarm_id}/ack", responses={404: {"description": "no such alarm"}, **UNAVAILABLE})
async def acknowledge_alarm(alarm_id: int, twin: TwinDep, body: AlarmAction | None = None) -> Alarm:
    """Acknowledge an alarm; the answer is the alarm as it is now (acknowledging twice changes nothing)."""
    return await twin.acknowledge(alarm_id, (body or AlarmAction()).by)


@router.post("/alarms/{alarm_id}/clear", responses={404: {"description": "no such alarm"}, **UNAVAILABLE})
async def clear_alarm(alarm_id: int, twin: TwinDep, body: AlarmAction | None = None) -> Alarm:
    """Clear an alarm by hand; it is raised anew if its condition is still there at the next reading."""
    return await twin.clear(alarm_id, (body or AlarmAction()).by)
