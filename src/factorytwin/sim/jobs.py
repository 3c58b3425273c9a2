"""Operations (jobs) of the machines: drawn ahead for a block, and which one is in progress at each sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from factorytwin.sim.physics import KindModel
from factorytwin.sim.physics.base import RANDOM_FAILURE_PER_OPERATION

F64 = NDArray[np.float64]


@dataclass(slots=True)
class KindGroup:
    """The machines of one kind: their indexes in the engine, their model, constants, state and current job."""

    model: KindModel
    idx: NDArray[np.intp]  # (m,) machine indexes in the engine's order
    cols: NDArray[np.intp]  # (S,) columns of the kind's sensors in all_sensor_keys()
    span: slice  # the group's columns in a frame: machine-major, m x S
    keys: tuple[str, ...]
    noise_sd: F64  # (S,)
    low: F64  # (S,) physical range
    high: F64
    consts: dict[str, F64]
    state: dict[str, F64]
    job: dict[str, F64]  # current job's parameters, (m,) each
    job_start: F64
    job_end: F64


def draw_jobs(rng: np.random.Generator, model: KindModel, consts: dict[str, F64], m: int, k: int) -> dict[str, F64]:
    """``k`` upcoming operations per machine: duration, parameters, and a 0.1 % chance of a random failure."""
    lo, hi = model.job_minutes
    jobs = model.draw_jobs(rng, consts, (m, k))
    jobs["dur"] = rng.uniform(lo * 60.0, hi * 60.0, (m, k))
    unlucky = rng.random((m, k)) < RANDOM_FAILURE_PER_OPERATION
    jobs["rnf_at"] = np.where(unlucky, rng.uniform(0.0, 1.0, (m, k)) * jobs["dur"], np.inf)
    return jobs


def jobs_in_block(
    rng: np.random.Generator, g: KindGroup, t0: float, t: F64, dt: float
) -> tuple[dict[str, F64], NDArray[np.intp], F64, F64]:
    """The current job plus enough new ones to cover samples ``t`` (after ``t0``): (job tables (m, k+1), the job in
    progress at each sample (n, m), its age (n, m), the job start times (m, k+1))."""
    m = len(g.idx)
    span = float(t[-1] - t0) + dt
    k = int(span // (g.model.job_minutes[0] * 60.0)) + 2
    new = draw_jobs(rng, g.model, g.consts, m, k)
    starts_new = g.job_end[:, None] + np.cumsum(new["dur"], axis=1) - new["dur"]
    jobs = {key: np.concatenate([g.job[key][:, None], new[key]], axis=1) for key in new}
    starts = np.concatenate([g.job_start[:, None], starts_new], axis=1)  # (m, k+1)
    idx = (t[:, None, None] >= starts_new[None, :, :]).sum(axis=2)  # (n, m)
    job_age = t[:, None] - starts[np.arange(m)[None, :], idx]
    return jobs, idx, job_age, starts
