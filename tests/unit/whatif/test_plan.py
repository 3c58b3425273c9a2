"""A plan is checked against the plant: every bad item is named; a good one compiles into the engine's timetable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from factorytwin.errors import InvalidInput
from factorytwin.ml.schema import MaintenancePlan, ScheduledTask
from factorytwin.whatif.plan import Plan, PlantFacts, check_plan, plan_from_schedule

START = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
FACTS = PlantFacts(lines={"mill-01": "line-a", "mill-02": "line-a", "press-01": "line-b"}, start=START, horizon_h=48)


def _problems(plan: dict[str, object], facts: PlantFacts = FACTS) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        check_plan(Plan.model_validate(plan), facts)
    return {".".join(str(p) for p in problem.loc): problem.msg for problem in caught.value.problems}


def test_a_good_plan_compiles_to_seconds_and_machine_indexes() -> None:
    plan = Plan.model_validate(
        {
            "speeds": [{"line": "line-a", "speed_pct": 80, "end": "PT24H"}],
            "visits": [
                {"action": "add", "machine_id": "press-01", "at": (START + timedelta(hours=3)).isoformat()},
                {"action": "move", "machine_id": "mill-01", "at": 7200, "hours": 2},
                {"action": "remove", "machine_id": "mill-02"},
            ],
            "out_of_service": [{"machine_id": "press-01", "start": "PT30H"}],
        }
    )
    table = check_plan(plan, FACTS)
    assert table.speeds == [(0.0, 86400.0, 0, 80.0), (0.0, 86400.0, 1, 80.0)]
    assert table.added_visits == [(10800.0, 2, 4.0)]
    assert table.moved_pm == {0: 7200.0}
    assert table.removed_pm == {1}
    assert table.stopped == [(108000.0, 172800.0, 2)]
    assert table.change_times() == [0.0, 10800.0, 86400.0, 108000.0]


def test_unknown_machines_and_lines_are_named() -> None:
    found = _problems(
        {
            "speeds": [{"machine_id": "mill-99", "speed_pct": 50}, {"line": "line-z", "speed_pct": 50}],
            "visits": [{"action": "remove", "machine_id": "ghost"}],
            "out_of_service": [{"machine_id": "nope"}],
        }
    )
    assert set(found) == {"speeds.0.machine_id", "speeds.1.line", "visits.0.machine_id", "out_of_service.0.machine_id"}
    assert "unknown machine 'mill-99'" in found["speeds.0.machine_id"]


def test_times_in_the_past_or_beyond_the_horizon_and_a_horizon_above_the_cap_are_named() -> None:
    past = (START - timedelta(minutes=1)).isoformat()
    found = _problems(
        {
            "visits": [{"action": "add", "machine_id": "mill-01", "at": past}],
            "speeds": [{"machine_id": "mill-01", "speed_pct": 90, "end": "PT49H"}],
        }
    )
    assert "in the past" in found["visits.0.at"]
    assert "beyond the horizon" in found["speeds.0.end"]
    capped = PlantFacts(lines=FACTS.lines, start=START, horizon_h=24 * 91)
    assert "horizon_h" in _problems({}, capped)


def test_visits_beyond_the_technicians_are_named() -> None:
    visits = [{"action": "add", "machine_id": m, "at": "PT2H", "hours": 3} for m in ("mill-01", "mill-02")]
    found = _problems({"technicians": 1, "visits": visits})
    assert list(found) == ["visits.1.at"]
    assert "only 1 technician" in found["visits.1.at"]
    check_plan(Plan.model_validate({"technicians": 2, "visits": visits}), FACTS)  # two technicians: fine


def test_an_interval_must_end_after_it_starts_and_items_need_their_fields() -> None:
    assert "speeds.0.end" in _problems(
        {"speeds": [{"machine_id": "mill-01", "speed_pct": 90, "start": 600, "end": 60}]}
    )
    with pytest.raises(ValidationError):
        Plan.model_validate({"speeds": [{"machine_id": "mill-01", "line": "line-a", "speed_pct": 90}]})
    with pytest.raises(ValidationError):
        Plan.model_validate({"visits": [{"action": "move", "machine_id": "mill-01"}]})
    with pytest.raises(ValidationError):
        Plan.model_validate({"speeds": [{"machine_id": "mill-01", "speed_pct": 130}]})


def test_the_recommended_schedule_is_a_candidate_plan() -> None:
    task = ScheduledTask(
        machine_id="mill-01",
        shift_start=START + timedelta(hours=8),
        shift_index=1,
        hours=3.0,
        probability=0.4,
        risk_if_deferred=100.0,
        reason="r",
    )
    schedule = MaintenancePlan(
        generated_at=START, horizon_h=72, shift_hours=8, technician_hours_per_shift=8, tasks=[task], policies=[]
    )
    plan = plan_from_schedule(schedule)
    assert check_plan(plan, FACTS).added_visits == [(28800.0, 0, 3.0)]


def test_a_task_of_the_shift_under_way_starts_when_the_schedule_was_made() -> None:
    task = ScheduledTask(
        machine_id="mill-01",
        shift_start=START - timedelta(hours=2),
        shift_index=0,
        hours=3.0,
        probability=0.4,
        risk_if_deferred=100.0,
        reason="r",
    )
    schedule = MaintenancePlan(
        generated_at=START, horizon_h=72, shift_hours=8, technician_hours_per_shift=8, tasks=[task], policies=[]
    )
    assert check_plan(plan_from_schedule(schedule), FACTS).added_visits == [(0.0, 0, 3.0)]
