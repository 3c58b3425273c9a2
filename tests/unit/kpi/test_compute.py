"""The KPI arithmetic against hand-computed cases (every expected figure is worked out in the comments)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.kpi.compute import (
    NO_COUNTERS,
    NO_FAILURES,
    NO_IDEAL,
    NO_PLANNED,
    UNKNOWN_TIME,
    Tally,
    bucket_edges,
    figures,
    tally_machine,
)
from factorytwin.kpi.models import Grouping, KpiFigures
from factorytwin.kpi.timeline import counts, initial_mark, status_marks, to_ms
from tests.unit.kpi.events import at, ev, fault, parts, running

# A shift of one machine, 10:00-18:00 (28,800 s), the machine running since 09:00:
#   11:00-12:00 failed (bearing)            3,600 s unplanned downtime, 1 failure
#   13:00-13:30 stopped, planned break      1,800 s planned stop (not production time)
#   15:00-16:00 preventive maintenance      3,600 s unplanned downtime
# planned = 28,800 - 1,800 = 27,000 s; downtime = 7,200 s; run = 19,800 s
# parts: 100 (5 bad) reported at 14:00, 150 (5 bad) at 18:00; ideal cycle 60 s
SHIFT = [
    running("09:00"),
    fault("11:00", "bearing"),
    running("12:00"),
    ev("13:00", EventKind.STATUS, MachineStatus.STOPPED, planned=True, reason="break"),
    running("13:30"),
    ev("15:00", EventKind.MAINTENANCE, MachineStatus.MAINTENANCE, reason="preventive"),
    running("16:00"),
    parts("14:00", 100, 5),
    parts("18:00", 150, 5),
]


def kpis(
    events: Sequence[Event],
    start: str = "10:00",
    end: str = "18:00",
    group: Grouping = Grouping.NONE,
    ideal_cycle_s: float | None = None,
    alarms: Sequence[str] = (),
    time_scale: float = 1.0,
) -> list[KpiFigures]:
    """Figures per bucket of one machine's ``events``, as the service computes them."""
    a, b = at(start), at(end)
    before = [e for e in events if e.ts < a][::-1]
    inside = [e for e in events if a <= e.ts < b]
    initial = initial_mark(before)
    marks = status_marks(inside, initial.status if initial else None)
    reports = [c for c in counts(events) if to_ms(a) < c.ts_ms <= to_ms(b)]
    edges = bucket_edges(a, b, group)
    tallies = tally_machine(
        [to_ms(e) for e in edges], marks, initial, reports, [to_ms(at(x)) for x in alarms], ideal_cycle_s
    )
    return [figures(t, edges[i], edges[i + 1], time_scale) for i, t in enumerate(tallies)]


def test_a_shift_with_a_failure_a_break_and_a_maintenance() -> None:
    [f] = kpis(SHIFT, alarms=["10:30", "11:00", "17:59"])
    assert f.range_s == 28_800
    assert f.planned_stop_s == 1_800
    assert f.planned_s == 27_000
    assert f.run_s == 19_800
    assert f.downtime_s == 7_200
    assert f.availability == pytest.approx(19_800 / 27_000)  # 0.733
    assert f.parts_total == 250
    assert f.parts_good == 240
    assert f.parts_bad == 10
    assert f.performance == pytest.approx(60 * 250 / 19_800)  # 0.758
    assert f.quality == pytest.approx(240 / 250)  # 0.96
    assert f.oee == pytest.approx(60 * 240 / 27_000)  # 0.533
    assert f.availability is not None
    assert f.performance is not None
    assert f.quality is not None
    assert f.oee == pytest.approx(f.availability * f.performance * f.quality)
    assert f.performance_loss_s == pytest.approx(19_800 - 15_000)
    assert f.quality_loss_s == pytest.approx(60 * 10)
    assert f.failures == 1
    assert f.alarms == 3
    assert f.mtbf_s == 19_800  # run time / 1 failure
    assert f.mttr_s == 3_600
    assert [(d.cause, d.category, d.seconds, d.stops) for d in f.downtime] == [
        ("failure:bearing", "failure", 3_600, 1),
        ("maintenance:preventive", "maintenance", 3_600, 1),
    ]
    assert f.notes == []


