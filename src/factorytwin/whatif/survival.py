"""Machines without physics in a what-if: carried forward by a survival model fitted to their own failure history.

A machine of a user-defined profile has no simulator kind, so the replicas cannot step it. Rather than leave it out
of a scenario, its future is drawn from the simplest model its stored history supports (``fit_survival``):

- the history is the machine's event log (``ml.history.event_tuples``: failures, maintenances, returns to
  service) over the last ``HISTORY_DAYS``; a *life* runs from a renewal (the return to service after a failure, or a
  maintenance) to the next failure (observed) or to the next maintenance or the fork (censored). The machine's time
  under repair (failure to its return) is not life; its mean is the repair time drawn (lognormal, sigma 0.3, as the
  simulator's repairs), else the ``CostModel``'s failure downtime;
- with at least ``WEIBULL_MIN_FAILURES`` failures a Weibull (shape k, scale) by censored maximum likelihood (k in
  [0.3, 10]): a k above 1 is wear-out, so a visit (a renewal) lowers the risk ahead; otherwise an exponential
  (constant hazard: failures / exposure), where a visit changes nothing but costs its downtime; with no failure at
  all, half a failure over the exposure (a cautious rate, not zero); with no history at all, not carried (the plan
  naming it is refused, as before);
- the life is in running hours: it does not age while the plan stops the machine (``out_of_service``) or runs it at
  0 %; other speeds do not change the hazard (no physics to say how);
- the age at the fork is the time since the last renewal, so a Weibull machine long past its last service is
  riskier now; a machine failed at the fork is under repair for the mean repair time from then.

``draw_survival`` draws ``replicas`` futures of these machines under a timetable (failures, repairs, visits as
``Tally`` columns, fan points too), with a stream per machine and table seed (common random numbers between plans).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from factorytwin.whatif.fan import fan_grid
from factorytwin.whatif.plan import Timetable
from factorytwin.whatif.replicas import Tally

F64 = NDArray[np.float64]
HISTORY_DAYS = 365.0
WEIBULL_MIN_FAILURES = 5
REPAIR_SIGMA = 0.3
MODE = "survival"
"""The failure mode of a failure drawn by a survival model (the history does not say which)."""


@dataclass(frozen=True)
class SurvivalFit:
    """A machine's fitted life distribution and where it stands at the fork (hours)."""

    machine_id: str
    model: str  # "weibull" or "exponential"
    shape: float  # Weibull k (1: exponential)
    scale_h: float  # Weibull scale; exponential: the mean life
    age_h: float  # running hours since the last renewal
    repair_h: float  # mean repair time drawn after a failure
    failures: int
    exposure_h: float
    down_h: float = 0.0  # still under repair at the fork for this long

    @property
    def note(self) -> str:
        """How the model was fitted, in words (the job's fork notes)."""
        law = (
            f"Weibull k={self.shape:.2f}, scale {self.scale_h:,.0f} h"
            if self.model == "weibull"
            else f"exponential, mean life {self.scale_h:,.0f} h"
        )
        return (
            f"survival: {law} from {self.failures} failure(s) in {self.exposure_h:,.0f} running h; "
            f"age {self.age_h:,.0f} h; repair {self.repair_h:.1f} h"
        )


def _weibull_mle(times: F64, failed: NDArray[np.bool_]) -> tuple[float, float]:
    """Censored Weibull maximum likelihood: (shape, scale), the shape by a golden search of the profile."""
    t = np.maximum(times, 1e-6)
    logs = np.log(t[failed])
    n = int(failed.sum())

    def profile(k: float) -> float:
        lam_k = float(np.sum(t**k)) / n
        return n * math.log(k) - n * math.log(lam_k) + (k - 1.0) * float(logs.sum()) - n

    lo, hi = math.log(0.3), math.log(10.0)
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    for _ in range(80):
        c, d = b - g * (b - a), a + g * (b - a)
        if profile(math.exp(c)) > profile(math.exp(d)):
            b = d
        else:
            a = c
    k = math.exp((a + b) / 2.0)
    return k, (float(np.sum(t**k)) / n) ** (1.0 / k)


def fit_survival(
    machine_id: str, events: Sequence[tuple[str, int, str, str]], now: datetime, default_repair_h: float = 16.0
) -> SurvivalFit | None:
    """The survival model of one machine from its event tuples (``ml.history.event_tuples``: machine, ts ms,
    failure/maintenance/repair/status, mode), oldest first; ``None`` when it has no history to go on."""
    now_ms = now.timestamp() * 1000.0
    rows = [(float(ts), kind) for mid, ts, kind, _ in events if mid == machine_id and ts <= now_ms]
    if not rows:
        return None
    lives: list[float] = []
    failed: list[bool] = []
    repairs: list[float] = []
    since = rows[0][0]  # the first event: observation starts
    down_from: float | None = None  # failed at, until the next return to service
    for ts, kind in rows:
        if down_from is not None:
            if kind in ("repair", "status", "maintenance"):
                repairs.append((ts - down_from) / 3.6e6)
                down_from, since = None, ts
            continue
        if kind == "failure":
            lives.append((ts - since) / 3.6e6)
            failed.append(True)
            down_from = ts
        elif kind in ("maintenance", "repair"):
            lives.append((ts - since) / 3.6e6)
            failed.append(False)
            since = ts
    down_h = 0.0
    repair_h = float(np.mean(repairs)) if repairs else default_repair_h
    if down_from is None:
        age = (now_ms - since) / 3.6e6
        lives.append(age)
        failed.append(False)
    else:  # failed at the fork: the rest of a mean repair, then new
        age = 0.0
        down_h = max(0.0, repair_h - (now_ms - down_from) / 3.6e6)
    times, hit = np.array(lives, dtype=np.float64), np.array(failed, dtype=bool)
    exposure, n = float(times.sum()), int(hit.sum())
    if exposure <= 0.0 and n == 0:
        return None
    if n >= WEIBULL_MIN_FAILURES:
        k, scale = _weibull_mle(times, hit)
        return SurvivalFit(machine_id, "weibull", k, scale, age, repair_h, n, exposure, down_h)
    mean_life = max(exposure, 1.0) / (n if n else 0.5)
    return SurvivalFit(machine_id, "exponential", 1.0, mean_life, age, repair_h, n, exposure, down_h)


