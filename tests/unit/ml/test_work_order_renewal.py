"""A finished work order renews its machine for the models: the age the predictor serves restarts at the moment the
order is done, and training from stored history sees the same renewal (features and censored labels)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from factorytwin.domain import Event, EventKind, Machine, MachineStatus
from factorytwin.layout import load_layout
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.history import event_rows
from factorytwin.ml.predictor import Predictor
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.timeseries import HistorySpec, renewal_times, renewals_only
from factorytwin.store import Store, open_store
from factorytwin.store.base import EventQuery, ReadingColumns
from factorytwin.store.workorders import work_order_store_for
from factorytwin.workorders import WorkOrderCreate, WorkOrderState, WorkOrderTransition
from factorytwin.workorders.service import WorkOrderService

SPEC = HistorySpec()
END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DONE_AT = END - timedelta(hours=5)
MILL = "mill-01"


@dataclass
class HistoryBundleStandIn:
    """What ``Predictor._feature_rows`` reads of a history model (see test_time_scale.py)."""

    shape: str = "history"
    spec: dict[str, Any] = field(
        default_factory=lambda: {
            "step_s": SPEC.step_s,
            "window": SPEC.window,
            "horizon_h": SPEC.horizon_h,
            "signals": list(SPEC.signals),
        }
    )
    features: list[str] = field(default_factory=SPEC.feature_names)
    alert_lookback_steps: int = 2


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    """An open SQLite store with 13 hours of a mill's readings and a two-hour maintenance (a renewal) 20 h ago."""
    st = open_store(sqlite_url)
    await st.open()
    await st.register_machines(load_layout().machines)
    cols = ReadingColumns()
    for i in range(13 * 60):
        t = int((END - timedelta(minutes=13 * 60 - 1 - i)).timestamp() * 1000)
        for sensor, value in (("torque", 40.0 + 0.01 * i), ("tool_wear", 0.5 * i), ("spindle_speed", 1500.0)):
            cols.machine_ids.append(MILL)
            cols.sensors.append(sensor)
            cols.ts_ms.append(t)
            cols.values.append(value)
    await st.write_batch(cols)
    await st.write_events(
        [
            Event(
                machine_id=MILL, ts=END - timedelta(hours=22), kind=EventKind.STATUS, status=MachineStatus.MAINTENANCE
            ),
            Event(machine_id=MILL, ts=END - timedelta(hours=20), kind=EventKind.STATUS, status=MachineStatus.RUNNING),
        ]
    )
    try:
        yield st
    finally:
        await st.close()


async def _finish_a_work_order(store: Store) -> None:
    """A work order on the mill, taken to done at ``DONE_AT`` through the service (the events it writes)."""
    service = WorkOrderService(work_order_store_for(store), store, lambda: {MILL}, clock=lambda: DONE_AT)
    order = await service.create(WorkOrderCreate(machine_id=MILL, title="Replace the spindle bearing"), "olga")
    for state in (WorkOrderState.IN_PROGRESS, WorkOrderState.DONE):
        order = await service.transition(order.id, WorkOrderTransition(state=state), "olga")
    assert order.state is WorkOrderState.DONE


async def _served_age(store: Store, tmp_path: Path) -> np.ndarray:
    """hours_since_renewal of the newest steps, as the predictor builds them from what it reads of the store."""
    predictor = Predictor(store, ModelRegistry(tmp_path / "models"), [])
    mill: Machine = next(m for m in load_layout().machines if m.id == MILL)
    window_start = END - timedelta(hours=13)
    inputs = {
        "machine": mill,
        "readings": await store.read_range(MILL, window_start, END + timedelta(milliseconds=1)),
        "events": await predictor._events(MILL, window_start, END + timedelta(milliseconds=1)),
    }
    _, rows = predictor._feature_rows(cast(ModelBundle, HistoryBundleStandIn()), inputs)
    return rows[:, SPEC.feature_names().index("hours_since_renewal")]


async def test_a_done_work_order_restarts_the_served_age(store: Store, tmp_path: Path) -> None:
    before = await _served_age(store, tmp_path)
    assert before[-1] == pytest.approx(20.0, abs=1.0)  # since the return from the two-hour maintenance
    await _finish_a_work_order(store)
    after = await _served_age(store, tmp_path)
    assert after[-1] == pytest.approx(5.0, abs=1.0)  # since the work order was done
    assert np.all(np.diff(after) > 0)  # the newest steps all come after it, one life


async def test_training_from_stored_history_sees_the_renewal(store: Store) -> None:
    await _finish_a_work_order(store)
    events = event_rows(await store.events(EventQuery(machine_id=MILL, limit=100)))
    done_ms = int(DONE_AT.timestamp() * 1000)
    assert done_ms in renewal_times(events, MILL).tolist()  # the age of the training rows restarts there
    renewing = renewals_only(events)
    assert done_ms in renewing["ts"].tolist()  # and it censors the labels of the life it ends
