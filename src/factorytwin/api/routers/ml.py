"""Predictions, batch prediction, maintenance schedule and the model registry.

The predictor is built and started by ``api.lifespan.ml_lifespan``; every route takes it through ``PredictorDep``
(503 when it is not running).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from factorytwin.api.auth import Engineer, Viewer, audit
from factorytwin.api.deps import UNAVAILABLE, PredictorDep, ServicesDep
from factorytwin.api.errors import ErrorBody, Problem
from factorytwin.domain import MachineId
from factorytwin.errors import NotFound
from factorytwin.ml import (
    CostModel,
    MaintenancePlan,
    ModelCard,
    ModelVersion,
    NoModel,
    Prediction,
    PredictRequest,
    PredictResponse,
    TrainJob,
    TrainRequest,
)
from factorytwin.ml.jobs import TrainingBusy
from factorytwin.ml.registry import VERSION_PATTERN

router = APIRouter(tags=["predictions"], responses=UNAVAILABLE)


class NoModelBody(ErrorBody):
    """409 from ``POST /predict``: no model is trained yet."""

    status: Literal["no_model"] = "no_model"


def _no_model(exc: Exception) -> JSONResponse:
    body = NoModelBody(detail=[Problem(loc=[], msg=str(exc))])
    return JSONResponse(body.model_dump(mode="json"), status_code=409)


@router.get(
    "/machines/{machine_id}/prediction",
    response_model=Prediction,
    responses={404: {"description": "no such machine in the layout"}},
)
async def machine_prediction(
    who: Viewer, machine_id: MachineId, services: ServicesDep, predictor: PredictorDep
) -> Prediction:
    """Failure probability within the horizon, RUL with an 80 % interval, likely failure mode and the top
    contributing features. ``status`` is ``no_model`` (with a message) when no model is trained yet."""
    services.machine(machine_id)  # 404 for a machine the layout does not have
    return await predictor.predict(machine_id)


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses={409: {"description": "no model trained", "model": NoModelBody}},
)
async def predict_rows(who: Viewer, request: PredictRequest, predictor: PredictorDep) -> PredictResponse | JSONResponse:
    """Predict raw feature rows (sensor keys such as ``torque``, ``tool_wear``, or the model's feature names)."""
    try:
        return await predictor.predict_rows(request)
    except NoModel as exc:
        return _no_model(exc)


@router.get("/maintenance/schedule", response_model=MaintenancePlan)
async def maintenance_schedule(
    who: Viewer,
    predictor: PredictorDep,
    horizon_h: Annotated[float, Query(gt=0, le=24 * 30, description="planning window, hours")] = 72.0,
    shift_hours: Annotated[float, Query(gt=0, le=24)] = 8.0,
    technician_hours_per_shift: Annotated[float, Query(gt=0, le=1000)] = 8.0,
    visit_hours: Annotated[float, Query(gt=0, le=100, description="technician hours per visit")] = 3.0,
) -> MaintenancePlan:
    """When to service each machine within technician capacity, and the expected cost of that plan against
    run-to-failure and fixed-interval maintenance over the same window."""
    cost = CostModel(
        planning_horizon_h=horizon_h,
        shift_hours=shift_hours,
        technician_hours_per_shift=technician_hours_per_shift,
        pm_technician_h=visit_hours,
    )
    return await predictor.schedule(cost)


@router.get("/models", response_model=list[ModelVersion])
async def list_models(who: Viewer, predictor: PredictorDep) -> list[ModelVersion]:
    """Every model version in the registry, oldest first, with its headline metrics."""
    return await asyncio.to_thread(predictor.registry.listing)


@router.get("/models/active", response_model=ModelCard, responses={404: {"description": "no model trained yet"}})
async def active_model(who: Viewer, predictor: PredictorDep) -> ModelCard:
    """The model card of the version being served (404 when none)."""
    return await asyncio.to_thread(predictor.registry.card)


@router.post(
    "/models/{version}/activate", response_model=ModelCard, responses={404: {"description": "no such version"}}
)
async def activate_model(
    who: Engineer,
    version: Annotated[str, Path(pattern=VERSION_PATTERN, max_length=13, description="e.g. v0001")],
    predictor: PredictorDep,
    request: Request,
) -> ModelCard:
    """Serve ``version`` from now on (recorded in the audit trail)."""
    registry = predictor.registry
    async with audit(request, who, "models.activate", version):
        await asyncio.to_thread(registry.activate, version)
    return await asyncio.to_thread(registry.card, version)


class TrainingBusyBody(ErrorBody):
    """409 from ``POST /models/train``: a training job is already running (its id in ``job_id``)."""

    job_id: str


@router.post(
    "/models/train",
    response_model=TrainJob,
    status_code=202,
    responses={409: {"description": "a training job is already running", "model": TrainingBusyBody}},
)
async def train_model(
    who: Engineer, predictor: PredictorDep, http: Request, request: TrainRequest | None = None
) -> TrainJob | JSONResponse:
    """Retrain from the twin's stored history in a worker process, one job at a time (409 while one runs);
    poll ``GET /models/train/{job_id}``."""
    try:
        async with audit(http, who, "models.train", ""):
            return await predictor.start_training(request or TrainRequest())
    except TrainingBusy as exc:
        body = TrainingBusyBody(detail=[Problem(loc=[], msg=str(exc))], job_id=exc.job_id)
        return JSONResponse(body.model_dump(mode="json"), status_code=409)


@router.get("/models/train/{job_id}", response_model=TrainJob, responses={404: {"description": "no such job"}})
async def training_job(who: Viewer, job_id: str, predictor: PredictorDep) -> TrainJob:
    """State of a training job."""
    job = predictor.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no training job {job_id!r}")
    return job
