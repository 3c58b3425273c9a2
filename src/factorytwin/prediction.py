"""A failure prediction: the vocabulary the ML service produces and the twin, the API and the browser consume.

It lives beside ``domain`` (not in ``ml``) so the twin can carry predictions without importing the ML package:
``ml`` builds them, ``twin`` folds their probability into health and streams them, ``api`` serves them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Reason(BaseModel):
    """One feature's push on the failure score (LightGBM pred_contrib, log-odds; positive raises the risk)."""

    # Only ever sent: its schema lists defaulted fields as required (they are always present).
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    feature: str
    value: float | None = Field(description="the feature's value for this prediction (null when unknown)")
    contribution: float
    sensor: str | None = Field(
        default=None, description="the machine's sensor the feature is computed from (null for other features)"
    )
    text: str = Field(
        default="",
        description="the reason in words: the sensor's label, value and unit and its trend per hour "
        '("Vibration RMS 6.10 mm/s on average over 12 h, rising 0.4 mm/s per hour")',
    )


class RulEstimate(BaseModel):
    """Remaining useful life: median and an 80 % interval (10th-90th percentile), in ``unit``."""

    median: float
    low: float
    high: float
    unit: str = "h"


class Prediction(BaseModel):
    """What the active model says about one machine (or one feature row)."""

    # Only ever sent: its schema lists defaulted fields as required (they are always present).
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: Literal["ok", "no_model", "no_data", "failed", "maintenance", "stopped", "idle", "offline"] = Field(
        default="ok",
        description="ok: scored; no_model / no_data: nothing to score with; failed, maintenance, stopped, idle, "
        "offline: the machine is not running, so it is not scored (no probability): the fields below say what it is "
        "doing instead",
    )
    machine_id: str | None = None
    ts: datetime | None = Field(default=None, description="time of the newest reading the prediction used")
    model_version: str | None = None
    probability: float | None = Field(default=None, ge=0.0, le=1.0, description="calibrated P(failure in horizon)")
    horizon: float | None = Field(default=None, description="prediction horizon in ``horizon_unit``")
    horizon_unit: str = "h"
    alert: bool | None = Field(default=None, description="probability above the model's F1-optimal threshold")
    rul: RulEstimate | None = None
    likely_mode: str | None = None
    mode_probabilities: dict[str, float] = Field(default_factory=dict)
    reasons: list[Reason] = Field(default_factory=list)
    hours_since_service: float | None = Field(default=None, description="hours since the last repair/maintenance")
    machine_status: str | None = Field(
        default=None, description="the machine's status at its newest reading, from its event log (running, failed...)"
    )
    status_since: datetime | None = Field(default=None, description="when the machine took that status")
    failure_mode: str | None = Field(default=None, description="failed: the failure mode being repaired")
    repair_progress: float | None = Field(
        default=None, ge=0.0, le=1.0, description="failed / maintenance: share of the expected repair time gone by"
    )
    expected_back: datetime | None = Field(
        default=None, description="failed / maintenance: when the repair or maintenance is expected to end"
    )
    message: str = ""
