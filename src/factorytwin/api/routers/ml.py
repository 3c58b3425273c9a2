"""Predictions, batch prediction, maintenance schedule and the model registry; and the ML start-up hook.

The hook builds the ``Predictor`` (active model of ``settings.model_dir``) and, when the live twin runs, pushes
every machine's prediction to it every ``PREDICTION_INTERVAL_S`` seconds; the twin shows the probability in the
machine's health and sends a ``prediction`` message on the WebSocket stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from factorytwin.api.deps import Services, ServicesDep
from factorytwin.domain import MachineId
from factorytwin.errors import NotFound
from factorytwin.ml.jobs import TrainingBusy, TrainingJobs
from factorytwin.ml.predictor import NoModel, Predictor
from factorytwin.ml.registry import VERSION_PATTERN, ModelRegistry
from factorytwin.ml.schedule import CostModel
from factorytwin.ml.schema import (
    MaintenancePlan,
    ModelCard,
    ModelVersion,
    Prediction,
    PredictRequest,
    PredictResponse,
    TrainJob,
    TrainRequest,
)

router = APIRouter(tags=["predictions"])
log = logging.getLogger(__name__)

PREDICTION_INTERVAL_S = 10.0
"""How often predictions are pushed to the live twin: features are hourly windows, so faster adds nothing."""


async def push_predictions(services: Services, predictor: Predictor, interval_s: float) -> None:
    """Forever: predict every machine and hand each result to the live twin (health + ``prediction`` message)."""
    while True:
        await asyncio.sleep(interval_s)
        twin = services.twin
        if twin is None:
            continue
        try:
            for p in await predictor.predict_all():
                if p.status == "ok" and p.machine_id is not None:
                    body: dict[str, Any] = {**p.model_dump(mode="json"), "failure_probability": p.probability}
                    await twin.publish_prediction(p.machine_id, body)
        except Exception:  # a bad cycle (store hiccup, odd model) must not end the loop
            log.exception("prediction push failed")


@asynccontextmanager
async def ml_lifespan(services: Services) -> AsyncIterator[None]:
    """Start the predictor (and the prediction push to the twin); stop them at shutdown.

    The predictor is cheap to build (it imports numpy, pandas and LightGBM where it uses them); they are imported
    by ``Predictor.warm_up`` in a worker thread once start-up is done, so the API listens without waiting for them.
    """
    settings = services.settings
    registry = ModelRegistry(settings.model_dir)
    machines = list(services.machines.values())
    training = TrainingJobs(
        settings.database_url, settings.model_dir, machines, settings.train_max_rows, settings.train_jobs_kept
    )
    predictor = Predictor(services.store, registry, machines, time_scale=settings.time_scale, training=training)
    services.predictor = predictor
    services.health_sections["ml"] = lambda: {
        "active_model": registry.active_version(),
        "training_jobs": training.unfinished(),
    }

    async def warm_then_push() -> None:
        await asyncio.to_thread(predictor.warm_up)
        await push_predictions(services, predictor, PREDICTION_INTERVAL_S)

    task = asyncio.get_running_loop().create_task(warm_then_push(), name="ft-ml")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        predictor.close()


def _predictor(services: Services) -> Predictor:
    if services.predictor is None:
        raise HTTPException(503, detail=[{"loc": [], "msg": "the prediction service is not running"}])
    return services.predictor


def _no_model(exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": [], "msg": str(exc)}], "status": "no_model"}, status_code=409)


@router.get(
    "/machines/{machine_id}/prediction",
    response_model=Prediction,
    responses={404: {"description": "no such machine in the layout"}},
)
async def machine_prediction(machine_id: MachineId, services: ServicesDep) -> Prediction:
    """Failure probability within the horizon, RUL with an 80 % interval, likely failure mode and the top
    contributing features. ``status`` is ``no_model`` (with a message) when no model is trained yet."""
    services.machine(machine_id)  # 404 for a machine the layout does not have
    return await _predictor(services).predict(machine_id)


@router.post("/predict", response_model=PredictResponse, responses={409: {"description": "no model trained"}})
async def predict_rows(request: PredictRequest, services: ServicesDep) -> PredictResponse | JSONResponse:
    """Predict raw feature rows (sensor keys such as ``torque``, ``tool_wear``, or the model's feature names)."""
    try:
        return await _predictor(services).predict_rows(request)
    except NoModel as exc:
        return _no_model(exc)


@router.get("/maintenance/schedule", response_model=MaintenancePlan)
async def maintenance_schedule(
    services: ServicesDep,
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
    return await _predictor(services).schedule(cost)


@router.get("/models", response_model=list[ModelVersion])
async def list_models(services: ServicesDep) -> list[ModelVersion]:
    """Every model version in the registry, oldest first, with its headline metrics."""
    return await asyncio.to_thread(_predictor(services).registry.listing)


@router.get("/models/active", response_model=ModelCard, responses={404: {"description": "no model trained yet"}})
async def active_model(services: ServicesDep) -> ModelCard:
    """The model card of the version being served (404 when none)."""
    return await asyncio.to_thread(_predictor(services).registry.card)


@router.post(
    "/models/{version}/activate", response_model=ModelCard, responses={404: {"description": "no such version"}}
)
async def activate_model(
    version: Annotated[str, Path(pattern=VERSION_PATTERN, max_length=13, description="e.g. v0001")],
    services: ServicesDep,
) -> ModelCard:
    """Serve ``version`` from now on."""
    registry = _predictor(services).registry
    await asyncio.to_thread(registry.activate, version)
    return await asyncio.to_thread(registry.card, version)


@router.post(
    "/models/train",
    response_model=TrainJob,
    status_code=202,
    responses={409: {"description": "a training job is already running"}},
)
async def train_model(services: ServicesDep, request: TrainRequest | None = None) -> TrainJob | JSONResponse:
    """Retrain from the twin's stored history in a worker process, one job at a time (409 while one runs);
    poll ``GET /models/train/{job_id}``."""
    try:
        return await _predictor(services).start_training(request or TrainRequest())
    except TrainingBusy as exc:
        body = {"detail": [{"loc": [], "msg": str(exc)}], "job_id": exc.job_id}
        return JSONResponse(body, status_code=409)


@router.get("/models/train/{job_id}", response_model=TrainJob, responses={404: {"description": "no such job"}})
async def training_job(job_id: str, services: ServicesDep) -> TrainJob:
    """State of a training job."""
    job = _predictor(services).jobs.get(job_id)
    if job is None:
        raise NotFound(f"no training job {job_id!r}")
    return job
