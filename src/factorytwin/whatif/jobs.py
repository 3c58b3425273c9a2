"""Scenario jobs of the API (``POST /scenarios``): queued, at most ``max_running`` at once, each in a worker thread
that fits the fork in a process pool and runs the Monte-Carlo chunks in worker processes (``run``), so neither the
fits nor the runs hold the API process's GIL for long.

Bounds: ``max_running`` jobs run at once, ``max_queued`` more wait (beyond that ``ScenariosBusy``: 429); the job
list keeps every unfinished job and the ``keep`` newest finished ones. ``cancel`` stops a queued or running job
(state ``cancelled``); a finished one is forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from factorytwin.domain import FactoryLayout, Machine
from factorytwin.errors import FactoryTwinError, FieldProblem, InvalidInput, NotFound
from factorytwin.store.base import Store
from factorytwin.twin.messages import MachineState, ScenarioJobState, ScenarioProgressMessage
from factorytwin.whatif.plan import MAX_HORIZON_H, Plan, PlantFacts, Timetable, check_plan
from factorytwin.whatif.results import WhatIfResult
from factorytwin.whatif.source import (
    ForkNote,
    MachineInput,
    build_snapshot,
    collect_history,
    collect_inputs,
    survival_notes,
)

log = logging.getLogger(__name__)

JobState = ScenarioJobState
JobListener = Callable[[ScenarioProgressMessage], None]
"""Told every change of a job's state or progress (on the event loop; quick: it must not wait)."""
MAX_SCENARIOS = 4
MAX_RUNS = 1000


class ScenariosBusy(FactoryTwinError):
    """Too many scenario jobs are queued (the API answers 429)."""


class ScenarioRequest(BaseModel):
    """A what-if job: one or more plans, each compared with the baseline (the plant as it goes, no changes)."""

    model_config = ConfigDict(extra="forbid")

    scenarios: list[Plan] = Field(min_length=1, max_length=MAX_SCENARIOS)
    # Strict: "14" or 3.0 is a wrong type, named in the 422, not silently converted.
    horizon_h: StrictFloat | StrictInt = Field(default=14 * 24.0, gt=0, le=MAX_HORIZON_H, description="hours ahead")
    runs: StrictInt = Field(default=200, ge=2, le=MAX_RUNS, description="Monte-Carlo runs per scenario")
    seed: StrictInt = Field(default=0, ge=0, le=2**31 - 1)


class ScenarioSummary(BaseModel):
    """A job without its results (the list)."""

    id: str
    state: JobState
    progress: float = Field(ge=0.0, le=1.0)
    names: list[str]
    horizon_h: float
    runs: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""


class ScenarioJob(ScenarioSummary):
    """A job, how its fork was built, and its results once done."""

    fork: list[ForkNote] = Field(default_factory=list)
    result: WhatIfResult | None = Field(default=None, description="once done")


@dataclass
class _Entry:
    job: ScenarioJob
    request: ScenarioRequest
    tables: list[tuple[str, Timetable]]
    baseline: Timetable
    now: datetime
    cancel: threading.Event
    task: asyncio.Task[None] | None = None


