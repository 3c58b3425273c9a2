"""What-if scenarios: ``POST /scenarios`` (plans -> a job, 202), the list, one job with its results, cancel.

A job forks the twin's present (``whatif.source``: what is estimated is listed in each job's ``fork``), simulates
the baseline and each plan ``runs`` times over the horizon in worker processes and compares them. At most
``whatif_max_running`` jobs run and ``whatif_max_queued`` wait; beyond that 429.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from factorytwin.api.auth import Engineer, Viewer
from factorytwin.api.deps import ServicesDep
from factorytwin.api.errors import ErrorBody, Problem
from factorytwin.errors import FieldProblem, InvalidInput, ServiceUnavailable
from factorytwin.whatif.jobs import ScenarioJob, ScenarioJobs, ScenarioRequest, ScenariosBusy, ScenarioSummary

router = APIRouter(tags=["scenarios"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", max_length=12, description="the job id POST returned")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such job (or forgotten)", "model": ErrorBody}}


async def get_scenarios(services: ServicesDep) -> ScenarioJobs:
    """FastAPI dependency: the scenario jobs; 503 when they are not running."""
    if services.scenarios is None:
        raise ServiceUnavailable("what-if scenarios are not running")
    return services.scenarios


ScenariosDep = Annotated[ScenarioJobs, Depends(get_scenarios)]


@router.post(
    "/scenarios",
    response_model=ScenarioJob,
    status_code=202,
    responses={429: {"description": "too many scenario jobs queued", "model": ErrorBody}},
)
async def create_scenario(body: ScenarioRequest, jobs: ScenariosDep, who: Engineer) -> ScenarioJob | JSONResponse:
    """Queue a what-if job: each plan against the baseline, ``runs`` Monte-Carlo runs over ``horizon_h``; poll
    ``GET /scenarios/{id}``. A plan naming an unknown machine or line, a time in the past or beyond the horizon,
    or visits beyond the technicians is 422 naming the item."""
    try:
        return jobs.submit(body)
    except InvalidInput as exc:  # named like pydantic's own errors of the body
        raise InvalidInput([FieldProblem(("body", *p.loc), p.msg, p.value) for p in exc.problems]) from None
    except ScenariosBusy as exc:
        body_429 = ErrorBody(detail=[Problem(loc=[], msg=str(exc))])
        return JSONResponse(body_429.model_dump(mode="json"), status_code=429, headers={"Retry-After": "10"})


@router.get("/scenarios", response_model=list[ScenarioSummary])
async def list_scenarios(jobs: ScenariosDep, who: Viewer) -> list[ScenarioSummary]:
    """Every scenario job remembered (unfinished ones and the newest finished), oldest first, without results."""
    return jobs.listing()


@router.get("/scenarios/{job_id}", response_model=ScenarioJob, responses=NOT_FOUND)
async def get_scenario(job_id: JobId, jobs: ScenariosDep, who: Viewer) -> ScenarioJob:
    """A job: state, progress, how its fork was built and, once done, its results and comparisons."""
    return jobs.get(job_id)


@router.delete("/scenarios/{job_id}", response_model=ScenarioJob, responses=NOT_FOUND)
async def delete_scenario(job_id: JobId, jobs: ScenariosDep, who: Engineer) -> ScenarioJob:
    """Cancel a queued or running job (it stays listed as ``cancelled``), or forget a finished one."""
    return jobs.cancel(job_id)
