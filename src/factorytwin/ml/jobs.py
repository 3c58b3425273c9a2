"""Retraining jobs (``POST /models/train``): one at a time, in a worker process, from a bounded slice of history.

Why a process and not a thread: a fit holds the history as pandas frames plus LightGBM's own buffers, hundreds of
MB for a week of data; in a thread that memory stays in the API process (the allocator rarely gives it back), and
pandas/LightGBM hold the GIL long enough to stall the event loop (10 parallel fits on the loop took 3.5 GB and
stalled ``/health`` 76 s). A spawned process reads the store itself, fits at a lower CPU priority, saves the
version into the registry and exits, so its memory returns to the OS and the API keeps answering.

Bounds: one job runs at a time (another request while one is queued or running is ``TrainingBusy``, 409); the
history read is capped at ``max_rows`` sensor values, newest first (the card says when the cap cut it); the job
list keeps every unfinished job and the ``keep`` newest finished ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factorytwin.domain import Machine
from factorytwin.errors import FactoryTwinError, NotFound
from factorytwin.ml.schema import TrainJob, TrainRequest
from factorytwin.store.base import MAX_LIST_LIMIT, EventQuery, Store, all_events

if TYPE_CHECKING:  # pandas is imported where it is used: the API imports this module before it listens
    import pandas as pd

log = logging.getLogger(__name__)

CHUNK = timedelta(hours=6)
"""History is read backwards in chunks of this span, so the row cap is overshot by at most one chunk."""
WORKER_NICENESS = 10
"""The training process runs at a lower CPU priority than the API (on a small machine both share the cores)."""


class TrainingBusy(FactoryTwinError):
    """A training job is already queued or running (the API answers 409)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"a training job is already running (id {job_id}); poll GET /api/v1/models/train/{job_id} "
            "and retry when it is done"
        )
        self.job_id = job_id


@dataclass(frozen=True)
class TrainTask:
    """What the worker process needs (picklable): where the store and the registry are, and what to learn."""

    database_url: str
    model_dir: Path
    machines: tuple[Machine, ...]
    request: TrainRequest
    max_rows: int


@dataclass(frozen=True)
class TrainOutcome:
    """What the worker process reports back."""

    state: str  # "done" or "failed"
    message: str
    version: str | None = None


