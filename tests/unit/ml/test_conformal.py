"""Conformal RUL intervals: a nominal 80 % interval covers about 80 % of units the model never saw."""

from __future__ import annotations

import numpy as np
import pandas as pd

from factorytwin.ml.timeseries import prepare_run_to_failure
from factorytwin.ml.training import TrainConfig, fit_bundle


def _fleet(units: int, seed: int) -> pd.DataFrame:
    """Units whose degradation signal s1 rises along a life of random length, with noise that blurs the RUL."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, float]] = []
    for unit in range(units):
        life = int(rng.integers(40, 120))
        for cycle in range(1, life + 1):
            rows.append({"unit": unit, "cycle": cycle, "s1": cycle / life + rng.normal(0, 0.08)})
    return pd.DataFrame(rows)


def test_rul_interval_hits_its_nominal_coverage_on_held_out_units() -> None:
    train, _ = prepare_run_to_failure(_fleet(80, seed=0), "unit", "cycle", horizon=10.0, window=5)
    test, _ = prepare_run_to_failure(_fleet(60, seed=1), "unit", "cycle", horizon=10.0, window=5)
    bundle = fit_bundle(train, TrainConfig(n_estimators=60))
    q = bundle.predict_matrix(bundle.matrix(test.X))["rul"]
    assert test.rul is not None
    covered = (test.rul >= q[:, 0]) & (test.rul <= q[:, 2])
    assert 0.74 <= covered.mean() <= 0.86, covered.mean()
