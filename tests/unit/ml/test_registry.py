"""The model registry: versions, the active model, cards, and a round trip that predicts the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factorytwin.errors import NotFound
from factorytwin.ml.datasets import prepare_table
from factorytwin.ml.pipeline import make_card
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.training import TrainConfig, fit_bundle


def test_empty_registry_has_no_model(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    assert registry.active_version() is None
    with pytest.raises(NotFound, match="no model"):
        registry.load()


def test_saved_model_round_trips_with_its_card(tmp_path: Path, ai4i_sample: pd.DataFrame) -> None:
    data = prepare_table(ai4i_sample, "Machine failure")
    bundle = fit_bundle(data, TrainConfig(n_estimators=40, inner_folds=3))
    card = make_card(data, bundle, {"f1": 0.9}, "Machine failure", ["TWF"], {"file": "ai4i.csv"})
    registry = ModelRegistry(tmp_path / "models")
    first = registry.save(bundle, card)
    second = registry.save(bundle, card, activate=False)
    assert (first, second) == ("v0001", "v0002")
    assert registry.active_version() == "v0001"

    fresh = ModelRegistry(tmp_path / "models")  # nothing cached: read from disk
    name, loaded = fresh.load()
    X = data.X.to_numpy("float64")[:200]
    assert name == "v0001"
    np.testing.assert_allclose(loaded.predict_matrix(X)["probability"], bundle.predict_matrix(X)["probability"])
    assert loaded.mode_classes == bundle.mode_classes
    assert loaded.threshold == bundle.threshold

    stored = fresh.card()
    assert stored.version == "v0001"
    assert stored.metrics["f1"] == 0.9
    assert stored.created_at <= datetime.now(UTC)
    assert "TWF" in stored.excluded_columns
    assert "TWF" not in stored.features
    markdown = (tmp_path / "models" / "v0001" / "card.md").read_text()
    assert markdown.startswith("# Model v0001")
    assert "f1: 0.9000" in markdown

    fresh.activate("v0002")
    assert [v.active for v in fresh.listing()] == [False, True]
    with pytest.raises(NotFound):
        fresh.activate("v0099")
