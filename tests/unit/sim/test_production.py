"""Parts, scrap and planned breaks in the simulator (sim.production) and its hooks in the engine."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from factorytwin.domain import EventKind, MachineKind, sensor_specs
from factorytwin.sim.engine import Engine
from factorytwin.sim.production import (
    EFFICIENCY_NEW,
    IDEAL_CYCLE_S,
    SCRAP_BASE,
    Production,
    ShiftPlan,
)
from factorytwin.sim.state import RUNNING, STOPPED, SimEvent
from tests.unit.sim.helpers import engine_for, one_machine_layout


def reports(events: list[SimEvent]) -> list[SimEvent]:
    """The production reports among ``events``."""
    return [e for e in events if e.event == "production"]


def press_block(seal_wear: float, hours: int, status: int = RUNNING, speed: float = 100.0) -> list[SimEvent]:
    """``hours`` of a press with constant sensor values (healthy but for ``seal_wear``), stepped in one block."""
    engine = engine_for(MachineKind.HYDRAULIC_PRESS)
    cols = {engine.columns.keys[int(engine.columns.key[c])]: int(c) for c in engine.columns.of_machine(0)}
    specs = sensor_specs(MachineKind.HYDRAULIC_PRESS)
    n = hours * 3600
    values = np.zeros((n, engine.n_columns))
    for key, c in cols.items():
        values[:, c] = (specs[key].normal_low + specs[key].normal_high) / 2
    values[:, cols["vibration"]] = 1.5
    values[:, cols["seal_wear"]] = seal_wear
    production = Production(engine.machine_ids, engine.kinds, engine.columns, engine.epoch_s, seed=3)
    t = np.arange(1, n + 1, dtype=np.float64)
    return production.step(t, 1.0, np.array([status], dtype=np.int8), np.array([speed]), values)


def test_a_running_mill_reports_its_parts_every_hour_with_its_ideal_cycle_time() -> None:
    engine = engine_for(MachineKind.CNC_MILL)
    got = reports(engine.step(1.0, 10 * 3600).events)
    assert [e.t for e in got] == [3600.0 * h for h in range(1, 11)]
    per_hour = 3600 / IDEAL_CYCLE_S[MachineKind.CNC_MILL] * EFFICIENCY_NEW  # 13.95 at new tools
    total = sum(e.data["parts_total"] for e in got)
    assert 10 * per_hour * 0.85 <= total <= 10 * per_hour + 1
    assert all(0 <= e.data["parts_bad"] <= e.data["parts_total"] for e in got)
    assert got[0].data["ideal_cycle_s"] == 240.0
    event = got[0].to_domain(datetime(2025, 1, 1, 1, tzinfo=UTC))
    assert event.kind is EventKind.PRODUCTION
    assert event.data["event"] == "production"


def test_wear_scraps_more_parts() -> None:
    healthy = press_block(seal_wear=0.0, hours=10)
    worn = press_block(seal_wear=70.0, hours=10)  # the top of the seal's normal band: fully worn
    bad = [sum(e.data["parts_bad"] for e in r) / sum(e.data["parts_total"] for e in r) for r in (healthy, worn)]
    assert bad[0] == pytest.approx(SCRAP_BASE, abs=0.003)
    assert bad[1] > 5 * bad[0]
    assert sum(e.data["parts_total"] for e in worn) < sum(e.data["parts_total"] for e in healthy)  # slower too


def test_half_speed_makes_half_the_parts_and_a_stopped_machine_none() -> None:
    full = sum(e.data["parts_total"] for e in press_block(0.0, 4))
    half = sum(e.data["parts_total"] for e in press_block(0.0, 4, speed=50.0))
    assert half == pytest.approx(full / 2, abs=2)
    stopped = press_block(0.0, 4, status=STOPPED)
    assert len(stopped) == 4
    assert all(e.data["parts_total"] == 0 for e in stopped)


def test_machines_without_discrete_parts_report_nothing() -> None:
    for kind in (MachineKind.PUMP, MachineKind.AIR_COMPRESSOR, MachineKind.CONVEYOR):
        assert reports(engine_for(kind).step(1.0, 2 * 3600).events) == []


def test_production_leaves_the_physics_and_its_random_stream_as_they_were() -> None:
    layout = one_machine_layout(MachineKind.CNC_MILL)
    with_parts = Engine(layout, seed=5).step(1.0, 6 * 3600)
    without = Engine(layout, seed=5, production=False).step(1.0, 6 * 3600)
    np.testing.assert_array_equal(with_parts.values, without.values)
    assert [e for e in with_parts.events if e.event != "production"] == without.events


def test_a_shift_plan_stops_running_machines_for_planned_breaks_and_resumes_them() -> None:
    engine = Engine(one_machine_layout(MachineKind.PUMP), seed=2, shifts=ShiftPlan(((10.0, 30.0),)))
    engine.next_pm[:] = np.inf
    frame = engine.step(60.0, 24 * 60)  # a day in minutes, from 2025-01-01T00:00Z
    breaks = [e for e in frame.events if e.event == "status"]
    assert [(e.t, e.status.value, e.data.get("planned")) for e in breaks] == [
        (10 * 3600.0, "stopped", True),
        (10.5 * 3600.0, "running", None),
    ]
    during = (frame.t > 10 * 3600) & (frame.t <= 10.5 * 3600)
    assert (frame.status[during, 0] == STOPPED).all()
    assert (frame.status[~during, 0] == RUNNING).all()
    domain = breaks[0].to_domain(datetime(2025, 1, 1, 10, tzinfo=UTC))
    assert domain.data["planned"] is True
    assert domain.data["reason"] == "break"


def test_announce_tells_every_machines_status_once() -> None:
    engine = engine_for(MachineKind.LATHE)
    engine.announce()
    [event] = engine.step(1.0).events
    assert event.event == "status"
    assert event.status.value == "running"
