"""A tiny synthetic run-to-failure history in the simulator's file format, for tests, benchmarks and examples.

Not the simulator: a few lines of numpy so that the ML pipeline can be exercised without it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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
    frames: list[pd.DataFrame] = []
    events: list[dict[str, object]] = []
    for m in range(machines):
        mid = f"mill-{m + 1:02d}"
        wear = 0.0
        limit = rng.uniform(120, 200)
        down_until = -1
        rows: list[dict[str, object]] = []
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
