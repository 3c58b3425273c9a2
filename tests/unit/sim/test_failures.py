"""Each failure mechanism fires under the conditions that cause it, and not without them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from factorytwin.domain import FailureMode, MachineKind
from factorytwin.sim.engine import Engine
from factorytwin.sim.state import FAILED, RUNNING

from .helpers import engine_for, failures, group, hold_job


@dataclass(frozen=True)
class Case:
    """A machine set up with (cause=True) or without (cause=False) the cause of ``mode``."""

    kind: MachineKind
    mode: FailureMode
    setup: Callable[[Engine, bool], None]
    hours: float = 1.0


def _mill_hdf(e: Engine, cause: bool) -> None:
    # Low speed and a small process-air difference (AI4I: < 8.6 K and < 1380 rpm).
    hold_job(e, speed_rpm=1300.0 if cause else 1500.0, power_w=6000.0, delta_t=7.5)
    group(e).state["delta_t"][0] = 7.5


def _mill_pwf(e: Engine, cause: bool) -> None:
    hold_job(e, speed_rpm=1600.0, power_w=9400.0 if cause else 6300.0)


def _mill_pwf_low(e: Engine, cause: bool) -> None:
    hold_job(e, speed_rpm=1600.0, power_w=6300.0)
    e.speed_pct[0] = 50.0 if cause else 100.0  # the torque stays, so the power halves: below 3500 W


def _mill_osf(e: Engine, cause: bool) -> None:
    # Same worn tool, same torque (~56 Nm at 215 min): 12,000 min*Nm breaks an L tool, not an H one.
    hold_job(e, speed_rpm=1450.0, power_w=7500.0)
    g = group(e)
    g.state["tool_wear"][0] = 215.0
    g.state["twf_at"][0] = 1e9
    g.state["change_at"][0] = 1e9


def _mill_twf(e: Engine, cause: bool) -> None:
    hold_job(e, speed_rpm=1620.0, power_w=6300.0)
    g = group(e)
    g.state["tool_wear"][0] = 210.0
    g.state["twf_at"][0] = 212.0 if cause else 1e9
    g.state["change_at"][0] = 1e9


def _random(e: Engine, cause: bool) -> None:
    hold_job(e)
    group(e).job["rnf_at"][0] = 600.0 if cause else np.inf


def _bearing(e: Engine, cause: bool) -> None:
    hold_job(e)
    group(e).state["bearing"][0] = 0.9995 if cause else 0.2


def _press_overpressure(e: Engine, cause: bool) -> None:
    hold_job(e, force_kn=1300.0, rate=18.0, misfeed_at=300.0 if cause else np.inf, misfeed_x=2.5)


def _press_seal(e: Engine, cause: bool) -> None:
    hold_job(e, force_kn=1300.0, rate=18.0, misfeed_at=np.inf)
    g = group(e)
    g.state["seal_wear"][0] = 89.99 if cause else 60.0
    g.state["seal_fail_at"][0] = 90.0


def _press_overheat(e: Engine, cause: bool) -> None:
    hold_job(e, force_kn=1500.0, rate=22.0, misfeed_at=np.inf)
    group(e).state["fouling"][0] = 2.0 if cause else 0.0


def _pump_cavitation(e: Engine, cause: bool) -> None:
    hold_job(e, demand=0.95)
    group(e).state["clog"][0] = 1.3 if cause else 0.0


def _compressor_overheat(e: Engine, cause: bool) -> None:
    hold_job(e, demand=0.9)
    group(e).state["fouling"][0] = 1.6 if cause else 0.0


def _conveyor_belt(e: Engine, cause: bool) -> None:
    hold_job(e, load_kg=600.0)
    group(e).state["belt"][0] = 0.9999 if cause else 0.3


def _conveyor_overheat(e: Engine, cause: bool) -> None:
    # A worn belt's friction under a heavy load at 120 %: the drive current heats the motor past its trip.
    hold_job(e, load_kg=1200.0 if cause else 500.0)
    group(e).state["belt"][0] = 0.95 if cause else 0.2
    e.speed_pct[0] = 120.0 if cause else 100.0


def _robot_joint(e: Engine, cause: bool) -> None:
    hold_job(e, cycle_s=35.0, torque_nm=160.0)
    group(e).state["joint"][0] = 0.9999 if cause else 0.3


CASES = [
    Case(MachineKind.CNC_MILL, FailureMode.HEAT_DISSIPATION, _mill_hdf),
    Case(MachineKind.CNC_MILL, FailureMode.POWER, _mill_pwf),
    Case(MachineKind.CNC_MILL, FailureMode.POWER, _mill_pwf_low),
    Case(MachineKind.CNC_MILL, FailureMode.TOOL_WEAR, _mill_twf),
    Case(MachineKind.CNC_MILL, FailureMode.RANDOM, _random),
    Case(MachineKind.CNC_MILL, FailureMode.BEARING, _bearing),
    Case(MachineKind.LATHE, FailureMode.TOOL_WEAR, _mill_twf),
    Case(MachineKind.HYDRAULIC_PRESS, FailureMode.OVERPRESSURE, _press_overpressure),
    Case(MachineKind.HYDRAULIC_PRESS, FailureMode.SEAL_WEAR, _press_seal),
    Case(MachineKind.HYDRAULIC_PRESS, FailureMode.OVERHEATING, _press_overheat, hours=4.0),
    Case(MachineKind.PUMP, FailureMode.CAVITATION, _pump_cavitation),
    Case(MachineKind.PUMP, FailureMode.BEARING, _bearing),
    Case(MachineKind.AIR_COMPRESSOR, FailureMode.OVERHEATING, _compressor_overheat),
    Case(MachineKind.CONVEYOR, FailureMode.BELT_WEAR, _conveyor_belt),
    Case(MachineKind.CONVEYOR, FailureMode.OVERHEATING, _conveyor_overheat, hours=4.0),
    Case(MachineKind.ROBOT_ARM, FailureMode.JOINT_WEAR, _robot_joint),
    Case(MachineKind.ROBOT_ARM, FailureMode.RANDOM, _random),
]


def _run(case: Case, cause: bool) -> list[str | None]:
    engine = engine_for(case.kind)
    case.setup(engine, cause)
    return failures(engine.step(1.0, int(case.hours * 3600)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind.value}-{c.mode.value}-{c.setup.__name__}")
def test_failure_mode_occurs_under_its_cause(case: Case) -> None:
    assert _run(case, cause=True)[:1] == [case.mode.value]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind.value}-{c.mode.value}-{c.setup.__name__}")
def test_failure_mode_does_not_occur_without_its_cause(case: Case) -> None:
    assert _run(case, cause=False) == []


@pytest.mark.parametrize(("product_type", "fails"), [("L", True), ("M", True), ("H", False)])
def test_overstrain_limit_depends_on_product_type(product_type: str, fails: bool) -> None:
    engine = engine_for(MachineKind.CNC_MILL, product_type=product_type)
    _mill_osf(engine, True)
    modes = failures(engine.step(1.0, 600))
    assert (modes[:1] == [FailureMode.OVERSTRAIN.value]) is fails
    assert FailureMode.OVERSTRAIN.value not in modes or fails


def test_failed_machine_stops_until_repaired_then_runs_with_a_new_part() -> None:
    engine = engine_for(MachineKind.CNC_MILL)
    _mill_twf(engine, True)
    frame = engine.step(1.0, 1800)
    assert failures(frame) == ["tool_wear"]
    assert engine.status[0] == FAILED
    g = group(engine)
    wear_at_failure = g.state["tool_wear"][0]
    frame = engine.step(1.0, 600)
    assert (frame.values[:, 2] == 0).all()  # spindle speed: a failed machine does not move
    assert g.state["tool_wear"][0] == wear_at_failure  # the broken tool is still in until the repair ends
    frame = engine.step(1.0, 6 * 3600)
    repairs = [e for e in frame.events if e.event == "repair"]
    assert repairs
    assert repairs[0].mode == "tool_wear"
    assert repairs[0].status.value == "running"
    assert engine.status[0] == RUNNING or failures(frame)
    assert frame.values[-1, 5] < wear_at_failure  # a new tool


def test_failure_event_carries_the_mode_as_a_domain_fault() -> None:
    engine = engine_for(MachineKind.PUMP)
    _pump_cavitation(engine, True)
    event = next(e for e in engine.step(1.0, 3600).events if e.event == "failure")
    from datetime import UTC, datetime

    domain = event.to_domain(datetime.now(UTC))
    assert domain.kind.value == "fault"
    assert domain.status is not None
    assert domain.status.value == "failed"
    assert domain.data["mode"] == "cavitation"
