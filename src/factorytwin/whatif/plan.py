"""A scenario's plan: what an engineer changes about the future, checked against the plant before it is run.

A ``Plan`` sets speeds per machine or line over intervals, adds, moves or removes maintenance visits, takes machines
out of service and says how many technicians can work at once. Times are instants (ISO 8601 with an offset) or
offsets from the scenario's start (ISO 8601 durations such as ``PT36H``, or seconds). ``check_plan`` finds every
problem at once and raises ``InvalidInput`` naming each item (``speeds.0.machine_id``: unknown machine, a time in
the past, beyond the horizon, a horizon above the cap). Visits are queued, not refused: one starts at its time, or
once one of the ``technicians`` is free and inside the plan's ``working_hours``; the timetable's ``notes`` say
which visits start later than asked, or not within the horizon at all.
``compile_plan`` turns a checked plan into the engine's timetable: seconds after the fork, machine indexes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    WithJsonSchema,
    model_validator,
)

from factorytwin.domain import MachineId
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.ml.schema import MaintenancePlan

MAX_HORIZON_H = 24.0 * 90
"""Longest horizon a scenario may simulate (90 days)."""
DEFAULT_VISIT_H = 4.0
"""Duration of a maintenance visit unless the plan says (the simulator's preventive maintenance takes 4 h)."""
MAX_ITEMS = 500


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):  # JSON true/false would otherwise be read as 1 s / 0 s
        raise ValueError("a time is an ISO 8601 instant or duration, or seconds, not true/false")
    return value


When = Annotated[
    timedelta | AwareDatetime,
    BeforeValidator(_not_a_bool),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "description": "an instant, with its UTC offset"},
                {"type": "string", "format": "duration", "description": "an ISO 8601 offset from the start, e.g. PT2H"},
                {"type": "number", "description": "seconds after the start"},
            ]
        }
    ),
]
"""An instant, or an offset from the scenario's start (ISO 8601 duration, or seconds)."""


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpeedChange(_Item):
    """Run a machine, or every machine of a line, at ``speed_pct`` from ``start`` to ``end`` (then as before)."""

    machine_id: MachineId | None = Field(default=None, description="one machine; or give line")
    line: str | None = Field(default=None, max_length=64, description="every machine of this production line")
    start: When = Field(default=timedelta(0), description="instant or offset from the scenario's start")
    end: When | None = Field(default=None, description="instant or offset; null: to the end of the horizon")
    speed_pct: StrictFloat | StrictInt = Field(ge=0.0, le=120.0, description="percent of nominal speed (0: idle)")

    @model_validator(mode="after")
    def _one_target(self) -> SpeedChange:
        if (self.machine_id is None) == (self.line is None):
            raise ValueError("give exactly one of machine_id and line")
        return self


class VisitChange(_Item):
    """A maintenance visit added, or the machine's next scheduled preventive visit moved or removed."""

    action: Literal["add", "move", "remove"]
    machine_id: MachineId
    at: When | None = Field(default=None, description="when the visit starts (add, move); not for remove")
    hours: StrictFloat | StrictInt = Field(
        default=DEFAULT_VISIT_H, gt=0.0, le=72.0, description="how long the machine is down"
    )

    @model_validator(mode="after")
    def _time_when_needed(self) -> VisitChange:
        if self.action != "remove" and self.at is None:
            raise ValueError(f"a visit to {self.action} needs 'at'")
        if self.action == "remove" and self.at is not None:
            raise ValueError("a removed visit takes no 'at'")
        return self


class OutOfService(_Item):
    """A machine stopped from ``start`` to ``end`` (it neither wears nor fails meanwhile)."""

    machine_id: MachineId
    start: When = Field(default=timedelta(0))
    end: When | None = Field(default=None, description="null: to the end of the horizon")


