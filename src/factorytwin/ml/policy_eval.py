"""Replaying maintenance policies over a recorded (simulated) history: renewal-reward accounting.

Each machine's history is cut into life cycles at renewals (repair after a failure, preventive maintenance).
A policy may ask for a visit during a cycle; the visit happens at the next shift with technician hours left.
If it comes before the cycle's failure, the failure is averted: the policy pays a visit and the cycle ends
there (the rest of that life is given up). Otherwise the cycle runs as recorded: a failure costs a failure, a
recorded maintenance costs a visit. The figure of merit is each machine's cost per operating hour (cost rate),
the standard renewal-reward measure, so a policy cannot look cheap by simply running machines less; the total
is the sum over machines of cost rate x hours to run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from factorytwin.ml.schedule import CostModel
from factorytwin.ml.timeseries import MS_PER_HOUR, renewals_only, ts_ms

Trigger = Callable[["Cycle"], float | None]
"""A policy: given a cycle, the time (ms) at which it asks for a visit, or None."""


@dataclass
class Cycle:
    """One life of one machine: from ``start`` to ``end`` (ms), ended by a failure or a recorded maintenance
    (or the end of the data); ``ts``/``prob`` are the hourly decision points inside it and the model's P(fail)."""

    machine_id: str
    start: float
    end: float
    failed: bool
    maintained: bool
    ts: np.ndarray = field(default_factory=lambda: np.empty(0))
    prob: np.ndarray = field(default_factory=lambda: np.empty(0))
    rul_low: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class PolicyResult:
    """What a policy cost over the replayed history.

    ``cost`` is the expected cost of running every machine for the replayed time (``operating_h`` summed over
    machines): each machine's cost per operating hour under the policy times its hours. ``failures`` and
    ``visits`` are the counts in the replayed lives.
    """

    name: str
    failures: int
    visits: int
    operating_h: float
    cost: float

    @property
    def cost_per_1000h(self) -> float:
        """Cost per 1000 operating hours (the cost rate)."""
        return 1000.0 * self.cost / max(self.operating_h, 1e-9)


def cycles_from_history(events: pd.DataFrame, start_ms: float, end_ms: float, decisions: pd.DataFrame) -> list[Cycle]:
    """Life cycles of every machine between ``start_ms`` and ``end_ms``.

    ``events``: the event log (machine_id, ts, event); ``decisions``: machine_id, ts (ms), probability - the
    model's prediction at each decision point (the end of every hour the machine operated), and optionally
    rul_low (the RUL model's 10 % quantile, hours).
    """
    events = events.assign(ts=ts_ms(events["ts"], "ts"))
    renewals = renewals_only(events)
    cycles: list[Cycle] = []
    by_machine = dict(tuple(decisions.groupby("machine_id")))
    for mid, dec in by_machine.items():
        ev = events[events["machine_id"] == mid]
        fails = np.sort(ev.loc[ev["event"] == "failure", "ts"].to_numpy("float64"))
        maints = renewals[(renewals["machine_id"] == mid) & (renewals["event"] == "maintenance")]
        maint_ts = np.sort(maints["ts"].to_numpy("float64"))
        restarts = np.sort(renewals.loc[renewals["machine_id"] == mid, "ts"].to_numpy("float64"))
        ends = np.concatenate([fails, maint_ts, [end_ms]])
        ends = np.unique(ends[(ends > start_ms) & (ends <= end_ms)])
        t = start_ms
        dts = dec["ts"].to_numpy("float64")
        dprob = dec["probability"].to_numpy("float64")
        dlow = dec["rul_low"].to_numpy("float64") if "rul_low" in dec.columns else np.full(len(dts), np.nan)
        for e in ends:
            inside = (dts > t) & (dts <= e)
            cycles.append(
                Cycle(
                    str(mid),
                    t,
                    float(e),
                    bool(np.isin(e, fails)),
                    bool(np.isin(e, maint_ts)),
                    dts[inside],
                    dprob[inside],
                    dlow[inside],
                )
            )
            later = restarts[restarts >= e]
            t = float(later[0]) if len(later) else float(e)  # the next life starts when repair/maintenance ends
            if t >= end_ms:
                break
    return cycles


def replay(name: str, cycles: list[Cycle], trigger: Trigger, cost: CostModel) -> PolicyResult:
    """Cost of policy ``trigger`` over ``cycles``, with visits limited by technician hours per shift."""
    shift_ms = cost.shift_hours * MS_PER_HOUR
    per_shift = max(1, int(cost.technician_hours_per_shift // cost.pm_technician_h))
    used: dict[int, int] = {}
    requests = []
    for i, c in enumerate(cycles):
        at = trigger(c)
        if at is not None and at < c.end:
            requests.append((at, i))
    served: dict[int, float] = {}
    for at, i in sorted(requests):
        c = cycles[i]
        s = int(at // shift_ms)  # the technician on shift now goes at once if the shift has hours left
        while used.get(s, 0) >= per_shift:
            s += 1
        when = max(at, s * shift_ms)
        if when < c.end:
            used[s] = used.get(s, 0) + 1
            served[i] = when
    failures = visits = 0
    hours: dict[str, float] = {}
    spent: dict[str, float] = {}
    calendar: dict[str, float] = {}
    for i, c in enumerate(cycles):
        calendar[c.machine_id] = calendar.get(c.machine_id, 0.0) + (c.end - c.start) / MS_PER_HOUR
        if i in served:
            visits += 1
            spent[c.machine_id] = spent.get(c.machine_id, 0.0) + cost.visit_cost
            hours[c.machine_id] = hours.get(c.machine_id, 0.0) + (served[i] - c.start) / MS_PER_HOUR
            continue
        hours[c.machine_id] = hours.get(c.machine_id, 0.0) + (c.end - c.start) / MS_PER_HOUR
        if c.failed:
            failures += 1
            spent[c.machine_id] = spent.get(c.machine_id, 0.0) + cost.failure_cost
        elif c.maintained:
            visits += 1
            spent[c.machine_id] = spent.get(c.machine_id, 0.0) + cost.visit_cost
    # Each machine's cost rate times the hours it has to run: pooling costs and hours over machines would let a
    # policy look cheap by cutting the lives of the dearest machines short (Simpson's paradox).
    expected = sum(spent.get(m, 0.0) / max(h, 1e-9) * calendar[m] for m, h in hours.items())
    return PolicyResult(name, failures, visits, sum(calendar.values()), expected)


def never(_: Cycle) -> float | None:
    """Run to failure: never ask."""
    return None


def fixed_interval(hours: float) -> Trigger:
    """Ask for a visit when a life reaches ``hours`` of age."""

    def trig(c: Cycle) -> float | None:
        return c.start + hours * MS_PER_HOUR

    return trig


def predictive(threshold: float) -> Trigger:
    """Ask at the first decision point whose P(failure within the horizon) reaches ``threshold``."""

    def trig(c: Cycle) -> float | None:
        hit = np.flatnonzero(c.prob >= threshold)
        return float(c.ts[hit[0]]) if len(hit) else None

    return trig


def rul_due(lead_h: float) -> Trigger:
    """Ask at the first decision point whose RUL 10 % quantile is within ``lead_h`` hours."""

    def trig(c: Cycle) -> float | None:
        hit = np.flatnonzero(c.rul_low <= lead_h)
        return float(c.ts[hit[0]]) if len(hit) else None

    return trig
