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


def test_visits_beyond_the_technicians_wait_for_one() -> None:
    visits = [{"action": "add", "machine_id": m, "at": "PT2H", "hours": 3} for m in ("mill-01", "mill-02", "press-01")]
    table = check_plan(Plan.model_validate({"technicians": 2, "visits": visits}), FACTS)
    assert table.added_visits == [(7200.0, 0, 3), (7200.0, 1, 3), (18000.0, 2, 3)]  # the third once one is free
    assert len(table.notes) == 1
    assert "visits.2 (press-01) starts at +5 h instead of +2 h: no technician free" in table.notes[0]
    one = check_plan(Plan.model_validate({"technicians": 1, "visits": visits}), FACTS)
    assert [a for a, _, _ in one.added_visits] == [7200.0, 18000.0, 28800.0]


def test_visits_start_only_inside_the_working_hours() -> None:
    # START is Wednesday 12:00 UTC; technicians work 06:00-14:00 on weekdays
    hours = {"from_hour": 6, "to_hour": 14, "weekdays": [0, 1, 2, 3, 4]}
    visits = [
        {"action": "add", "machine_id": "mill-01", "at": "PT1H"},  # 13:00: inside
        {"action": "add", "machine_id": "mill-02", "at": "PT4H"},  # 16:00: waits for Thursday 06:00
        {"action": "move", "machine_id": "press-01", "at": "PT47H"},  # Friday 11:00: inside
    ]
    table = check_plan(Plan.model_validate({"visits": visits, "working_hours": hours}), FACTS)
    assert table.added_visits == [(3600.0, 0, 4.0), (18 * 3600.0, 1, 4.0)]
    assert table.moved_pm == {2: 47 * 3600.0}
    assert table.notes == ["visits.1 (mill-02) starts at +18 h instead of +4 h: outside the working hours"]
    weekend = {"from_hour": 22, "to_hour": 6, "weekdays": [5]}  # Saturday night only: beyond the 48 h horizon
    late = check_plan(Plan.model_validate({"visits": visits[:1], "working_hours": weekend}), FACTS)
    assert late.added_visits == []
    assert "not done" in late.notes[0]


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