class WorkingHours(_Item):
    """When the technicians work (UTC): on ``weekdays`` (0 = Monday) from ``from_hour`` to ``to_hour``; a
    ``to_hour`` at or before ``from_hour`` runs over midnight into the next day. A visit starts only inside these
    hours (it may run past their end)."""

    from_hour: StrictFloat | StrictInt = Field(default=6, ge=0.0, lt=24.0)
    to_hour: StrictFloat | StrictInt = Field(default=22, ge=0.0, le=24.0)
    weekdays: list[Annotated[StrictInt, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: list(range(7)), min_length=1, max_length=7
    )


class Plan(BaseModel):
    """What a scenario changes about the future; the empty plan is the baseline (do nothing different)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="scenario", min_length=1, max_length=80)
    speeds: list[SpeedChange] = Field(default_factory=list, max_length=MAX_ITEMS)
    visits: list[VisitChange] = Field(default_factory=list, max_length=MAX_ITEMS)
    out_of_service: list[OutOfService] = Field(default_factory=list, max_length=MAX_ITEMS)
    technicians: StrictInt = Field(
        default=2, ge=1, le=100, description="maintenance visits that can run at once; more wait for a technician"
    )
    working_hours: WorkingHours | None = Field(
        default=None, description="when technicians work: visits start only then; null: around the clock"
    )


@dataclass(frozen=True)
class PlantFacts:
    """What a plan is checked against: the machines (id -> line), the scenario's start and the horizon."""

    lines: Mapping[str, str]  # machine id -> line id
    start: datetime
    horizon_h: float
    max_horizon_h: float = MAX_HORIZON_H
    unsimulated: Mapping[str, str] = field(default_factory=dict)  # machine id -> profile: on the plant, no physics


@dataclass
class Timetable:
    """A compiled plan, in seconds after the fork and machine indexes of the engine."""

    horizon_s: float
    speeds: list[tuple[float, float, int, float]] = field(default_factory=list)  # (start, end, machine, pct)
    added_visits: list[tuple[float, int, float]] = field(default_factory=list)  # (at, machine, hours)
    moved_pm: dict[int, float] = field(default_factory=dict)  # machine -> new time of its next preventive visit
    removed_pm: set[int] = field(default_factory=set)
    stopped: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, machine)
    notes: list[str] = field(default_factory=list)  # visits that start later than asked, or not at all

    def only(self, n: int) -> Timetable:
        """The part of the plan for machines ``0 .. n-1`` (the simulated ones: a machine without physics has an
        index after them and is carried by a survival model, ``whatif.survival``)."""
        return Timetable(
            horizon_s=self.horizon_s,
            speeds=[s for s in self.speeds if s[2] < n],
            added_visits=[v for v in self.added_visits if v[1] < n],
            moved_pm={i: t for i, t in self.moved_pm.items() if i < n},
            removed_pm={i for i in self.removed_pm if i < n},
            stopped=[s for s in self.stopped if s[2] < n],
            notes=list(self.notes),
        )

    def change_times(self) -> list[float]:
        """Every instant where the plan changes something, in order."""
        times = {s for s, _, _, _ in self.speeds} | {e for _, e, _, _ in self.speeds}
        times |= (
            {a for a, _, _ in self.added_visits} | {s for s, _, _ in self.stopped} | {e for _, e, _ in self.stopped}
        )
        return sorted(t for t in times if 0.0 <= t < self.horizon_s)


def _offset_s(when: When, start: datetime) -> float:
    return when.total_seconds() if isinstance(when, timedelta) else (when - start).total_seconds()


class _Checker:
    def __init__(self, facts: PlantFacts) -> None:
        self.facts = facts
        self.horizon_s = facts.horizon_h * 3600.0
        self.problems: list[FieldProblem] = []

    def machine(self, loc: tuple[str | int, ...], machine_id: str) -> None:
        if machine_id in self.facts.unsimulated:
            profile = self.facts.unsimulated[machine_id]
            self.problems.append(
                FieldProblem(
                    loc,
                    f"machine {machine_id!r} is of profile {profile!r}, which has no physics: what-if cannot "
                    "simulate it (yet)",
                    machine_id,
                )
            )
        elif machine_id not in self.facts.lines:
            known = ", ".join(sorted(self.facts.lines)[:8])
            self.problems.append(FieldProblem(loc, f"unknown machine {machine_id!r} (known: {known} ...)", machine_id))

    def time(self, loc: tuple[str | int, ...], when: When | None, default: float) -> float:
        if when is None:
            return default
        t = _offset_s(when, self.facts.start)
        if t < 0:
            self.problems.append(
                FieldProblem(loc, f"in the past: the scenario starts at {self.facts.start.isoformat()}", str(when))
            )
        elif t > self.horizon_s + 1e-6:
            self.problems.append(FieldProblem(loc, f"beyond the horizon of {self.facts.horizon_h:g} h", str(when)))
        return min(max(t, 0.0), self.horizon_s)

    def interval(self, loc: tuple[str | int, ...], start: float, end: float) -> None:
        if end <= start:
            self.problems.append(FieldProblem((*loc, "end"), "end must be after start", end))


