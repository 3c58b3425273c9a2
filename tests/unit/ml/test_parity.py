"""Train/serve parity: a simulated history stored in the twin's store, scored offline (the training feature path)
and served step by step by a ``Predictor`` over the same store, gives the same features and predictions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from factorytwin.ml.alarms import AlertRule
from factorytwin.ml.evaluation import score_history
from factorytwin.ml.jobs import bounded_history
from factorytwin.ml.predictor import Predictor
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.schema import ModelCard, Prediction
from factorytwin.ml.timeseries import MS_PER_HOUR
from factorytwin.store.sqlite import SQLiteStore

from .simstore import HOURS, STEP_MS, SimHistory, fitted_bundle, replay


async def test_served_predictions_equal_the_offline_ones_for_every_machine_and_step(
    tmp_path: Path, sim_history: SimHistory
) -> None:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    try:
        registry = ModelRegistry(tmp_path / "models")
        predictor = Predictor(store, registry, sim_history.machines)
        served: dict[tuple[str, int], Prediction] = {}

        async def serve(step_end_ms: int) -> None:
            if registry.active_version() is None:
                return
            for p in await predictor.predict_all():
                assert p.machine_id is not None
                served[(p.machine_id, step_end_ms)] = p

        # a model trained from the whole history in another store (as POST /models/train reads it) ...
        train_store = SQLiteStore(tmp_path / "train.db")
        await train_store.open()
        await replay(train_store, sim_history, 0, HOURS, None)
        readings, events, _ = await bounded_history(train_store, sim_history.machines, HOURS / 24 + 1, 10**8)
        await train_store.close()
        bundle = fitted_bundle(readings, events, sim_history.machines)
        # alert rules that look back (smoothing over 3 steps, hysteresis held up to 4 steps), with thresholds
        # where the probabilities of each kind cross them, so the served alert depends on earlier steps
        train_scores = score_history(bundle, readings, events)
        bundle.kind_rules = {
            str(kind): AlertRule(on=float(q), off=0.8 * float(q), smooth=3, hold=4)
            for kind, q in train_scores.groupby("kind")["probability"].quantile(0.6).items()
        }
        assert bundle.alert_lookback_steps == 6
        registry.save(bundle, _card(), activate=True)
        # ... serves the same history replayed into the twin's store hour by hour
        await replay(store, sim_history, 0, HOURS, serve)
        predictor.close()

        # offline: the whole stored history through the training path (as `evaluate` and retraining read it)
        readings, events, _ = await bounded_history(store, sim_history.machines, HOURS / 24 + 1, 10**8)
        offline = score_history(bundle, readings, events)
    finally:
        await store.close()

    offline["ts"] = np.round(offline["t_h"].to_numpy() * MS_PER_HOUR).astype("int64")
    by_step = offline.set_index(["machine_id", "ts"])
    compared = 0
    assert len(served) == HOURS * len(sim_history.machines)
    status_only = failed = 0
    for (mid, step_end), p in served.items():
        assert p.ts is not None
        if p.status in {"failed", "maintenance", "stopped", "idle"}:
            # not scored: it states what the machine's event log says it is doing, without a risk
            assert p.probability is None
            assert p.machine_status == p.status
            if p.status == "failed":
                mode = next(
                    str(e.data.get("mode"))
                    for e in reversed(sim_history.events)
                    if e.machine_id == mid and e.data.get("event") == "failure" and e.ts <= p.ts
                )
                assert p.failure_mode == mode, (mid, step_end)
                assert p.repair_progress is not None
                failed += 1
            status_only += 1
            continue
        assert p.status == "ok", (mid, step_end, p.message)
        # the step the served prediction speaks for: the grid bin of its newest reading
        step = (int(p.ts.timestamp() * 1000) // STEP_MS + 1) * STEP_MS
        assert step == step_end, (mid, p.ts)
        row = by_step.loc[(mid, step)]
        assert p.probability is not None
        assert p.rul is not None
        np.testing.assert_allclose(p.probability, row["probability"], rtol=1e-9, atol=1e-12, err_msg=f"{mid} {step}")
        assert p.alert == bool(row["alert"]), (mid, step)
        np.testing.assert_allclose(p.rul.median, row["rul_pred"], rtol=1e-9, atol=1e-9, err_msg=f"{mid} {step}")
        assert p.likely_mode == row["mode_pred"], (mid, step)
        compared += 1
    machines = {m for m, _ in served}
    assert len(machines) == len(sim_history.machines)
    assert compared >= 0.8 * len(served)  # most steps are operating ones; the rest state the machine's status
    assert isinstance(offline, pd.DataFrame)
    assert compared + status_only == len(served)
    assert failed > 0  # the replay did meet failed machines
    # the rules were exercised: alerts raised and cleared, and some steps alert only through the rule (held or
    # smoothed), others do not although their own probability is above the raising threshold
    alerts = offline["alert"].to_numpy(bool)
    assert 0.05 < alerts.mean() < 0.95
    raw = offline["probability"].to_numpy() >= offline["kind"].map(bundle.kind_thresholds).to_numpy("float64")
    assert (alerts & ~raw).any()
    assert (raw & ~alerts).any()


def _card() -> ModelCard:
    return ModelCard(version="pending", created_at=datetime.now(UTC), shape="history", target="failure within horizon")
