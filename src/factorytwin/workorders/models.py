"""The work order's typed contract: what is stored, what a client sends, and which state changes are allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from factorytwin.domain import MachineId, Text

MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_NOTES = 200


def _in_utc(ts: datetime) -> datetime:
    try:
        return ts.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0 in UTC
        raise ValueError("out of the range of UTC date-times") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A date-time with its zone, kept in UTC (so every stored and exported time of a work order reads as UTC)."""


class WorkOrderState(StrEnum):
    """Where a work order is in its life."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


ALLOWED: dict[WorkOrderState, frozenset[WorkOrderState]] = {
    WorkOrderState.OPEN: frozenset({WorkOrderState.ASSIGNED, WorkOrderState.IN_PROGRESS, WorkOrderState.CANCELLED}),
    WorkOrderState.ASSIGNED: frozenset({WorkOrderState.IN_PROGRESS, WorkOrderState.CANCELLED}),
    WorkOrderState.IN_PROGRESS: frozenset({WorkOrderState.DONE, WorkOrderState.CANCELLED}),
    WorkOrderState.DONE: frozenset(),
    WorkOrderState.CANCELLED: frozenset(),
}
"""The state changes a work order may make (done and cancelled are final)."""


WorkOrderSource = Literal["manual", "alarm", "schedule"]
"""Where a work order came from: opened by hand, from an alarm, or from a visit of the ML maintenance schedule."""


class WorkOrderNote(BaseModel):
    """A note on a work order, by whom and when."""

    at: datetime
    by: Text = Field(max_length=64)
    text: Text = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class WorkOrderStep(BaseModel):
    """One state change of a work order: to which state, by whom, when."""

    state: WorkOrderState
    at: datetime
    by: Text = Field(max_length=64)


class WorkOrder(BaseModel):
    """A maintenance job on one machine, with its whole history."""

    id: int
    machine_id: MachineId
    title: Text = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    description: Text = Field(default="", max_length=MAX_NOTE_CHARS)
    source: WorkOrderSource
    alarm_id: int | None = None
    planned_for: datetime | None = Field(
        default=None, description="from the maintenance schedule: the start of the shift the visit was planned in"
    )
    state: WorkOrderState
    assignee: Text | None = Field(default=None, max_length=64)
    downtime_start: datetime | None = Field(default=None, description="start of the machine's downtime it covers")
    downtime_end: datetime | None = Field(default=None, description="end of the machine's downtime it covers")
    parts: list[Text] = Field(default_factory=list, max_length=50, description="parts used, one per entry")
    created_at: datetime
    created_by: Text = Field(max_length=64)
    updated_at: datetime
    version: int = Field(ge=1, description="bumped by every change (an update names the version it read)")
    steps: list[WorkOrderStep] = Field(default_factory=list, description="every state change, oldest first")
    notes: list[WorkOrderNote] = Field(default_factory=list, max_length=MAX_NOTES)


def _downtime_in_order(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("downtime_end is before downtime_start")


class WorkOrderCreate(BaseModel):
    """A new work order: by hand (``machine_id`` and ``title``), from an alarm (``alarm_id``; the rest defaults
    to the alarm's machine and message) or from a visit of the maintenance schedule (``source: "schedule"`` with
    ``machine_id``, ``title`` and the visit's ``planned_for``)."""

    model_config = ConfigDict(extra="forbid")

    machine_id: MachineId | None = None
    alarm_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    source: Literal["manual", "schedule"] | None = Field(
        default=None, description='"schedule" for a visit of the maintenance schedule (needs planned_for)'
    )
    planned_for: UtcDatetime | None = Field(
        default=None, description='the start of the shift the schedule planned the visit in (with source "schedule")'
    )
    title: Text | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    description: Text = Field(default="", max_length=MAX_NOTE_CHARS)
    assignee: Text | None = Field(default=None, min_length=1, max_length=64)
    downtime_start: UtcDatetime | None = None
    downtime_end: UtcDatetime | None = None

    @model_validator(mode="after")
    def _check(self) -> WorkOrderCreate:
        if self.alarm_id is None and (self.machine_id is None or self.title is None):
            raise ValueError("a work order by hand needs machine_id and title (or give alarm_id)")
        _downtime_in_order(self.downtime_start, self.downtime_end)
        return self


class WorkOrderTransition(BaseModel):
    """A state change (and optionally an assignee, a note, parts used, the downtime covered) of a work order."""

    model_config = ConfigDict(extra="forbid")

    state: WorkOrderState
    assignee: Text | None = Field(default=None, min_length=1, max_length=64)
    note: Text | None = Field(default=None, min_length=1, max_length=MAX_NOTE_CHARS)
    parts: list[Text] | None = Field(default=None, max_length=50)
    downtime_start: UtcDatetime | None = None
    downtime_end: UtcDatetime | None = None


class WorkOrderNoteIn(BaseModel):
    """A note to add to a work order."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=MAX_NOTE_CHARS)
