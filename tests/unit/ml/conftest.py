"""Fixtures of the ML tests: a small AI4I sample and a tiny synthetic run-to-failure history."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

AI4I_PATH = Path(os.environ.get("FT_AI4I_PATH", "/work/shared/data/ai4i2020.csv"))


@pytest.fixture(scope="session")
def ai4i() -> pd.DataFrame:
    """The AI4I 2020 data set (skipped when the file is absent)."""
    if not AI4I_PATH.is_file():
        pytest.skip(f"AI4I 2020 not found at {AI4I_PATH} (set FT_AI4I_PATH)")
    return pd.read_csv(AI4I_PATH, encoding="utf-8-sig")


@pytest.fixture(scope="session")
def ai4i_sample(ai4i: pd.DataFrame) -> pd.DataFrame:
    """3000 rows of AI4I with every failure of those rows kept (about 100): enough to learn, fast to fit."""
    return ai4i.sample(n=3000, random_state=7).reset_index(drop=True)


def synthetic_history(machines: int = 4, days: float = 40.0, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulator-format readings (every 10 min) and events of CNC mills whose tool wears until it fails.

    Wear grows one minute per hour of operation; the tool fails when wear passes a random limit (120-200),
    vibration and torque climbing before it; a repair 4 h later resets the wear. Modes alternate so the mode
    head has two classes.
    """
    rng = np.random.default_rng(seed)
    step_ms = 600_000
    n = int(days * 24 * 6)
    t0 = 1_767_225_600_000  # 2026-01-01T00:00Z
    frames, events = [], []
    for m in range(machines):
        mid = f"mill-{m + 1:02d}"
        wear = 0.0
        limit = rng.uniform(120, 200)
        down_until = -1
        rows = []
        failures = 0
        for i in range(n):
            ts = t0 + i * step_ms
            if i < down_until:
                continue
            if i == down_until:
                events.append(
                    {
                        "machine_id": mid,
                        "kind": "cnc_mill",
                        "ts": ts,
                        "event": "repair",
                        "mode": "",
                        "status": "running",
                    }
                )
                wear, limit = 0.0, rng.uniform(120, 200)
            wear += 1.0 / 6.0
            stress = max(0.0, wear / limit - 0.7)
            rows.append(
                {
                    "machine_id": mid,
                    "kind": "cnc_mill",
                    "ts": ts,
                    "status": "running",
                    "air_temp": 300 + rng.normal(0, 0.5),
                    "process_temp": 310 + rng.normal(0, 0.5),
                    "spindle_speed": 1500 + rng.normal(0, 30),
                    "torque": 40 + 30 * stress + rng.normal(0, 2),
                    "tool_wear": wear,
                    "vibration": 2 + 8 * stress + rng.normal(0, 0.2),
                    "product_type": "L",
                }
            )
            if wear >= limit:
                mode = "tool_wear" if failures % 2 == 0 else "overstrain"
                events.append(
                    {
                        "machine_id": mid,
                        "kind": "cnc_mill",
                        "ts": ts + 1,
                        "event": "failure",
                        "mode": mode,
                        "status": "failed",
                    }
                )
                failures += 1
                down_until = i + 24
        frames.append(pd.DataFrame(rows))
    readings = pd.concat(frames, ignore_index=True)
    return readings, pd.DataFrame(events)


@pytest.fixture(scope="session")
def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic readings and events of 4 mills over 40 days (about 20 failures)."""
    return synthetic_history()