class ScenarioJobs:
    """The scenario jobs of one API process (see the module docstring)."""

    def __init__(
        self,
        layout: FactoryLayout,
        store: Store,
        live: Callable[[str], MachineState | None],
        *,
        max_running: int = 1,
        max_queued: int = 4,
        workers: int = 2,
        keep: int = 20,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.layout = layout
        self.store = store
        self.live = live
        self.max_running, self.max_queued, self.workers, self.keep = max_running, max_queued, workers, keep
        self.now = now
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self._slots = asyncio.Semaphore(max_running)
        self.listeners: list[JobListener] = []
        # The jobs' own threads run at a lower CPU priority, and so does every process they start (on Linux the
        # nice value is per thread and inherited): the spawned workers' start-up (imports, the snapshot) too.
        self._threads = ThreadPoolExecutor(max_running, thread_name_prefix="ft-whatif", initializer=_lower_priority)

    @property
    def machines(self) -> Sequence[Machine]:
        """The machines the simulator steps."""
        return self.layout.simulated().machines

    @property
    def carried(self) -> Sequence[Machine]:
        """The machines without physics (user profiles), carried by survival models (``whatif.survival``); in the
        timetables their indexes follow the simulated machines'."""
        simulated = {m.id for m in self.machines}
        return [m for m in self.layout.machines if m.id not in simulated]

    def listing(self) -> list[ScenarioSummary]:
        """Every job remembered, oldest first."""
        return [
            ScenarioSummary.model_validate(e.job.model_dump(exclude={"fork", "result"})) for e in self.entries.values()
        ]

    def get(self, job_id: str) -> ScenarioJob:
        """A job by id; ``NotFound`` when unknown or forgotten."""
        entry = self.entries.get(job_id)
        if entry is None:
            raise NotFound(f"no scenario job {job_id!r}")
        return entry.job

    def unfinished(self) -> int:
        """Jobs queued or running."""
        return sum(e.job.state in {"queued", "running"} for e in self.entries.values())

    def submit(self, request: ScenarioRequest) -> ScenarioJob:
        """Check the plans against the plant now and queue the job; ``InvalidInput`` naming each bad item,
        ``ScenariosBusy`` when ``max_running + max_queued`` jobs are unfinished."""
        now = self.now()
        facts = PlantFacts(
            lines={m.id: m.line for m in [*self.machines, *self.carried]}, start=now, horizon_h=request.horizon_h
        )
        problems: list[FieldProblem] = []
        tables: list[tuple[str, Timetable]] = []
        for k, plan in enumerate(request.scenarios):
            try:
                tables.append((plan.name, check_plan(plan, facts)))
            except InvalidInput as exc:
                problems += [FieldProblem(("scenarios", k, *p.loc), p.msg, p.value) for p in exc.problems]
        if problems:
            raise InvalidInput(problems)
        if self.unfinished() >= self.max_running + self.max_queued:
            raise ScenariosBusy(
                f"{self.unfinished()} scenario jobs are queued or running (at most {self.max_running} run and "
                f"{self.max_queued} wait); retry when one is done"
            )
        job = ScenarioJob(
            id=uuid.uuid4().hex[:12],
            state="queued",
            progress=0.0,
            names=[name for name, _ in tables],
            horizon_h=request.horizon_h,
            runs=request.runs,
            created_at=now,
            message="queued",
        )
        entry = _Entry(job, request, tables, check_plan(Plan(name="baseline"), facts), now, threading.Event())
        self.entries[job.id] = entry
        self._tell(job)
        self._forget_old()
        entry.task = asyncio.get_running_loop().create_task(self._run(entry), name=f"ft-whatif-{job.id}")
        return job

    def cancel(self, job_id: str) -> ScenarioJob:
        """Cancel a queued or running job (it ends ``cancelled``); forget a finished one. Returns the job."""
        entry = self.entries.get(job_id)
        if entry is None:
            raise NotFound(f"no scenario job {job_id!r}")
        if entry.job.state in {"queued", "running"}:
            entry.cancel.set()
            self._update(entry, state="cancelled", message="cancelled", finished_at=self.now())
        else:
            del self.entries[job_id]
        return entry.job

    def _update(self, entry: _Entry, **changes: Any) -> None:
        before = entry.job
        entry.job = before.model_copy(update=changes)
        if (entry.job.state, entry.job.progress, entry.job.message) != (before.state, before.progress, before.message):
            self._tell(entry.job)

    def _tell(self, job: ScenarioJob) -> None:
        message = ScenarioProgressMessage(
            job_id=job.id,
            state=job.state,
            progress=job.progress,
            message=job.message,
            names=job.names,
            updated_at=self.now(),
        )
        for listener in list(self.listeners):
            try:
                listener(message)
            except Exception:  # a listener's fault must not stop the job
                log.exception("scenario job listener failed")

    def _forget_old(self) -> None:
        finished = [i for i, e in self.entries.items() if e.job.state not in {"queued", "running"}]
        for job_id in finished[: max(0, len(finished) - self.keep)]:
            del self.entries[job_id]

    async def _run(self, entry: _Entry) -> None:
        async with self._slots:
            if entry.cancel.is_set():
                return
            self._update(entry, state="running", started_at=self.now(), message="reading the twin's present")
            loop = asyncio.get_running_loop()

            def progress(fraction: float) -> None:
                loop.call_soon_threadsafe(self._progress, entry, fraction)

            try:
                inputs = await collect_inputs(self.store, self.machines, self.live, entry.now)
                history = await collect_history(self.store, self.carried, entry.now)
                notes, result = await loop.run_in_executor(self._threads, self._work, entry, inputs, history, progress)
            except Exception as exc:  # a failed job ends with its reason; the API keeps serving
                if entry.job.state == "running":
                    cancelled = entry.cancel.is_set()
                    self._update(
                        entry,
                        state="cancelled" if cancelled else "failed",
                        finished_at=self.now(),
                        message="cancelled" if cancelled else f"{type(exc).__name__}: {exc}",
                    )
                log.info("scenario job %s: %s", entry.job.id, entry.job.message)
                return
            if entry.job.state == "running":
                self._update(
                    entry,
                    state="done",
                    progress=1.0,
                    finished_at=self.now(),
                    fork=notes,
                    result=result,
                    message=f"{entry.request.runs} runs in {result.wall_s:.1f} s",
                )
            self._forget_old()

    def _progress(self, entry: _Entry, fraction: float) -> None:
        if entry.job.state == "running":
            self._update(entry, progress=round(0.1 + 0.9 * fraction, 4), message="simulating")

    def _work(
        self,
        entry: _Entry,
        inputs: list[MachineInput],
        history: dict[str, list[tuple[str, int, str, str]]],
        progress: Callable[[float], None],
    ) -> tuple[Any, Any]:
        from factorytwin.whatif.run import run_whatif

        request = entry.request
        if self.workers > 0:
            import multiprocessing

            with ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
            ) as pool:
                snapshot, notes = build_snapshot(self.layout, inputs, entry.now, request.seed, pool)
        else:
            snapshot, notes = build_snapshot(self.layout, inputs, entry.now, request.seed)
        fits, carried_notes = survival_notes(self.carried, history, self.live, entry.now)
        first = len(self.machines)
        carried = [(first + k, fits[m.id]) for k, m in enumerate(self.carried) if m.id in fits]
        missing = {first + k: m.id for k, m in enumerate(self.carried) if m.id not in fits}
        tables = [(name, _unmodelled(table, missing)) for name, table in entry.tables]
        progress(0.0)
        result = run_whatif(
            snapshot,
            tables,
            entry.baseline,
            request.runs,
            seed=request.seed,
            workers=self.workers,
            progress=progress,
            cancel=entry.cancel,
            started_at=entry.now,
            carried=carried,
        )
        return [*notes, *carried_notes], result

    async def close(self) -> None:
        """Cancel every unfinished job (at shutdown) and wait for their threads to notice."""
        tasks = []
        for entry in self.entries.values():
            entry.cancel.set()
            if entry.task is not None:
                tasks.append(entry.task)
        for task in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10.0)
        self._threads.shutdown(wait=False)


def _lower_priority() -> None:
    with contextlib.suppress(OSError):
        os.nice(10)


def _unmodelled(table: Timetable, missing: dict[int, str]) -> Timetable:
    """``table`` with a note for each machine it names that has no model (no physics and no history)."""
    named = {i for _, _, i, _ in table.speeds} | {i for _, i, _ in table.added_visits} | set(table.moved_pm)
    named |= {i for _, _, i in table.stopped}
    notes = [
        f"{missing[i]} has no physics and no stored history: left out, the plan's items for it do nothing"
        for i in sorted(named & set(missing))
    ]
    return replace(table, notes=[*table.notes, *notes]) if notes else table