async def bounded_history(
    store: Store, machines: Sequence[Machine], days: float, max_rows: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Readings (wide) and events of the last ``days`` of every machine, at most ``max_rows`` sensor values in all
    (split evenly between machines, newest kept). Returns (readings, events, what was read for the model card)."""
    import pandas as pd

    from factorytwin.ml.history import STATUS_KINDS, event_rows, status_at, status_timeline, wide_from_columns

    budget = max(1, max_rows // max(1, len(machines)))
    frames: list[pd.DataFrame] = []
    evs = []
    values_read = 0
    capped: list[str] = []
    for machine in machines:
        latest = await store.latest(machine.id)
        if not latest:
            continue
        end = max(v.ts for v in latest.values()) + timedelta(milliseconds=1)
        start = end - timedelta(days=days)
        parts: list[pd.DataFrame] = []
        n = 0
        chunk_end = end
        while chunk_end > start and n < budget:
            chunk_start = max(start, chunk_end - CHUNK)
            cols = await store.read_range(machine.id, chunk_start, chunk_end)
            n += len(cols)
            if len(cols):
                parts.append(wide_from_columns(cols))
            chunk_end = chunk_start
        if chunk_end > start:
            capped.append(machine.id)
        values_read += n
        # every event of the span read (bounded by it), page by page, and the last status stated before it: the
        # status of the first readings, as the server knows it when it serves them
        query = EventQuery(machine_id=machine.id, start=chunk_end, end=end, limit=MAX_LIST_LIMIT)
        mine = await all_events(store, query)
        mine += await store.events(EventQuery(machine_id=machine.id, end=chunk_end, kinds=list(STATUS_KINDS), limit=1))
        evs.extend(mine)
        if parts:
            wide = pd.concat(parts[::-1], ignore_index=True)
            status = status_at(wide["ts"].to_numpy("int64"), status_timeline(mine))
            frames.append(
                wide.assign(kind=machine.profile, product_type=machine.metadata.get("product_type"), status=status)
            )
    if not frames:
        raise NotFound("the store holds no readings to train on")
    info: dict[str, Any] = {"values_read": values_read, "max_rows": max_rows}
    if capped:
        info["capped_machines"] = capped
    return pd.concat(frames, ignore_index=True), event_rows(evs), info


def fit_and_save(readings: pd.DataFrame, events: pd.DataFrame, task: TrainTask, info: dict[str, Any]) -> TrainOutcome:
    """Fit a history model on ``readings``/``events``, cross-validate it when there are machines enough, and store
    it; it becomes active only if asked and the quality gate lets it (``pipeline.register_gated``)."""
    from factorytwin.ml.pipeline import make_card, register_gated
    from factorytwin.ml.registry import ModelRegistry
    from factorytwin.ml.timeseries import HistorySpec, age_origin_ms, prepare_history
    from factorytwin.ml.training import TrainConfig, cross_validate, fit_bundle

    request = task.request
    spec = HistorySpec(horizon_h=request.horizon_h)
    origins = {m.id: age_origin_ms(m.metadata) for m in task.machines}
    data = prepare_history(readings, events, spec, origins)
    bundle_spec = {"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h}
    bundle = fit_bundle(data, TrainConfig(n_jobs=1), spec={**bundle_spec, "signals": list(spec.signals)})
    # held-out (grouped by machine) figures for the card and the gate; too few machines: nothing to judge
    metrics = (
        cross_validate(data, 3, TrainConfig(n_jobs=1)) if data.groups is not None and len(set(data.groups)) >= 3 else {}
    )
    source = {"source": "twin store history", "days": request.days, **info}
    card = make_card(data, bundle, metrics, "failure within horizon", ["status"], source)
    saved = register_gated(ModelRegistry(task.model_dir), bundle, card, request.activate)
    gating = saved.metrics.get("gating", {})
    verdict = "active" if isinstance(gating, dict) and gating.get("activated") else "NOT active"
    reason = gating.get("reason", "") if isinstance(gating, dict) else ""
    return TrainOutcome("done", f"trained {saved.version}, {verdict}: {reason}", saved.version)


async def _train(task: TrainTask) -> TrainOutcome:
    from factorytwin.store import open_store

    store = open_store(task.database_url)
    await store.open()
    try:
        readings, events, info = await bounded_history(store, task.machines, task.request.days, task.max_rows)
    finally:
        await store.close()
    return await asyncio.to_thread(fit_and_save, readings, events, task, info)


def train_worker(conn: Connection, task: TrainTask) -> None:
    """Entry point of the training process: train, send a ``TrainOutcome`` back, exit."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    try:
        outcome = asyncio.run(_train(task))
    except FactoryTwinError as exc:
        outcome = TrainOutcome("failed", str(exc))
    except Exception as exc:  # a failed fit must end the job with a reason
        outcome = TrainOutcome("failed", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(outcome)
    finally:
        conn.close()


class TrainingJobs:
    """The retraining jobs of one API process (see the module docstring)."""

    def __init__(
        self, database_url: str, model_dir: Path, machines: Sequence[Machine], max_rows: int, keep: int = 20
    ) -> None:
        self.database_url = database_url
        self.model_dir = Path(model_dir)
        self.machines = tuple(machines)
        self.max_rows = max_rows
        self.keep = keep
        self.jobs: OrderedDict[str, TrainJob] = OrderedDict()
        self._current: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._process: BaseProcess | None = None

    def get(self, job_id: str) -> TrainJob | None:
        """A job by id (None when unknown or forgotten)."""
        return self.jobs.get(job_id)

    def unfinished(self) -> int:
        """Jobs queued or running (0 or 1)."""
        return sum(j.state in {"queued", "running"} for j in self.jobs.values())

    def start(self, request: TrainRequest) -> TrainJob:
        """Start a job and return it at once (poll ``get``); ``TrainingBusy`` while another one has not ended."""
        if self._current is not None:
            raise TrainingBusy(self._current)
        job = TrainJob(id=uuid.uuid4().hex[:12], state="queued", started_at=datetime.now(UTC))
        self.jobs[job.id] = job
        self._current = job.id
        self._forget_old()
        task = TrainTask(self.database_url, self.model_dir, self.machines, request, self.max_rows)
        self._task = asyncio.get_running_loop().create_task(self._run(job.id, task), name="ft-train-job")
        return job

    def _forget_old(self) -> None:
        finished = [i for i, j in self.jobs.items() if j.state in {"done", "failed"}]
        for job_id in finished[: max(0, len(finished) - self.keep)]:
            del self.jobs[job_id]

    def _update(self, job_id: str, **changes: Any) -> None:
        self.jobs[job_id] = self.jobs[job_id].model_copy(update=changes)

    async def _run(self, job_id: str, task: TrainTask) -> None:
        self._update(job_id, state="running")
        try:
            outcome = await asyncio.to_thread(self._in_process, task)
        except Exception as exc:  # the process could not even start (no memory, too many processes)
            outcome = TrainOutcome("failed", f"the training process did not start: {type(exc).__name__}: {exc}")
        finally:
            self._current = None
        self._update(
            job_id,
            state=outcome.state,
            message=outcome.message,
            version=outcome.version,
            finished_at=datetime.now(UTC),
        )
        self._forget_old()
        log.info("training job %s: %s", job_id, outcome.message)

    def _in_process(self, task: TrainTask) -> TrainOutcome:
        # spawn, not fork: a fork of the API would copy its threads' locks and the event loop's state
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=train_worker, args=(send, task), name="ft-train", daemon=True)
        process.start()
        send.close()  # only the child holds the sending end: its exit (however it ends) gives EOF here
        self._process = process
        try:
            outcome = receive.recv()
        except EOFError:
            process.join()
            return TrainOutcome("failed", f"the training process ended without a result (exit code {process.exitcode})")
        finally:
            receive.close()
        process.join()
        self._process = None
        assert isinstance(outcome, TrainOutcome)
        return outcome

    def close(self) -> None:
        """Stop a running training process (at shutdown)."""
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
        if self._task is not None:
            self._task.cancel()
