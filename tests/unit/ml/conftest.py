"""Fixtures of the ML tests: a small AI4I sample and a tiny synthetic run-to-failure history."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from factorytwin.ml.synthetic import synthetic_history

from .simstore import SimHistory, simulate

AI4I_PATH = Path(
    os.environ.get("FT_AI4I_PATH", Path(__file__).resolve().parents[4] / "shared" / "data" / "ai4i2020.csv")
)


@pytest.fixture(scope="session")
def ai4i() -> pd.DataFrame:
    """The AI4I 2020 data set, from ``../shared/data`` beside the repository (or ``FT_AI4I_PATH``)."""
    if not AI4I_PATH.is_file():
        pytest.fail(f"AI4I 2020 not found at {AI4I_PATH}: put ../shared/data beside the repository or set FT_AI4I_PATH")
    return pd.read_csv(AI4I_PATH, encoding="utf-8-sig")


@pytest.fixture(scope="session")
def ai4i_sample(ai4i: pd.DataFrame) -> pd.DataFrame:
    """3000 rows of AI4I with every failure of those rows kept (about 100): enough to learn, fast to fit."""
    return ai4i.sample(n=3000, random_state=7).reset_index(drop=True)


@pytest.fixture(scope="session")
def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic readings and events of 4 mills over 40 days (about 20 failures)."""
    return synthetic_history()


@pytest.fixture(scope="session")
def sim_history() -> SimHistory:
    """72 hours of the default 16-machine factory (simulator seed 3), readings every 10 simulated minutes."""
    return simulate()
