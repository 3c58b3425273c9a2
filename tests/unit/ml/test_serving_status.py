"""Status-aware serving: a machine that is not running states what it is doing instead of a risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.layout import load_layout
from factorytwin.ml.latest import latest_feature_row
from factorytwin.ml.pipeline import make_card
from factorytwin.ml.predictor import Predictor, machine_state
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle
from factorytwin.store.base import ReadingColumns
from factorytwin.store.sqlite import SQLiteStore

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _ev(at: datetime, kind: EventKind, status: MachineStatus, machine: str = "mill-01", **data: object) -> Event:
    return Event(machine_id=machine, ts=at, kind=kind, status=status, data=data)


def test_a_failed_machine_states_its_mode_and_repair_progress() -> None:
    events = [  # newest first, as the store lists them
        _ev(T0 + timedelta(seconds=1), EventKind.STATUS, MachineStatus.FAILED),
        _ev(T0, EventKind.FAULT, MachineStatus.FAILED, mode="bearing", repair_hours=4.0, event="failure"),
        _ev(T0 - timedelta(hours=5), EventKind.STATUS, MachineStatus.RUNNING),
    ]
    p = machine_state(events, T0 + timedelta(hours=1))
    assert p.status == "failed"
    assert p.probability is None
    assert p.failure_mode == "bearing"
    assert p.status_since == T0
    assert p.repair_progress == pytest.approx(0.25)
    assert p.expected_back == T0 + timedelta(hours=4)
    assert "bearing" in p.message


def test_repair_progress_is_counted_in_machine_time_when_the_simulator_runs_faster() -> None:
    events = [_ev(T0, EventKind.FAULT, MachineStatus.FAILED, mode="tool_wear", repair_hours=2.0)]
    p = machine_state(events, T0 + timedelta(minutes=1), time_scale=60.0)  # one wall minute = one machine hour
    assert p.repair_progress == pytest.approx(0.5)
    assert p.expected_back == T0 + timedelta(minutes=2)


def test_a_machine_in_maintenance_or_stopped_is_not_scored_and_a_running_one_is() -> None:
    maint = machine_state(
        [_ev(T0, EventKind.MAINTENANCE, MachineStatus.MAINTENANCE, reason="preventive", hours=4.0)],
        T0 + timedelta(hours=3),
    )
    assert (maint.status, maint.failure_mode) == ("maintenance", None)
    assert maint.repair_progress == pytest.approx(0.75)
    assert "preventive" in maint.message
    stopped = machine_state([_ev(T0, EventKind.STATUS, MachineStatus.STOPPED)], T0 + timedelta(hours=1))
    assert (stopped.status, stopped.repair_progress) == ("stopped", None)
    running = machine_state(
        [_ev(T0, EventKind.STATUS, MachineStatus.RUNNING, event="repair", mode="bearing")], T0 + timedelta(hours=1)
    )
    assert (running.status, running.machine_status, running.failure_mode) == ("ok", "running", None)
    assert machine_state([], T0).status == "ok"  # nothing says otherwise
    # an event after the newest reading is not yet in force
    later = machine_state([_ev(T0 + timedelta(hours=2), EventKind.FAULT, MachineStatus.FAILED)], T0)
    assert later.status == "ok"


def test_idle_readings_do_not_enter_the_features() -> None:
    spec = HistorySpec()
    ts = np.arange(0, 10 * 3_600_000, 600_000, dtype="int64") + 1_780_000_000_000 // 3_600_000 * 3_600_000
    torque = np.where((ts - ts[0]) // 3_600_000 % 3 == 1, 0.0, 40.0)  # every third hour idle at no load
    status = np.where(torque == 0.0, "idle", "running").astype(object)
    values = {"torque": torque, "spindle_speed": np.full(len(ts), 1500.0)}
    with_idle = latest_feature_row(ts, values, np.array([]), spec, "cnc_mill", "L", status)
    run = status == "running"
    only_running = latest_feature_row(
        ts[run], {k: v[run] for k, v in values.items()}, np.array([]), spec, "cnc_mill", "L"
    )
    np.testing.assert_array_equal(with_idle, only_running)
    names = spec.feature_names()
    assert with_idle[names.index("torque__mean")] == 40.0


async def test_the_predictor_serves_status_for_failed_and_stopped_machines_and_risk_for_running_ones(
    tmp_path: Path, history: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    spec = HistorySpec()
    data = prepare_history(*history, spec)
    bundle_spec = {"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h}
    bundle = fit_bundle(
        data, TrainConfig(n_estimators=20, inner_folds=2), spec={**bundle_spec, "signals": list(spec.signals)}
    )
    registry = ModelRegistry(tmp_path / "models")
    registry.save(bundle, make_card(data, bundle, {}, "failure within horizon", [], {}))
    machines = [m for m in load_layout().machines if m.id in {"mill-01", "mill-02", "mill-03"}]
    boiler = machines[0].model_copy(update={"id": "boiler-01", "profile": "boiler"})  # a user's profile
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    try:
        await store.register_machines(machines)
        cols = ReadingColumns()
        for i in range(36):  # six hours, every ten minutes, of all three mills (they keep reporting while down)
            for m in machines:
                for sensor, value in (("torque", 40.0 + 0.1 * i), ("tool_wear", 100.0 + i), ("spindle_speed", 1500.0)):
                    cols.machine_ids.append(m.id)
                    cols.sensors.append(sensor)
                    cols.ts_ms.append(int((T0 + timedelta(minutes=10 * i)).timestamp() * 1000))
                    cols.values.append(value)
        failed_at = T0 + timedelta(hours=4)
        events = [
            _ev(failed_at, EventKind.FAULT, MachineStatus.FAILED, "mill-02", mode="tool_wear", repair_hours=8.0),
            _ev(T0 + timedelta(hours=5), EventKind.STATUS, MachineStatus.STOPPED, "mill-03"),
        ]
        await store.write_batch(cols, events)
        predictor = Predictor(store, registry, [*machines, boiler])
        by_id = {p.machine_id: p for p in await predictor.predict_all()}
        predictor.close()
    finally:
        await store.close()
    running, failed, stopped = by_id["mill-01"], by_id["mill-02"], by_id["mill-03"]
    assert by_id["boiler-01"].status == "no_model"  # a model of mills and pumps says nothing of a boiler
    assert by_id["boiler-01"].probability is None
    assert "profile 'boiler'" in by_id["boiler-01"].message
    assert running.status == "ok"
    assert running.probability is not None
    assert failed.status == "failed"
    assert failed.probability is None
    assert failed.rul is None
    assert failed.failure_mode == "tool_wear"
    assert failed.repair_progress == pytest.approx((110 / 60) / 8.0)  # newest reading 1 h 50 min after the failure
    assert stopped.status == "stopped"
    assert stopped.probability is None
    assert stopped.machine_status == "stopped"
