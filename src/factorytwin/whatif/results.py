"""The results of a what-if job (pydantic, free of numpy so that the API imports them at start-up)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Spread(BaseModel):
    """A quantity over the Monte-Carlo runs: its mean and the 80 % interval (10th-90th percentile of the runs)."""

    mean: float
    low: float
    high: float


class TimeToFailure(BaseModel):
    """When a machine fails next: P(failure within the horizon), percentiles (null when beyond the horizon) and
    the survival curve P(no failure before t) at ``survival_h``."""

    p_failure: float
    p10_h: float | None
    p50_h: float | None
    p90_h: float | None
    survival_h: list[float]
    survival: list[float]


class Band(BaseModel):
    """A running total over the horizon, per point of ``Fan.t_h``: the median and the 80 % band of the runs."""

    p10: list[float]
    p50: list[float]
    p90: list[float]


class Fan(BaseModel):
    """Fan charts: running totals from the start to each point ``t_h`` (hours after the fork), over the runs.
    Downtime is booked when an outage starts (its nominal length, clipped to the horizon)."""

    t_h: list[float]
    failures: Band
    downtime_h: Band
    output_h: Band
    maintenance_cost: Band


class MachineOutcome(BaseModel):
    """One machine over the horizon."""

    machine_id: str
    failures: Spread
    failure_modes: dict[str, float] = Field(description="expected failures per mode")
    downtime_h: Spread
    maintenance_visits: Spread
    tool_changes: Spread
    maintenance_cost: Spread = Field(description="repairs of failures plus maintenance visits, currency units")
    running_h: Spread
    time_to_failure: TimeToFailure
    fan: Fan


class PlantOutcome(BaseModel):
    """The whole plant over the horizon (sums over machines, per run)."""

    failures: Spread
    downtime_h: Spread
    maintenance_visits: Spread
    maintenance_cost: Spread
    downtime_cost: Spread
    total_cost: Spread
    output_h: Spread = Field(description="running hours x speed fraction: throughput until a production model exists")
    fan: Fan


class ScenarioOutcome(BaseModel):
    """One plan's results."""

    name: str
    machines: list[MachineOutcome]
    plant: PlantOutcome
    notes: list[str] = Field(
        default_factory=list,
        description="what of the plan was not done as asked: visits that waited for a technician or for the "
        "working hours (and how long), or that could not start within the horizon",
    )


class Difference(BaseModel):
    """Scenario minus baseline over paired runs (same seeds): the mean difference, its 80 % confidence interval,
    and the share of runs in which the scenario came out lower."""

    mean: float
    low: float
    high: float
    p_lower: float


class Comparison(BaseModel):
    """A scenario against the baseline."""

    name: str
    failures: Difference
    downtime_h: Difference
    maintenance_cost: Difference
    total_cost: Difference
    output_h: Difference
    machine_failures: dict[str, Difference]


class WhatIfResult(BaseModel):
    """Everything a what-if job found."""

    started_at: datetime
    horizon_h: float
    runs: int
    dt_s: float
    block_s: float
    seed: int
    baseline: ScenarioOutcome
    scenarios: list[ScenarioOutcome]
    comparisons: list[Comparison]
    wall_s: float
