"""Fan charts of a what-if: running totals (failures, downtime, output, maintenance cost) at points over the
horizon, as the median and the 80 % band (10th-90th percentile) of the runs, for the plant or one machine.

The points are whole multiples of an hour (the replicas' block grid), about ``FAN_POINTS`` of them, the horizon
last; ``Tally.snap`` keeps the totals there while a plan is simulated.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from factorytwin.ml.schedule import CostModel
from factorytwin.whatif.replicas import Tally
from factorytwin.whatif.results import Band, Fan

F64 = NDArray[np.float64]
FAN_POINTS = 12
HOUR_S = 3600.0
FAILURES, DOWNTIME_S, VISITS, OUTPUT_S = range(4)


def fan_grid(horizon_s: float, points: int = FAN_POINTS) -> list[float]:
    """Seconds after the fork of the fan points: a step of whole hours, the horizon always the last point."""
    step = max(HOUR_S, math.ceil(horizon_s / points / HOUR_S) * HOUR_S)
    grid = [k * step for k in range(1, int(horizon_s // step) + 1) if k * step < horizon_s - 1e-6]
    return [*grid, float(horizon_s)]


def _band(values: F64) -> Band:
    """``values`` (points, runs): per point the quantiles over the runs."""
    q = np.quantile(values, [0.1, 0.5, 0.9], axis=1) if values.size else np.zeros((3, 0))
    p10, p50, p90 = (np.round(row, 4).tolist() for row in q)
    return Band(p10=p10, p50=p50, p90=p90)


def fan(tally: Tally, cost: CostModel, machine: int | None) -> Fan:
    """The fans of one machine (its index) or of the plant (``None``: per run, the sum over machines)."""
    if tally.snaps:
        snaps = np.stack(tally.snaps)  # (points, 4, runs, machines)
        per_run = snaps.sum(axis=3) if machine is None else snaps[:, :, :, machine]  # (points, 4, runs)
    else:
        per_run = np.zeros((0, 4, tally.replicas))
    cost_run = per_run[:, FAILURES] * cost.failure_repair_cost + per_run[:, VISITS] * cost.pm_cost
    return Fan(
        t_h=[round(t / HOUR_S, 3) for t in tally.snap_s],
        failures=_band(per_run[:, FAILURES]),
        downtime_h=_band(per_run[:, DOWNTIME_S] / HOUR_S),
        output_h=_band(per_run[:, OUTPUT_S] / HOUR_S),
        maintenance_cost=_band(cost_run),
    )