def check_plan(plan: Plan, facts: PlantFacts) -> Timetable:
    """The plan's timetable; ``InvalidInput`` with every problem, each naming its item, when it cannot be run."""
    c = _Checker(facts)
    if not (0.0 < facts.horizon_h <= facts.max_horizon_h):
        c.problems.append(
            FieldProblem(
                ("horizon_h",),
                f"the horizon must be more than 0 and at most {facts.max_horizon_h:g} h",
                facts.horizon_h,
            )
        )
    index = {mid: i for i, mid in enumerate(facts.lines)}
    line_ids = set(facts.lines.values())
    table = Timetable(horizon_s=c.horizon_s)
    for n, s in enumerate(plan.speeds):
        loc: tuple[str | int, ...] = ("speeds", n)
        start, end = c.time((*loc, "start"), s.start, 0.0), c.time((*loc, "end"), s.end, c.horizon_s)
        c.interval(loc, start, end)
        if s.machine_id is not None:
            c.machine((*loc, "machine_id"), s.machine_id)
            targets = [s.machine_id]
        else:
            if s.line not in line_ids:
                c.problems.append(
                    FieldProblem(
                        (*loc, "line"), f"unknown line {s.line!r} (known: {', '.join(sorted(line_ids))})", s.line
                    )
                )
            targets = [m for m, line in facts.lines.items() if line == s.line]
        table.speeds += [(start, end, index[m], s.speed_pct) for m in targets if m in index]
    asked: list[tuple[float, int, float]] = []  # (requested start, item, hours) of visits with a time
    for n, v in enumerate(plan.visits):
        loc = ("visits", n)
        c.machine((*loc, "machine_id"), v.machine_id)
        i = index.get(v.machine_id)
        if v.action == "remove":
            if i is not None:
                table.removed_pm.add(i)
            continue
        asked.append((c.time((*loc, "at"), v.at, 0.0), n, float(v.hours)))
    for n, at in _queue(asked, plan.technicians, plan.working_hours, facts.start, c.horizon_s, table.notes, plan):
        v = plan.visits[n]
        if (i := index.get(v.machine_id)) is None:
            continue
        if v.action == "add":
            table.added_visits.append((at, i, v.hours))
        else:
            table.moved_pm[i] = at
    for n, o in enumerate(plan.out_of_service):
        loc = ("out_of_service", n)
        c.machine((*loc, "machine_id"), o.machine_id)
        start, end = c.time((*loc, "start"), o.start, 0.0), c.time((*loc, "end"), o.end, c.horizon_s)
        c.interval(loc, start, end)
        if (i := index.get(o.machine_id)) is not None:
            table.stopped.append((start, end, i))
    if c.problems:
        raise InvalidInput(c.problems)
    table.speeds.sort()
    table.added_visits.sort()
    return table


def plan_from_schedule(schedule: MaintenancePlan, name: str = "recommended schedule") -> Plan:
    """The ML maintenance schedule (``GET /maintenance/schedule``) as a candidate plan: one visit per task. A task
    of the shift under way (its shift started before the schedule was made) starts at the schedule's time."""
    visits = [
        VisitChange(
            action="add", machine_id=task.machine_id, at=max(task.shift_start, schedule.generated_at), hours=task.hours
        )
        for task in schedule.tasks
    ]
    per_shift = Counter(task.shift_index for task in schedule.tasks)
    return Plan(name=name, visits=visits, technicians=max(per_shift.values(), default=1))


def next_working(start: datetime, t: float, hours: WorkingHours | None) -> float:
    """The first instant at or after ``t`` (seconds after ``start``) inside the working hours (inf: none within
    a week)."""
    if hours is None:
        return t
    at = start + timedelta(seconds=t)
    length = (hours.to_hour - hours.from_hour) % 24.0 or 24.0
    day0 = at.replace(hour=0, minute=0, second=0, microsecond=0)
    for d in range(-1, 9):
        day = day0 + timedelta(days=d)
        if day.weekday() not in hours.weekdays:
            continue
        begin = day + timedelta(hours=hours.from_hour)
        end = begin + timedelta(hours=length)
        if end > at:
            return max(t, (begin - start).total_seconds())
    return math.inf


def _queue(
    asked: Sequence[tuple[float, int, float]],
    technicians: int,
    hours: WorkingHours | None,
    start: datetime,
    horizon_s: float,
    notes: list[str],
    plan: Plan,
) -> list[tuple[int, float]]:
    """(item, start) of each visit, in order of the times asked: a visit starts at its time, or once a technician
    is free and inside the working hours; one that cannot start within the horizon is not done. ``notes`` get a
    line for every visit that starts later than asked or not at all."""
    running: list[float] = []  # end times of the visits under way
    out = []
    for at, n, length in sorted(asked):
        t = at
        while True:
            t = next_working(start, t, hours)
            running = [e for e in running if e > t + 1e-9]
            if len(running) < technicians or not math.isfinite(t):
                break
            t = min(running)
        v = plan.visits[n]
        if t >= horizon_s:
            notes.append(
                f"visits.{n} ({v.machine_id} at +{at / 3600:g} h) not done: no technician free within the horizon"
                + (" (working hours)" if hours is not None else "")
            )
            continue
        if t > at + 1e-6:
            why = "outside the working hours" if next_working(start, at, hours) > at + 1e-6 else "no technician free"
            notes.append(f"visits.{n} ({v.machine_id}) starts at +{t / 3600:g} h instead of +{at / 3600:g} h: {why}")
        running.append(t + length * 3600.0)
        out.append((n, t))
    return out
