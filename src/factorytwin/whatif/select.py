"""Choosing between the recommended maintenance schedule and its variants by what-if.

The recommended schedule (``ml.schedule.plan_maintenance``) puts at most one visit per machine into the shifts of
its planning window. Its variants here move every visit one shift earlier (never before the start), one shift
later, or drop it. The simulated machines do not interact (each machine's jobs, wear and failures are its own; the
plan's technician capacity is a constraint, not a coupling), so one what-if run of four plans (the schedule, all
visits earlier, all later, none) gives, per machine, the expected cost of each option for that machine; ``choose``
picks per machine the option of lowest expected cost (repairs, visits and downtime, ``CostModel``) and composes the
chosen plan, keeping the technicians' visits per shift within the schedule's capacity.

``oracle_predictions`` is a stand-in for the failure predictor (what ``GET /maintenance/schedule`` would be fed):
per machine, P(first failure within ``horizon_h``) and the 10 % quantile of the time to the first failure, read off
a Monte-Carlo run of the forked plant without a plan. It knows the simulator's true state and physics, so it is a
better predictor than any model trained on readings: a best case for the schedule, not the LightGBM model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from factorytwin.ml.schedule import CostModel
from factorytwin.prediction import Prediction, RulEstimate
from factorytwin.whatif.plan import Plan, VisitChange
from factorytwin.whatif.replicas import Tally

F64 = NDArray[np.float64]
OPTIONS = ("keep", "earlier", "later", "drop")
"""What can happen to a scheduled visit: as scheduled, one shift earlier, one shift later, not at all."""
NOT_SCORED = {"idle": "idle", "failed": "failed", "maintenance": "maintenance", "stopped": "stopped"}


def oracle_predictions(
    tally: Tally,
    machine_ids: Sequence[str],
    statuses: Sequence[str],
    now: datetime,
    horizon_h: float = 24.0,
    censor_h: float = 72.0,
) -> list[Prediction]:
    """Per machine, P(failure within ``horizon_h``) and a RUL (first-failure quantiles, censored at ``censor_h``)
    from a no-plan Monte-Carlo ``tally``; a machine not running now (``statuses``) is not scored, as the twin does."""
    first_h = tally.first_failure_s / 3600.0
    out = []
    for i, (mid, status) in enumerate(zip(machine_ids, statuses, strict=True)):
        if status in NOT_SCORED:
            out.append(Prediction(status=NOT_SCORED[status], machine_id=mid, machine_status=status))
            continue
        times = first_h[:, i]
        p = float((times <= horizon_h).mean())
        q = np.quantile(np.minimum(times, censor_h * 2), [0.1, 0.5, 0.9])
        rul = RulEstimate(median=float(q[1]), low=float(q[0]), high=float(q[2])) if float(q[0]) <= censor_h else None
        out.append(
            Prediction(
                machine_id=mid, ts=now, probability=p, horizon=horizon_h, rul=rul, model_version="oracle Monte-Carlo"
            )
        )
    return out


def _moved(visit: VisitChange, by: timedelta, start: datetime, end: datetime) -> VisitChange:
    at = visit.at
    assert isinstance(at, datetime), "plan_from_schedule gives instants"
    return visit.model_copy(update={"at": min(max(at + by, start), end)})


def variants(schedule: Plan, cost: CostModel, start: datetime, horizon_h: float) -> dict[str, Plan]:
    """The schedule and its variants by option: every visit one shift earlier, one later, none (``drop``)."""
    shift = timedelta(hours=cost.shift_hours)
    longest = max((float(v.hours) for v in schedule.visits), default=0.0)
    end = start + timedelta(hours=horizon_h - longest)
    many = len(schedule.visits) + 1  # capacity is enforced by ``choose``; the variants only need to be runnable
    return {
        "keep": schedule.model_copy(update={"name": "schedule", "technicians": many}),
        "earlier": schedule.model_copy(
            update={
                "name": "schedule, a shift earlier",
                "visits": [_moved(v, -shift, start, end) for v in schedule.visits],
                "technicians": many,
            }
        ),
        "later": schedule.model_copy(
            update={
                "name": "schedule, a shift later",
                "visits": [_moved(v, shift, start, end) for v in schedule.visits],
                "technicians": many,
            }
        ),
        "drop": Plan(name="no planned visits", technicians=1),
    }


def machine_costs(tally: Tally, cost: CostModel) -> F64:
    """Cost per run and machine (runs, machines): repairs, visits and downtime."""
    return np.asarray(
        tally.failures * cost.failure_repair_cost
        + tally.visits * cost.pm_cost
        + tally.downtime_s / 3600.0 * cost.downtime_cost_per_h,
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Choice:
    """What was chosen for one scheduled visit, and the expected cost of each option (mean over runs)."""

    machine_id: str
    option: str
    expected: dict[str, float]
    gain: float  # expected cost of "keep" minus the chosen option's (>= 0)


def choose(
    options: Mapping[str, Plan],
    costs: Mapping[str, F64],
    machine_ids: Sequence[str],
    cost: CostModel,
    start: datetime,
    z: float = 0.0,
) -> tuple[Plan, list[Choice]]:
    """The plan composed of each scheduled machine's cheapest option, and the choices.

    ``costs[option]`` is (runs, machines) from runs with the same seeds (paired). An option other than ``keep`` is
    taken only when its mean is lower by more than ``z`` standard errors of the paired difference (``z`` = 0: the
    lowest mean). Machines are decided in order of their gain; a move into a shift with no technician hours left
    (``technician_hours_per_shift`` / ``pm_technician_h`` visits) keeps the visit where it was.
    """
    index = {m: i for i, m in enumerate(machine_ids)}
    per_shift = max(1, math.floor(cost.technician_hours_per_shift / cost.pm_technician_h + 1e-9))
    shift_s = cost.shift_hours * 3600.0

    def shift_of(v: VisitChange) -> int:
        at = v.at
        assert isinstance(at, datetime)
        return int((at - start).total_seconds() // shift_s)

    visit_of = {o: {v.machine_id: v for v in p.visits} for o, p in options.items()}
    keep = visit_of["keep"]
    decided: list[tuple[float, str, str, dict[str, float]]] = []
    for mid in keep:
        i = index[mid]
        means = {o: float(costs[o][:, i].mean()) for o in options}
        best, best_gain = "keep", 0.0
        for o in options:
            if o == "keep":
                continue
            d = costs[o][:, i] - costs["keep"][:, i]
            se = float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else 0.0
            gain = -float(d.mean())
            if gain > z * se and gain > best_gain:
                best, best_gain = o, gain
        decided.append((best_gain, mid, best, means))
    load: dict[int, int] = {}
    for v in keep.values():
        load[shift_of(v)] = load.get(shift_of(v), 0) + 1
    chosen: dict[str, VisitChange | None] = dict(keep)
    choices = []
    for gain, mid, option, means in sorted(decided, key=lambda x: -x[0]):
        if option == "drop":
            load[shift_of(keep[mid])] -= 1
            chosen[mid] = None
        elif option != "keep":
            target = visit_of[option][mid]
            if load.get(shift_of(target), 0) < per_shift or shift_of(target) == shift_of(keep[mid]):
                load[shift_of(keep[mid])] -= 1
                load[shift_of(target)] = load.get(shift_of(target), 0) + 1
                chosen[mid] = target
            else:
                option, gain = "keep", 0.0
        choices.append(Choice(mid, option, means, gain))
    visits = [v for v in chosen.values() if v is not None]
    per_plan_shift: dict[int, int] = {}
    for v in visits:
        per_plan_shift[shift_of(v)] = per_plan_shift.get(shift_of(v), 0) + 1
    plan = Plan(name="chosen by what-if", visits=visits, technicians=max(per_plan_shift.values(), default=1))
    return plan, choices
