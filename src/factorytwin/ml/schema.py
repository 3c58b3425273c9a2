"""Typed boundaries of the ML package: batch requests, model cards, schedules, training jobs.

``Prediction`` and its parts live in ``factorytwin.prediction`` (the twin carries them too); re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from factorytwin.prediction import Prediction, Reason, RulEstimate

__all__ = [
    "MaintenancePlan",
    "ModelCard",
    "ModelVersion",
    "PolicyCost",
    "PredictRequest",
    "PredictResponse",
    "Prediction",
    "Reason",
    "RulEstimate",
    "ScheduledTask",
    "TrainJob",
    "TrainRequest",
]


class PredictRequest(BaseModel):
    """A batch of feature rows for ``POST /predict``: raw sensor/feature columns by name."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, float | str | None]] = Field(min_length=1, max_length=100_000)
    reasons: int = Field(default=0, ge=0, le=20, description="top contributing features per row (0: none, faster)")


class PredictResponse(BaseModel):
    """Predictions for a batch, in request order."""

    model_version: str
    predictions: list[Prediction]


class ModelCard(BaseModel):
    """What a model version is: data, features, metrics, date. Stored as JSON and rendered as Markdown."""

    version: str
    created_at: datetime
    shape: Literal["table", "history", "run_to_failure"]
    target: str
    horizon: float | None = None
    horizon_unit: str | None = None
    training_data: dict[str, Any] = Field(default_factory=dict)
    features: list[str] = Field(default_factory=list)
    excluded_columns: list[str] = Field(default_factory=list, description="labels and ids never used as features")
    metrics: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list, description="failure, rul, mode: which heads exist")
    notes: str = ""


class ModelVersion(BaseModel):
    """One entry of the registry listing."""

    version: str
    created_at: datetime
    active: bool
    shape: str
    metrics: dict[str, Any] = Field(default_factory=dict)


class TrainRequest(BaseModel):
    """``POST /models/train``: retrain from the twin's stored history."""

    model_config = ConfigDict(extra="forbid")

    days: float = Field(default=30.0, gt=0, le=3660, description="how much history to learn from, days")
    horizon_h: float = Field(default=24.0, gt=0, le=24 * 90)
    activate: bool = True


class TrainJob(BaseModel):
    """State of a training job."""

    id: str
    state: Literal["queued", "running", "done", "failed"]
    started_at: datetime
    finished_at: datetime | None = None
    version: str | None = None
    message: str = ""


class ScheduledTask(BaseModel):
    """A recommended maintenance visit."""

    machine_id: str
    shift_start: datetime
    shift_index: int = Field(description="0 = the current shift")
    hours: float = Field(description="technician hours the visit takes")
    probability: float = Field(description="P(failure in horizon) at planning time")
    risk_if_deferred: float = Field(description="expected failure cost avoided by this visit, currency units")
    reason: str


class PolicyCost(BaseModel):
    """Expected cost of a maintenance policy over the planning horizon."""

    policy: Literal["predictive", "run_to_failure", "fixed_interval"]
    expected_cost: float
    expected_failures: float
    maintenance_visits: int


class MaintenancePlan(BaseModel):
    """``GET /maintenance/schedule``: the plan and how it compares."""

    # Only ever sent: its schema lists defaulted fields as required (they are always present).
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: Literal["ok", "no_model"] = "ok"
    generated_at: datetime
    model_version: str | None = None
    horizon_h: float
    shift_hours: float
    technician_hours_per_shift: float
    tasks: list[ScheduledTask] = Field(default_factory=list)
    policies: list[PolicyCost] = Field(default_factory=list)
    message: str = ""