def test_a_compressed_clock_reports_durations_in_machine_time_and_a_true_performance() -> None:
    # The shift above through a simulator at 60x: its events 60 times closer together in wall time (10:00-10:08),
    # the same parts made in them. Read at 60x it is the same shift; read at 1x performance looks 60 times higher.
    t0 = at("10:00")
    squeezed = [e.model_copy(update={"ts": t0 + (e.ts - t0) / 60}) for e in SHIFT]
    [f] = kpis(squeezed, end="10:08", ideal_cycle_s=60, time_scale=60)
    assert f.range_s == pytest.approx(28_800)  # 8 machine hours
    assert f.planned_s == pytest.approx(27_000)
    assert f.run_s == pytest.approx(19_800)
    assert f.mtbf_s == pytest.approx(19_800)
    assert f.mttr_s == pytest.approx(3_600)
    assert [d.seconds for d in f.downtime] == pytest.approx([3_600, 3_600])
    assert f.performance == pytest.approx(60 * 250 / 19_800)
    assert f.oee == pytest.approx(60 * 240 / 27_000)
    assert f.performance_loss_s == pytest.approx(19_800 - 15_000)
    [wall] = kpis(squeezed, end="10:08", ideal_cycle_s=60)
    assert wall.performance == pytest.approx(60 * 60 * 250 / 19_800)


def test_hourly_buckets_split_the_shift_and_a_report_closes_the_hour_it_ends() -> None:
    hours = kpis(SHIFT, group=Grouping.HOUR)
    assert [h.start.hour for h in hours] == list(range(10, 18))
    by_hour = {h.start.hour: h for h in hours}
    assert by_hour[11].availability == 0.0
    assert by_hour[11].failures == 1
    assert by_hour[11].mttr_s == 3_600
    assert by_hour[13].planned_s == 1_800
    assert by_hour[13].availability == 1.0
    assert by_hour[13].parts_total == 100  # reported at 14:00: made in 13:00-14:00 (and before)
    assert by_hour[14].parts_total is None  # no report closes 14:00-15:00: unknown, not zero
    assert by_hour[17].parts_total == 150
    assert by_hour[10].parts_total is None  # no report closes 10:00-11:00: unknown, not zero
    assert by_hour[10].notes == [NO_COUNTERS, NO_FAILURES]
    assert sum(h.run_s for h in hours) == 19_800


def test_a_machine_that_never_fails_has_no_mtbf_rather_than_infinity() -> None:
    [f] = kpis([running("08:00")])
    assert f.failures == 0
    assert f.mtbf_s is None
    assert f.mttr_s is None
    assert f.availability == 1.0
    assert f.performance is None  # no part counters: unknown, never invented
    assert f.quality is None
    assert f.oee is None
    assert f.parts_total is None
    assert f.notes == [NO_COUNTERS, NO_FAILURES]


def test_a_range_with_no_planned_time_has_no_availability_or_oee() -> None:
    events = [ev("09:00", EventKind.STATUS, MachineStatus.STOPPED, planned=True, reason="no orders")]
    [f] = kpis([*events, parts("18:00", 0, 0)])
    assert f.planned_s == 0
    assert f.planned_stop_s == 28_800
    assert f.availability is None
    assert f.oee is None
    assert f.performance is None  # no run time
    assert f.quality is None  # no parts
    assert NO_PLANNED in f.notes


def test_time_before_any_status_is_unknown_and_not_production_time() -> None:
    [f] = kpis([running("12:00")])
    assert f.unknown_s == 7_200
    assert f.planned_s == 21_600
    assert f.availability == 1.0
    assert UNKNOWN_TIME in f.notes
    [nothing] = kpis([])
    assert nothing.planned_s == 0
    assert nothing.availability is None


def test_a_failure_begun_before_the_range_counts_its_repair_but_not_as_a_failure() -> None:
    # failed since 09:00 (overheating), repaired 10:30: 1,800 s failed in the range, 0 failures started in it
    [f] = kpis([running("08:00"), fault("09:00", "overheating"), running("10:30")])
    assert f.failures == 0
    assert f.mtbf_s is None
    assert f.mttr_s == 1_800
    assert f.downtime[0].cause == "failure:overheating"
    assert f.downtime[0].stops == 0  # the stretch started before the range


