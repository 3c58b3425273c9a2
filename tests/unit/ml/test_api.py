"""The prediction API on the real app (SQLite file, in-process): known and unknown machines, no model, batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI

from factorytwin.api import create_app
from factorytwin.config import Settings
from factorytwin.domain import MachineKind, sensor_specs
from factorytwin.ml.datasets import prepare_table
from factorytwin.ml.pipeline import make_card
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle
from tests.credentials import bearer

FAST = TrainConfig(n_estimators=40, inner_folds=3)


@pytest.fixture
def ml_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"model_dir": tmp_path / "models"})


@pytest.fixture
async def client(ml_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(ml_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await bearer(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
            yield c


def _save_table_model(model_dir: Path, sample: pd.DataFrame) -> None:
    data = prepare_table(sample, "Machine failure")
    bundle = fit_bundle(data, FAST)
    ModelRegistry(model_dir).save(bundle, make_card(data, bundle, {}, "Machine failure", [], {}))


def _save_history_model(model_dir: Path, history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    spec = HistorySpec()
    data = prepare_history(*history, spec)
    bundle = fit_bundle(
        data,
        FAST,
        spec={"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h, "signals": list(spec.signals)},
    )
    ModelRegistry(model_dir).save(bundle, make_card(data, bundle, {}, "failure within horizon", [], {}))


async def _post_mill_readings(client: httpx.AsyncClient, hours: int = 6) -> None:
    start = datetime.now(UTC) - timedelta(hours=hours)
    readings = [
        {
            "machine_id": "mill-01",
            "ts": (start + timedelta(minutes=10 * i)).isoformat(),
            "values": {
                "air_temp": 300.0,
                "process_temp": 310.0,
                "spindle_speed": 1500.0,
                "torque": 40.0 + i * 0.1,
                "tool_wear": 100.0 + i,
                "vibration": 2.0,
            },
        }
        for i in range(hours * 6)
    ]
    r = await client.post("/api/v1/telemetry", json={"readings": readings})
    assert r.status_code < 300, r.text


async def test_without_a_model_prediction_says_no_model(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/machines/mill-01/prediction")
    assert r.status_code == 200
    assert r.json()["status"] == "no_model"
    assert "factorytwin train" in r.json()["message"]
    r = await client.post("/api/v1/predict", json={"rows": [{"torque": 40.0}]})
    assert r.status_code == 409
    assert r.json()["status"] == "no_model"
    r = await client.get("/api/v1/maintenance/schedule")
    assert r.status_code == 200
    assert r.json()["status"] == "no_model"


async def test_unknown_machine_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/machines/mill-99/prediction")
    assert r.status_code == 404
    assert "mill-99" in r.json()["detail"][0]["msg"]


async def test_known_machine_gets_probability_and_reasons(
    client: httpx.AsyncClient, ml_settings: Settings, ai4i_sample: pd.DataFrame
) -> None:
    _save_table_model(ml_settings.model_dir, ai4i_sample)
    r = await client.get("/api/v1/machines/mill-02/prediction")
    assert r.json()["status"] == "no_data"  # a known machine that has not reported yet
    await _post_mill_readings(client)
    body = (await client.get("/api/v1/machines/mill-01/prediction")).json()
    assert body["status"] == "ok"
    assert body["model_version"] == "v0001"
    assert 0.0 <= body["probability"] <= 1.0
    assert body["reasons"]
    assert {"feature", "value", "contribution"} <= set(body["reasons"][0])
    assert body["likely_mode"] in {"tool_wear", "heat_dissipation", "power", "overstrain", "random"}


async def test_history_model_gives_rul_with_interval(
    client: httpx.AsyncClient, ml_settings: Settings, history: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _save_history_model(ml_settings.model_dir, history)
    await _post_mill_readings(client)
    body = (await client.get("/api/v1/machines/mill-01/prediction")).json()
    assert body["status"] == "ok"
    assert body["horizon"] == 24.0
    rul = body["rul"]
    assert 0.0 <= rul["low"] <= rul["median"] <= rul["high"]
    assert rul["unit"] == "h"
    # reasons in words, from the mill's own sensors (or its age, kind and product)
    mill = sensor_specs(MachineKind.CNC_MILL)
    assert body["reasons"]
    for reason in body["reasons"]:
        assert reason["text"], reason
        if reason["sensor"] is not None:
            assert reason["sensor"] in mill
            assert reason["text"].startswith(mill[reason["sensor"]].label), reason

    # a pump's reasons never name a sensor it does not have (the model was trained on mills' tool wear too)
    pump = sensor_specs(MachineKind.PUMP)
    start = datetime.now(UTC) - timedelta(hours=6)
    sets = [
        {
            "machine_id": "pump-01",
            "ts": (start + timedelta(minutes=10 * i)).isoformat(),
            "values": {k: (s.normal_low + s.normal_high) / 2 for k, s in pump.items()},
        }
        for i in range(36)
    ]
    assert (await client.post("/api/v1/telemetry", json={"readings": sets})).status_code < 300
    served = (await client.get("/api/v1/machines/pump-01/prediction")).json()
    assert served["status"] == "ok", served
    assert served["reasons"]
    for reason in served["reasons"]:
        signal = reason["feature"].rpartition("__")[0] or reason["feature"]
        assert signal in pump or signal in {"hours_since_renewal", "kind", "product_type"}, reason
        assert reason["value"] is not None, reason

    plan = (await client.get("/api/v1/maintenance/schedule", params={"horizon_h": 48})).json()
    assert plan["status"] == "ok"
    assert {p["policy"] for p in plan["policies"]} == {"predictive", "run_to_failure", "fixed_interval"}


async def test_batch_predict_and_bad_column(
    client: httpx.AsyncClient, ml_settings: Settings, ai4i_sample: pd.DataFrame
) -> None:
    _save_table_model(ml_settings.model_dir, ai4i_sample)
    row = {
        "product_type": "L",
        "air_temp": 300.0,
        "process_temp": 310.0,
        "spindle_speed": 1400.0,
        "torque": 45.0,
        "tool_wear": 120.0,
    }
    r = await client.post("/api/v1/predict", json={"rows": [row, {**row, "tool_wear": 250.0}], "reasons": 2})
    assert r.status_code == 200
    preds = r.json()["predictions"]
    assert len(preds) == 2
    assert all(0 <= p["probability"] <= 1 for p in preds)
    assert len(preds[0]["reasons"]) == 2
    r = await client.post("/api/v1/predict", json={"rows": [{**row, "torque": "strong"}]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["rows", 0, "torque"]
    r = await client.post("/api/v1/predict", json={"rows": [{**row, "torq": 1.0}]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["rows", 0, "torq"]
    r = await client.post("/api/v1/predict", json={"rows": [{"torque": 45.0, "tool_wear": 120.0}]})
    assert r.status_code == 422
    problem = r.json()["detail"][0]
    assert problem["loc"] == ["rows", 0, "product_type"]
    assert "air_temp" in problem["msg"]


async def test_model_listing_and_card(
    client: httpx.AsyncClient, ml_settings: Settings, ai4i_sample: pd.DataFrame
) -> None:
    assert (await client.get("/api/v1/models")).json() == []
    assert (await client.get("/api/v1/models/active")).status_code == 404
    _save_table_model(ml_settings.model_dir, ai4i_sample)
    listing = (await client.get("/api/v1/models")).json()
    assert [v["version"] for v in listing] == ["v0001"]
    assert listing[0]["active"]
    card = (await client.get("/api/v1/models/active")).json()
    assert card["target"] == "Machine failure"
    assert "torque" in card["features"]
