"""Scenario jobs tell their listeners every change of state and progress (the API pushes it on the stream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store
from factorytwin.twin.messages import SERVER_MESSAGES, ScenarioProgressMessage
from factorytwin.whatif.jobs import ScenarioJobs, ScenarioRequest

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SMALL: dict[str, Any] = {"horizon_h": 4, "runs": 4}


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    """An empty store (nothing to fit: every machine forks from default wear)."""
    opened = open_store(sqlite_url)
    await opened.open()
    await opened.register_machines(load_layout().machines)
    try:
        yield opened
    finally:
        await opened.close()


def _jobs(store: Store, **kw: Any) -> tuple[ScenarioJobs, list[ScenarioProgressMessage]]:
    jobs = ScenarioJobs(load_layout(), store, lambda _: None, workers=0, now=lambda: NOW, **kw)
    told: list[ScenarioProgressMessage] = []
    jobs.listeners.append(told.append)
    return jobs, told


def _request(**kw: Any) -> ScenarioRequest:
    return ScenarioRequest.model_validate({"scenarios": [{"name": "a"}], **SMALL, **kw})


async def test_a_job_is_told_queued_running_with_its_fraction_then_done(store: Store) -> None:
    jobs, told = _jobs(store)
    job = jobs.submit(_request(runs=120))  # three chunks of 40 runs: three progress steps
    assert [(m.state, m.progress) for m in told] == [("queued", 0.0)]
    task = jobs.entries[job.id].task
    assert task is not None
    await task
    states = [m.state for m in told]
    assert states[0] == "queued"
    assert states[-1] == "done"
    assert set(states[1:-1]) == {"running"}
    fractions = [m.progress for m in told]
    assert fractions == sorted(fractions)
    assert len({f for f in fractions if 0.0 < f < 1.0}) >= 2  # fractions in between, not only 0 and 1
    assert told[-1].progress == 1.0
    assert told[-1].message.startswith("120 runs in")
    assert {m.job_id for m in told} == {job.id}
    assert told[-1].names == ["a"]
    # The message is one of the stream's own, in the contract.
    parsed = SERVER_MESSAGES.validate_json(told[-1].model_dump_json())
    assert isinstance(parsed, ScenarioProgressMessage)


async def test_a_failing_job_is_told_failed_with_its_reason(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs, told = _jobs(store)

    def broken(*_: Any) -> None:
        raise RuntimeError("no plant")

    monkeypatch.setattr(jobs, "_work", broken)
    job = jobs.submit(_request())
    task = jobs.entries[job.id].task
    assert task is not None
    await task
    assert told[-1].state == "failed"
    assert told[-1].message == "RuntimeError: no plant"
    assert told[-1].progress < 1.0  # a failed job never claims to be done


async def test_a_cancelled_queued_job_is_told_cancelled_and_never_runs(store: Store) -> None:
    jobs, told = _jobs(store, max_queued=2)
    first = jobs.submit(_request())
    second = jobs.submit(_request())
    jobs.cancel(second.id)
    assert [(m.job_id, m.state) for m in told] == [
        (first.id, "queued"),
        (second.id, "queued"),
        (second.id, "cancelled"),
    ]
    for job in (first, second):
        task = jobs.entries[job.id].task
        assert task is not None
        await task
    assert [m.state for m in told if m.job_id == second.id] == ["queued", "cancelled"]


async def test_a_listener_that_raises_does_not_stop_the_job(store: Store) -> None:
    jobs, told = _jobs(store)

    def bad(_: ScenarioProgressMessage) -> None:
        raise ValueError("listener bug")

    jobs.listeners.insert(0, bad)
    job = jobs.submit(_request())
    task = jobs.entries[job.id].task
    assert task is not None
    await task
    assert told[-1].state == "done"


async def test_a_machine_without_physics_is_carried_by_its_survival_model(store: Store) -> None:
    layout = load_layout()
    boiler = layout.machines[0].model_copy(update={"id": "boiler-01", "profile": "boiler"})
    silent = layout.machines[0].model_copy(update={"id": "boiler-02", "profile": "boiler"})
    plant = layout.model_copy(update={"machines": [*layout.machines, boiler, silent]})
    await store.register_machines([boiler, silent])
    fails = [NOW - timedelta(hours=20.0 * k) for k in range(1, 13)]  # a failure every 20 h, back 10 days
    await store.write_events(
        [
            e
            for t in fails
            for e in (
                Event(machine_id="boiler-01", ts=t, kind=EventKind.STATUS, status=MachineStatus.FAILED),
                Event(
                    machine_id="boiler-01",
                    ts=t + timedelta(hours=5),
                    kind=EventKind.STATUS,
                    status=MachineStatus.RUNNING,
                ),
            )
        ]
    )
    jobs = ScenarioJobs(plant, store, lambda _: None, workers=0, now=lambda: NOW)
    plan = {
        "name": "boiler off",
        "out_of_service": [{"machine_id": "boiler-01"}],
        "visits": [{"action": "add", "machine_id": "boiler-02", "at": "PT1H"}],
    }
    job = jobs.submit(ScenarioRequest.model_validate({"scenarios": [plan], "horizon_h": 48, "runs": 8}))
    task = jobs.entries[job.id].task
    assert task is not None
    await task
    done = jobs.get(job.id)
    assert done.state == "done", done.message
    assert done.result is not None
    notes = {n.machine_id: n for n in done.fork}
    assert notes["boiler-01"].kind is None
    assert notes["boiler-01"].wear_source.startswith("survival: Weibull")  # 12 failures: enough for a Weibull
    assert notes["boiler-02"].wear_source.startswith("no history")
    base = {m.machine_id: m for m in done.result.baseline.machines}
    off = {m.machine_id: m for m in done.result.scenarios[0].machines}
    assert "boiler-02" not in base
    assert 1.0 < base["boiler-01"].failures.mean < 4.5  # about 48 h / (15 h of life + 5 h of repair)
    assert off["boiler-01"].failures.high == 0.0
    assert off["boiler-01"].running_h.high == 0.0
    assert done.result.comparisons[0].machine_failures["boiler-01"].mean < 0
    assert done.result.scenarios[0].notes == [
        "boiler-02 has no physics and no stored history: left out, the plan's items for it do nothing"
    ]