def test_a_failure_across_an_hour_is_one_failure_and_an_episode_in_each_hour() -> None:
    events = [running("09:00"), fault("11:30", "tool_wear"), running("12:30")]
    hours = {h.start.hour: h for h in kpis(events, group=Grouping.HOUR)}
    assert hours[11].failures == 1
    assert hours[12].failures == 0
    assert hours[11].mttr_s == 1_800
    assert hours[12].mttr_s == 1_800
    [total] = kpis(events)
    assert total.mttr_s == 3_600
    assert total.mtbf_s == 28_800 - 3_600


def test_a_fault_and_the_status_change_it_causes_are_one_failure() -> None:
    again = ev("11:00", EventKind.STATUS, MachineStatus.FAILED)
    [f] = kpis([running("09:00"), fault("11:00", "power"), again, running("11:15")])
    assert f.failures == 1
    assert [d.cause for d in f.downtime] == ["failure:power"]


def test_idle_stopped_by_command_and_offline_are_downtime_by_cause() -> None:
    events = [
        running("09:00"),
        ev("10:00", EventKind.STATUS, MachineStatus.IDLE),
        ev("11:00", EventKind.COMMAND, MachineStatus.STOPPED, command="stop"),
        ev("11:00", EventKind.STATUS, MachineStatus.STOPPED),  # the command's status event: same stretch
        ev("12:00", EventKind.STATUS, MachineStatus.OFFLINE),
        running("13:00"),
    ]
    [f] = kpis(events)
    assert {d.cause: d.seconds for d in f.downtime} == {"idle": 3_600, "stop:command": 3_600, "offline": 3_600}
    assert f.availability == pytest.approx(5 / 8)


def test_the_machines_ideal_cycle_time_overrides_the_reports_and_none_means_unknown() -> None:
    events = [running("09:00"), parts("18:00", 400, 0, ideal_s=None)]
    [unknown] = kpis(events)
    assert unknown.parts_total == 400
    assert unknown.quality == 1.0
    assert unknown.performance is None
    assert unknown.oee is None
    assert NO_IDEAL in unknown.notes
    [known] = kpis(events, ideal_cycle_s=36.0)
    assert known.performance == pytest.approx(36 * 400 / 28_800)  # 0.5


def test_a_line_sums_times_and_parts_and_rates_performance_over_counting_machines_only() -> None:
    a = kpis([running("09:00"), parts("18:00", 240, 24, ideal_s=60)])[0]  # 8 h run, 4 h ideal
    tallies = []
    for events in ([running("09:00"), parts("18:00", 240, 24, ideal_s=60)], [running("09:00"), fault("14:00", "x")]):
        before = [e for e in events if e.ts < at("10:00")][::-1]
        initial = initial_mark(before)
        inside = [e for e in events if at("10:00") <= e.ts < at("18:00")]
        reports = [c for c in counts(events) if c.ts_ms > to_ms(at("10:00"))]
        [t] = tally_machine(
            [to_ms(at("10:00")), to_ms(at("18:00"))],
            status_marks(inside, initial.status if initial else None),
            initial,
            reports,
            [],
        )
        tallies.append(t)
    line = Tally()
    for t in tallies:
        line.add(t)
    f = figures(line, at("10:00"), at("18:00"))
    assert f.planned_s == 2 * 28_800
    assert f.run_s == 28_800 + 14_400
    assert f.availability == pytest.approx(43_200 / 57_600)  # 0.75 over both machines
    assert f.performance == pytest.approx(a.performance)  # 0.5: the machine with counters only
    assert f.quality == pytest.approx(0.9)
    assert f.oee == pytest.approx(60 * 216 / 28_800)  # over the counting machine's planned time
    assert f.failures == 1
    assert f.mtbf_s == 43_200


def test_shift_and_day_buckets_are_aligned_to_utc_and_clipped_to_the_range() -> None:
    edges = bucket_edges(at("05:00"), at("23:00"), Grouping.SHIFT)
    assert [e.hour for e in edges] == [5, 6, 14, 22, 23]
    days = bucket_edges(at("10:00"), at("10:00", day=1), Grouping.DAY)
    assert days == [at("10:00"), at("00:00", day=1), at("10:00", day=1)]
    assert bucket_edges(at("10:00"), at("11:00"), Grouping.NONE) == [at("10:00"), at("11:00")]
    assert bucket_edges(at("10:00"), at("11:00"), Grouping.HOUR) == [at("10:00"), at("11:00")]
