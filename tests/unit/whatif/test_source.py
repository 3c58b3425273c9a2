"""The API's fork: readings, live status and the last maintenance turned into a simulator state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.domain import Event, EventKind, MachineKind, MachineStatus
from factorytwin.layout import load_layout
from factorytwin.sim.state import FAILED, STOPPED
from factorytwin.store import Store, open_store
from factorytwin.store.base import ReadingColumns
from factorytwin.whatif.source import MachineInput, build_snapshot, collect_inputs
from tests.unit.sim.helpers import engine_for

LAYOUT = load_layout()
MACHINES = {m.id: m for m in LAYOUT.machines}
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _pump_series(clog: float) -> dict[str, list[float]]:
    engine = engine_for(MachineKind.PUMP, seed=8, noise=True)
    engine.groups[0].state["clog"][0] = clog
    engine.step(10.0, 180)
    engine.groups[0].state["clog"][0] = clog
    frame = engine.step(10.0, 360)
    cols = frame.columns.of_machine(0)
    return {frame.columns.keys[int(frame.columns.key[c])]: frame.values[:, c].tolist() for c in cols}


def test_readings_are_fitted_status_and_maintenance_age_taken_over() -> None:
    inputs = [
        MachineInput(MACHINES["pump-01"], MachineStatus.RUNNING, _pump_series(0.7)),
        MachineInput(MACHINES["press-01"], MachineStatus.FAILED),
        MachineInput(MACHINES["mill-01"], MachineStatus.STOPPED, last_maintenance=NOW - timedelta(days=10)),
    ]
    snapshot, notes = build_snapshot(LAYOUT, inputs, NOW, seed=1)
    by_id = {n.machine_id: n for n in notes}
    assert by_id["pump-01"].wear_source == "fitted"
    assert by_id["pump-01"].wear["clog"] == pytest.approx(0.7, abs=0.05)
    assert by_id["pump-01"].fit_error is not None
    assert by_id["press-01"].wear_source == "default"
    assert by_id["mill-01"].hours_since_maintenance == 240.0
    engine = snapshot.engine()
    assert engine.start == NOW
    mill, press = engine.index["mill-01"], engine.index["press-01"]
    assert engine.next_pm[mill] == pytest.approx(50 * 86400.0)
    assert engine.status[press] == FAILED
    assert engine.status[mill] == STOPPED


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    """An open SQLite store with the default layout registered."""
    st = open_store(sqlite_url)
    await st.open()
    await st.register_machines(LAYOUT.machines)
    try:
        yield st
    finally:
        await st.close()


async def test_collect_reads_the_last_hour_aligned_by_time_and_the_last_maintenance(store: Store) -> None:
    t0 = int((NOW - timedelta(minutes=30)).timestamp() * 1000)
    cols = ReadingColumns(
        machine_ids=["pump-01"] * 4,
        sensors=["motor_speed", "flow_rate", "motor_speed", "flow_rate"],
        ts_ms=[t0, t0, t0 + 1000, t0 + 1000],
        values=[2800.0, 90.0, 2810.0, 91.0],
    )
    done = Event(machine_id="pump-01", ts=NOW - timedelta(days=3), kind=EventKind.MAINTENANCE, message="pm")
    await store.write_batch(cols, [done])
    [pump] = await collect_inputs(store, [MACHINES["pump-01"]], lambda _: None, NOW)
    assert pump.series == {"flow_rate": [90.0, 91.0], "motor_speed": [2800.0, 2810.0]}
    assert pump.last_maintenance == NOW - timedelta(days=3)
    assert pump.status is None