def _residual_h(fit: SurvivalFit, age_h: float, u: float) -> float:
    """Running hours to the next failure given survival to ``age_h`` (inverse of the conditional survival)."""
    if fit.shape == 1.0:
        return -fit.scale_h * math.log(u)
    k, lam = fit.shape, fit.scale_h
    return float(lam * ((age_h / lam) ** k - math.log(u)) ** (1.0 / k) - age_h)


def draw_survival(fits: Sequence[tuple[int, SurvivalFit]], table: Timetable, replicas: int, seed: int) -> Tally:
    """``replicas`` futures of the machines of ``fits`` ((index in ``table``, model)) under ``table``."""
    horizon = table.horizon_s
    out = Tally(replicas, len(fits), horizon, 0.0)
    out.modes[MODE] = np.zeros((replicas, len(fits)), dtype=np.int64)
    grid = fan_grid(horizon)
    snaps = np.zeros((len(grid), 4, replicas, len(fits)))
    for m, (i, fit) in enumerate(fits):
        speeds = [(s, e, pct) for s, e, j, pct in table.speeds if j == i]
        stops = [(s, e) for s, e, j in table.stopped if j == i]
        visits = sorted([(a, h) for a, j, h in table.added_visits if j == i])
        if i in table.moved_pm:  # no built-in preventive visit to move: the moved one is a visit at that time
            visits = sorted([*visits, (table.moved_pm[i], 4.0)])
        cuts = sorted(
            {0.0, horizon, *grid, *(a for a, _ in visits), *(t for s, e, _ in speeds for t in (s, e))}
            | {t for s, e in stops for t in (s, e)}
        )
        cuts = [c for c in cuts if 0.0 <= c <= horizon]

        rng = np.random.default_rng([seed, i])
        for r in range(replicas):
            age, down_until = fit.age_h * 3600.0, fit.down_h * 3600.0
            if down_until > 0.0:
                out.downtime_s[r, m] += min(down_until, horizon)
            point = 0
            for s, e in itertools.pairwise(cuts):
                while point < len(grid) and grid[point] <= s + 1e-9:
                    snaps[point, :, r, m] = _totals(out, r, m)
                    point += 1
                for a, hours in visits:
                    if abs(a - s) < 1e-9:
                        out.visits[r, m] += 1
                        out.downtime_s[r, m] += min(hours * 3600.0, horizon - s)
                        down_until, age = s + hours * 3600.0, 0.0
                frac = _speed(speeds, stops, s)
                if frac <= 0.0:
                    continue  # not running: no ageing, no failure
                t = max(s, down_until)
                while t < e:
                    life = _residual_h(fit, age / 3600.0, float(rng.random()) or 1e-12) * 3600.0
                    if t + life >= e:
                        out.running_s[r, m] += e - t
                        out.output_s[r, m] += (e - t) * frac
                        age += e - t
                        break
                    t += life
                    out.running_s[r, m] += life
                    out.output_s[r, m] += life * frac
                    out.failures[r, m] += 1
                    out.modes[MODE][r, m] += 1
                    out.first_failure_s[r, m] = min(out.first_failure_s[r, m], t)
                    repair = fit.repair_h * 3600.0 * float(rng.lognormal(0.0, REPAIR_SIGMA))
                    out.downtime_s[r, m] += min(repair, horizon - t)
                    down_until, age = t + repair, 0.0
                    t = down_until
            while point < len(grid):
                snaps[point, :, r, m] = _totals(out, r, m)
                point += 1
    out.snap_s = list(grid)
    out.snaps = [snaps[k] for k in range(len(grid))]
    return out


def _speed(speeds: Sequence[tuple[float, float, float]], stops: Sequence[tuple[float, float]], t: float) -> float:
    """The speed fraction at ``t`` (0: not running: stopped by the plan or at 0 %)."""
    if any(s <= t < e for s, e in stops):
        return 0.0
    pct = [p for s, e, p in speeds if s <= t < e]
    return pct[-1] / 100.0 if pct else 1.0


def _totals(t: Tally, r: int, m: int) -> tuple[float, float, float, float]:
    return float(t.failures[r, m]), float(t.downtime_s[r, m]), float(t.visits[r, m]), float(t.output_s[r, m])


def join(a: Tally, b: Tally) -> Tally:
    """The machines of ``a`` then those of ``b`` (same runs, same horizon) as one tally."""
    out = Tally(a.replicas, a.machines + b.machines, a.horizon_s, a.t0)
    for name in ("failures", "downtime_s", "visits", "tool_changes", "first_failure_s", "running_s", "output_s"):
        setattr(out, name, np.concatenate([getattr(a, name), getattr(b, name)], axis=1))
    for mode in sorted({*a.modes, *b.modes}):
        parts = [t.modes.get(mode, np.zeros_like(t.failures)) for t in (a, b)]
        out.modes[mode] = np.concatenate(parts, axis=1)
    out.snap_s = list(a.snap_s)
    if len(a.snaps) == len(b.snaps):
        out.snaps = [np.concatenate([x, y], axis=2) for x, y in zip(a.snaps, b.snaps, strict=True)]
    return out
