"""``KpiService`` on a real SQLite store: what it reads (events, the status before the range, alarms), scopes,
drill-down children, and the input it refuses naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState, Machine, MachineKind
from factorytwin.errors import InvalidInput
from factorytwin.kpi import MAX_BUCKETS, Grouping, KpiQuery, KpiService, Scope
from factorytwin.store import Store, open_store
from tests.unit.kpi.events import at, fault, parts, running

MACHINES = [
    Machine(id="m1", name="Mill 1", profile=MachineKind.CNC_MILL, line="line-a", x=0, y=0),
    Machine(id="m2", name="Mill 2", profile=MachineKind.CNC_MILL, line="line-a", x=1, y=0),
    Machine(id="p1", name="Pump 1", profile=MachineKind.PUMP, line="line-c", x=2, y=0),
]


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    """An open SQLite store with three machines: m1 and m2 on line-a, p1 on line-c."""
    st = open_store(sqlite_url)
    await st.open()
    await st.register_machines(MACHINES)
    try:
        yield st
    finally:
        await st.close()


def alarm(machine: str, hhmm: str) -> Alarm:
    """An active alarm raised at ``hhmm``."""
    ts = at(hhmm)
    return Alarm(
        machine_id=machine,
        type="high:vibration",
        severity=AlarmSeverity.MAJOR,
        state=AlarmState.ACTIVE_UNACK,
        message="vibration high",
        raised_at=ts,
        updated_at=ts,
    )


async def test_plant_line_and_machine_kpis_from_the_stored_events(store: Store) -> None:
    await store.write_events(
        [
            running("06:00", "m1"),  # before the range: m1's status at 10:00
            fault("12:00", "bearing", "m1"),
            running("14:00", "m1"),
            parts("18:00", 240, 12, machine="m1"),
            running("10:00", "m2"),
            parts("18:00", 480, 0, machine="m2"),
            running("07:00", "p1"),
        ]
    )
    for a in (alarm("m1", "11:00"), alarm("m1", "09:00"), alarm("p1", "17:00")):
        await store.save_alarm(a)
    service = KpiService(store, MACHINES, {"line-a": "Line A", "line-c": "Line C"})
    plant = await service.report(KpiQuery(start=at("10:00"), end=at("18:00"), group=Grouping.SHIFT))
    assert plant.machines == ["m1", "m2", "p1"]
    assert plant.total.run_s == 3 * 28_800 - 7_200
    assert plant.total.failures == 1
    assert plant.total.alarms == 2  # the one at 09:00 is before the range
    assert plant.total.parts_total == 720
    assert [b.start.hour for b in plant.buckets] == [10, 14]
    assert [(c.id, c.name) for c in plant.children] == [("line-a", "Line A"), ("line-c", "Line C")]
    line = await service.report(KpiQuery(scope=Scope.LINE, id="line-a", start=at("10:00"), end=at("18:00")))
    assert [c.id for c in line.children] == ["m1", "m2"]
    assert line.total.availability == pytest.approx((28_800 * 2 - 7_200) / (2 * 28_800))
    assert line.total.performance == pytest.approx(60 * (240 + 480) / (21_600 + 28_800))
    mill = await service.report(KpiQuery(scope=Scope.MACHINE, id="m1", start=at("10:00"), end=at("18:00")))
    assert mill.children == []
    assert mill.total.mttr_s == 7_200
    assert mill.total.mtbf_s == 21_600
    assert mill.total.alarms == 1
    assert mill.total.parts_bad == 12
    assert mill.total.performance == pytest.approx(60 * 240 / 21_600)


async def test_the_machines_metadata_gives_the_ideal_cycle_time(store: Store) -> None:
    await store.write_events([running("06:00", "m1"), parts("18:00", 240, 0, ideal_s=None, machine="m1")])
    timed = [m.model_copy(update={"metadata": {"ideal_cycle_s": 60}}) if m.id == "m1" else m for m in MACHINES]
    report = await KpiService(store, timed).report(
        KpiQuery(scope=Scope.MACHINE, id="m1", start=at("10:00"), end=at("18:00"))
    )
    assert report.total.performance == pytest.approx(60 * 240 / 28_800)


async def test_unknown_ids_and_too_fine_a_grouping_are_refused_naming_the_field(store: Store) -> None:
    service = KpiService(store, MACHINES)
    for scope, ident in [(Scope.MACHINE, "nope"), (Scope.LINE, "line-z"), (Scope.LINE, None)]:
        with pytest.raises(InvalidInput) as err:
            await service.report(KpiQuery(scope=scope, id=ident, start=at("10:00"), end=at("18:00")))
        assert err.value.problems[0].loc == ("query", "id")
    long = KpiQuery(start=at("00:00"), end=at("00:00") + timedelta(hours=MAX_BUCKETS), group=Grouping.HOUR)
    with pytest.raises(InvalidInput) as err:
        await service.report(long)
    assert err.value.problems[0].loc == ("query", "group")
    assert str(MAX_BUCKETS) in err.value.problems[0].msg
    ok = await service.report(long.model_copy(update={"group": Grouping.DAY}))
    assert len(ok.buckets) == MAX_BUCKETS // 24 + 1
