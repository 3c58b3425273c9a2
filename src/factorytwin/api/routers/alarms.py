"""GET /alarms, POST /alarms/{id}/ack, /clear, /shelve, /unshelve, /comments: the alarm list and its lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from factorytwin.api.auth import Operator, Viewer, audit
from factorytwin.api.deps import UNAVAILABLE, ServicesDep, TwinDep
from factorytwin.api.errors import problems_from_validation
from factorytwin.domain import MAX_ALARM_COMMENT_CHARS, Alarm, AlarmSeverity, AlarmState, IsoDatetime, Text
from factorytwin.errors import InvalidInput
from factorytwin.store.base import MAX_ID, MAX_LIST_LIMIT, AlarmQuery

router = APIRouter(tags=["alarms"])


@router.get("/alarms")
async def list_alarms(
    who: Viewer,
    services: ServicesDep,
    state: Annotated[list[AlarmState] | None, Query(description="repeat to allow several")] = None,
    machine_id: Annotated[str | None, Query()] = None,
    severity: Annotated[list[AlarmSeverity] | None, Query(description="repeat to allow several")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 200,
    before: Annotated[
        IsoDatetime | None, Query(description="next page: `raised_at` of the last alarm of the page")
    ] = None,
    before_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="next page: `id` of the last alarm (used only with `before`)")
    ] = None,
) -> list[Alarm]:
    """Alarms, newest first, filtered by state, machine and severity.

    At most `limit` alarms; for the next page pass the last alarm's `raised_at` as `before` and its `id` as
    `before_id`.
    """
    try:
        query = AlarmQuery(
            machine_id=machine_id,
            states=state,
            severities=severity,
            limit=limit,
            before=before,
            before_id=before_id if before is not None else None,  # a tie-breaker within `before` only
        )
    except ValidationError as exc:
        raise InvalidInput(problems_from_validation(exc, ("query",))) from None
    return await services.store.alarms(query)


@router.post("/alarms/{alarm_id}/ack", responses={404: {"description": "no such alarm"}, **UNAVAILABLE})
async def acknowledge_alarm(who: Operator, alarm_id: int, twin: TwinDep, request: Request) -> Alarm:
    """Acknowledge an alarm in the caller's name; the answer is the alarm as it is now (acknowledging twice
    changes nothing). Recorded in the audit trail."""
    async with audit(request, who, "alarms.ack", f"alarm {alarm_id}"):
        return await twin.acknowledge(alarm_id, who.name)


@router.post("/alarms/{alarm_id}/clear", responses={404: {"description": "no such alarm"}, **UNAVAILABLE})
async def clear_alarm(who: Operator, alarm_id: int, twin: TwinDep, request: Request) -> Alarm:
    """Clear an alarm by hand in the caller's name; it is raised anew if its condition is still there at the next
    reading. Recorded in the audit trail."""
    async with audit(request, who, "alarms.clear", f"alarm {alarm_id}"):
        return await twin.clear(alarm_id, who.name)


class ShelveRequest(BaseModel):
    """Set an alarm aside until ``until`` (at most a week ahead), saying why."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime = Field(description="when the shelf expires and the alarm is shown again")
    reason: Text = Field(min_length=1, max_length=200)


class CommentRequest(BaseModel):
    """An operator's note on an alarm."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=MAX_ALARM_COMMENT_CHARS)


_ALARM_ANSWERS: dict[int | str, dict[str, object]] = {
    404: {"description": "no such alarm"},
    422: {"description": "bad body (the field is named)"},
    **UNAVAILABLE,
}


@router.post("/alarms/{alarm_id}/shelve", responses=_ALARM_ANSWERS)
async def shelve_alarm(who: Operator, alarm_id: int, body: ShelveRequest, twin: TwinDep, request: Request) -> Alarm:
    """Shelve an active alarm until ``until``: it stays active and judged, but is set aside (not in health);
    raised anew while the shelf lasts, it is born shelved. 422 for a cleared alarm or an expiry not ahead."""
    async with audit(request, who, "alarms.shelve", f"alarm {alarm_id}"):
        return await twin.shelve(alarm_id, who.name, body.until, body.reason)


@router.post("/alarms/{alarm_id}/unshelve", responses=_ALARM_ANSWERS)
async def unshelve_alarm(who: Operator, alarm_id: int, twin: TwinDep, request: Request) -> Alarm:
    """Take an alarm off its shelf before the expiry."""
    async with audit(request, who, "alarms.unshelve", f"alarm {alarm_id}"):
        return await twin.unshelve(alarm_id, who.name)


@router.post("/alarms/{alarm_id}/comments", responses=_ALARM_ANSWERS)
async def comment_alarm(who: Operator, alarm_id: int, body: CommentRequest, twin: TwinDep) -> Alarm:
    """Add a note to an alarm (active or cleared); the answer is the alarm with its comments."""
    return await twin.comment(alarm_id, who.name, body.text)
