"""Maintenance planning: when to service each machine, trading expected failure cost against preventive work,
within the technicians' hours per shift.

Risk model: the calibrated probability p of failing within the model's horizon H gives a constant hazard
lambda = -ln(1 - p) / H, so P(fail before t) = 1 - exp(-lambda t). A machine is worth servicing inside the
planning window when its expected failure cost there exceeds the cost of a visit; its deadline is the last shift
before its failure probability passes the critical ratio C_pm / C_f (beyond it, waiting costs more in expected
failures than a visit costs), and never later than the RUL model's 10 % quantile. Visits are placed earliest
deadline first into shifts with technician hours left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from factorytwin.ml.schema import MaintenancePlan, PolicyCost, Prediction, ScheduledTask


@dataclass(frozen=True)
class CostModel:
    """Costs (currency units) and capacities of maintenance."""

    failure_repair_cost: float = 6000.0
    failure_downtime_h: float = 16.0
    pm_cost: float = 800.0
    pm_downtime_h: float = 2.0
    downtime_cost_per_h: float = 400.0
    pm_technician_h: float = 3.0
    shift_hours: float = 8.0
    technician_hours_per_shift: float = 8.0
    planning_horizon_h: float = 72.0
    fixed_interval_h: float = 500.0
    shift_anchor_hour: float = 6.0  # the plant's shift calendar: shifts start at 06:00 UTC + k x shift_hours

    @property
    def failure_cost(self) -> float:
        """Expected cost of one failure: repair plus lost production while down."""
        return self.failure_repair_cost + self.failure_downtime_h * self.downtime_cost_per_h

    @property
    def visit_cost(self) -> float:
        """Cost of one preventive visit: parts and labour plus its shorter downtime."""
        return self.pm_cost + self.pm_downtime_h * self.downtime_cost_per_h

    @property
    def critical_ratio(self) -> float:
        """Failure probability above which a visit is cheaper than the expected failure."""
        return self.visit_cost / self.failure_cost


def hazard(probability: float, horizon_h: float) -> float:
    """Constant hazard per hour that gives ``probability`` of failing within ``horizon_h`` hours."""
    p = min(max(probability, 0.0), 1.0 - 1e-9)
    return -math.log1p(-p) / max(horizon_h, 1e-9)


def failure_cdf(rate: float, t_h: float) -> float:
    """P(failure before ``t_h`` hours) under constant hazard ``rate``."""
    return 1.0 - math.exp(-rate * max(t_h, 0.0))


@dataclass
class _Candidate:
    machine_id: str
    probability: float
    rate: float
    deadline: int
    age_h: float | None


def shift_calendar(now: datetime, cost: CostModel, time_scale: float = 1.0) -> tuple[float, float]:
    """(machine hours since the start of the current shift, machine hours of the current shift's start on the
    calendar). Shifts are anchored to the plant's calendar (``shift_anchor_hour`` UTC + k x ``shift_hours``), not to
    the request, so a plan keeps its shifts across refreshes. Under a time-compressed simulator (``time_scale``
    machine seconds per wall second) the calendar runs in machine time: machine hours = wall hours since the epoch
    x ``time_scale`` (at 60x an 8-hour shift lasts 8 wall minutes)."""
    now_h = now.timestamp() / 3600.0 * time_scale
    start_h = math.floor((now_h - cost.shift_anchor_hour) / cost.shift_hours) * cost.shift_hours
    start_h += cost.shift_anchor_hour
    return now_h - start_h, start_h


def plan_maintenance(
    predictions: list[Prediction], cost: CostModel, now: datetime, time_scale: float = 1.0
) -> MaintenancePlan:
    """The maintenance plan for the planning window and the expected cost of three policies over it.

    Shift 0 is the current shift of the calendar (``shift_calendar``); times are machine hours, shift starts are
    reported in wall time. Machines that are not running (failed, in maintenance, stopped: their predictions carry
    that status instead of a probability) get no visit and count in no policy's cost.
    """
    n_shifts = max(1, math.ceil(cost.planning_horizon_h / cost.shift_hours))
    elapsed, _ = shift_calendar(now, cost, time_scale)
    H = n_shifts * cost.shift_hours - elapsed  # machine hours from now to the end of the last planned shift
    cf, cv = cost.failure_cost, cost.visit_cost
    candidates: list[_Candidate] = []
    rtf_cost = 0.0
    rtf_failures = 0.0
    for p in predictions:
        if p.status != "ok" or p.probability is None or p.machine_id is None:
            continue
        horizon = p.horizon if p.horizon and p.horizon_unit == "h" else cost.planning_horizon_h
        rate = hazard(p.probability, horizon)
        f_H = failure_cdf(rate, H)
        rtf_cost += cf * f_H
        rtf_failures += f_H
        if cf * f_H <= cv:
            continue  # a visit costs more than the failure risk it removes in this window
        # latest shift whose start keeps P(failure so far) within the critical ratio
        t_crit = -math.log1p(-min(cost.critical_ratio, 1 - 1e-9)) / rate if rate > 0 else H
        if p.rul is not None and p.rul.unit == "h":
            t_crit = min(t_crit, p.rul.low)
        deadline = max(0, min(n_shifts - 1, int((t_crit + elapsed) // cost.shift_hours)))
        candidates.append(_Candidate(p.machine_id, p.probability, rate, deadline, p.hours_since_service))
    capacity = [cost.technician_hours_per_shift] * n_shifts
    capacity[0] *= (cost.shift_hours - elapsed) / cost.shift_hours  # what is left of the current shift
    tasks: list[ScheduledTask] = []
    plan_cost, plan_failures = 0.0, 0.0
    scheduled: set[str] = set()
    for c in sorted(candidates, key=lambda c: (c.deadline, -c.probability)):
        order = list(range(c.deadline, -1, -1)) + list(range(c.deadline + 1, n_shifts))
        slot = next((s for s in order if capacity[s] >= cost.pm_technician_h), None)
        if slot is None:
            continue
        capacity[slot] -= cost.pm_technician_h
        t_s = slot * cost.shift_hours - elapsed  # machine hours from now to the shift's start (< 0: under way)
        f_s = failure_cdf(c.rate, max(t_s, 0.0))
        late = " (later than ideal: no technician hours left before)" if slot > c.deadline else ""
        tasks.append(
            ScheduledTask(
                machine_id=c.machine_id,
                shift_start=now + timedelta(hours=t_s / time_scale),
                shift_index=slot,
                hours=cost.pm_technician_h,
                probability=round(c.probability, 4),
                risk_if_deferred=round(cf * failure_cdf(c.rate, H) - cf * f_s, 2),
                reason=f"P(failure in {H:.3g} h) = {failure_cdf(c.rate, H):.0%} > visit/failure cost ratio "
                f"{cost.critical_ratio:.0%}{late}",
            )
        )
        scheduled.add(c.machine_id)
        plan_cost += cv + cf * f_s
        plan_failures += f_s
    fixed_cost, fixed_failures, fixed_visits = 0.0, 0.0, 0
    for p in predictions:
        if p.status != "ok" or p.probability is None or p.machine_id is None:
            continue
        horizon = p.horizon if p.horizon and p.horizon_unit == "h" else cost.planning_horizon_h
        rate = hazard(p.probability, horizon)
        if p.machine_id not in scheduled:
            plan_cost += cf * failure_cdf(rate, H)
            plan_failures += failure_cdf(rate, H)
        due = (cost.fixed_interval_h - p.hours_since_service) if p.hours_since_service is not None else None
        if due is not None and due <= H:
            f_due = failure_cdf(rate, max(due, 0.0))
            fixed_cost += cv + cf * f_due
            fixed_failures += f_due
            fixed_visits += 1
        else:
            # age unknown: a fixed interval services a machine in this window with probability H / interval
            share = min(1.0, H / cost.fixed_interval_h) if due is None else 0.0
            f_H = failure_cdf(rate, H)
            fixed_cost += share * (cv + cf * f_H / 2) + (1 - share) * cf * f_H
            fixed_failures += share * f_H / 2 + (1 - share) * f_H
            fixed_visits += round(share)
    tasks.sort(key=lambda t: (t.shift_index, -t.probability))
    return MaintenancePlan(
        generated_at=now,
        horizon_h=H,
        shift_hours=cost.shift_hours,
        technician_hours_per_shift=cost.technician_hours_per_shift,
        tasks=tasks,
        policies=[
            PolicyCost(
                policy="predictive",
                expected_cost=round(plan_cost, 2),
                expected_failures=round(plan_failures, 3),
                maintenance_visits=len(tasks),
            ),
            PolicyCost(
                policy="run_to_failure",
                expected_cost=round(rtf_cost, 2),
                expected_failures=round(rtf_failures, 3),
                maintenance_visits=0,
            ),
            PolicyCost(
                policy="fixed_interval",
                expected_cost=round(fixed_cost, 2),
                expected_failures=round(fixed_failures, 3),
                maintenance_visits=fixed_visits,
            ),
        ],
    )
