"""The KPI vocabulary: what a KPI request asks for and the pydantic models of the answer.

Definitions and formulas are in docs/KPIS.md; ``kpi.compute`` implements them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

MAX_BUCKETS = 1000
"""Most buckets one KPI request may ask for (a finer grouping over a long range is refused, naming ``group``):
1000 hours is 41 days, 1000 shifts 333 days, 1000 days 2.7 years."""
SHIFT_HOURS = 8
SHIFT_ORIGIN_HOUR = 6
"""Shifts are 8 h long, starting 06:00, 14:00 and 22:00 UTC."""


class Scope(StrEnum):
    """What a KPI figure is about: one machine, one production line (its machines) or the whole plant."""

    PLANT = "plant"
    LINE = "line"
    MACHINE = "machine"


class Grouping(StrEnum):
    """How a range is cut into buckets: none (one bucket), by UTC hour, by shift, by UTC day."""

    NONE = "none"
    HOUR = "hour"
    SHIFT = "shift"
    DAY = "day"


GROUP_STEP: dict[Grouping, timedelta] = {
    Grouping.HOUR: timedelta(hours=1),
    Grouping.SHIFT: timedelta(hours=SHIFT_HOURS),
    Grouping.DAY: timedelta(days=1),
}


class KpiQuery(BaseModel):
    """A KPI request: a scope (and its id), a range ``[start, end)`` and a grouping."""

    scope: Scope = Scope.PLANT
    id: str | None = Field(default=None, description="line or machine id; none for the plant")
    start: AwareDatetime
    end: AwareDatetime
    group: Grouping = Grouping.NONE

    @model_validator(mode="after")
    def _valid(self) -> KpiQuery:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self


DowntimeCategory = Literal["failure", "maintenance", "stop", "idle", "offline"]


class DowntimeCause(BaseModel):
    """Downtime of one cause in planned production time: ``failure:<mode>``, ``maintenance:<reason>``,
    ``stop:<reason>``, ``idle`` (starved/blocked or no speed set), ``offline``."""

    cause: str
    category: DowntimeCategory
    seconds: float
    stops: int = Field(description="stretches of this cause that started in the range")


class KpiFigures(BaseModel):
    """The KPIs of a scope over ``[start, end)``. A figure that cannot be known from the stored data is null
    and ``notes`` says why; it is never guessed."""

    start: datetime
    end: datetime
    range_s: float = Field(description="length of the range")
    planned_stop_s: float = Field(description="planned stops (shift breaks, other stops marked planned)")
    unknown_s: float = Field(description="time without any known machine status (before its first event)")
    planned_s: float = Field(description="planned production time = range - planned stops - unknown")
    run_s: float = Field(description="run time: status running within planned production time")
    downtime_s: float = Field(description="planned production time not running (availability loss)")
    availability: float | None = Field(description="run time / planned production time")
    performance: float | None = Field(description="ideal cycle time x parts / run time (needs part counters)")
    quality: float | None = Field(description="good parts / all parts")
    oee: float | None = Field(description="fully productive time (ideal cycle x good parts) / planned time")
    parts_total: int | None = Field(description="parts counted; null without part counters")
    parts_good: int | None
    parts_bad: int | None
    performance_loss_s: float | None = Field(description="run time - ideal cycle time x parts (speed, small stops)")
    quality_loss_s: float | None = Field(description="ideal cycle time x bad parts")
    failures: int = Field(description="failures that started in the range")
    alarms: int = Field(description="alarms raised in the range")
    mtbf_s: float | None = Field(description="run time / failures; null with no failures")
    mttr_s: float | None = Field(description="time failed / failure episodes overlapping the range")
    downtime: list[DowntimeCause] = Field(description="downtime by cause, largest first")
    notes: list[str] = Field(default_factory=list)


class KpiChild(BaseModel):
    """The totals of one part of a scope (a line of the plant, a machine of a line), for drill-down."""

    scope: Scope
    id: str
    name: str
    total: KpiFigures


class KpiReport(BaseModel):
    """KPIs of a scope over a range: the total, one entry per bucket of the grouping, and the parts' totals."""

    scope: Scope
    id: str | None
    start: datetime
    end: datetime
    group: Grouping
    machines: list[str] = Field(description="machines the figures cover")
    total: KpiFigures
    buckets: list[KpiFigures] = Field(description="one per bucket of the grouping (empty with group=none)")
    children: list[KpiChild] = Field(description="plant: its lines; line: its machines; machine: none")
