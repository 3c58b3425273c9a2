"""Synthetic turbofan-like run-to-failure units: a documented damage-propagation model, for benchmarks and tests.

Written from the published description of how such benchmarks are built (a health index that degrades
exponentially from an unknown initial wear until it crosses a failure threshold; sensors that respond to the
health parameters through the engine's thermodynamics, with sensor noise; flight conditions that move every
sensor far more than the wear does), not from any data set's values. Every number below is ours.

The model, per unit ``i`` and cycle ``t = 1 .. L_i``:

- damage ``D_i(t) = w0_i + a_i (exp(r_i t) - 1)``: ``w0_i`` the initial wear (manufacturing variation and an
  unknown history, 0-0.15), ``a_i`` the onset scale (log-normal around 0.02: how late the knee is) and ``r_i`` the
  rate (log-normal, median 0.017 per cycle); the unit fails at the first cycle with ``D >= 1``, so lives are
  ``ln(1 + (1 - w0) / a) / r``, about 130-360 cycles, with a long flat start and a steepening end;
- operating conditions: each cycle flies one of ``regimes`` operating points (altitude kft, Mach, throttle %),
  drawn at random (one regime: always the first), written to ``setting1..3`` with small measurement noise;
- 21 sensors ``s1..s21`` of four kinds (``SENSOR_KINDS``):
  ``health`` (14): ``level + regime shift + unit offset + gain_regime x sensitivity x D^p + noise``, the regime
  shift 20-40 noise standard deviations (an operating point moves a sensor far more than a life of wear does),
  the wear 2-10 noise deviations over a life (sign and shape ``p`` in {1, 1.5, 2} per sensor), the wear's effect
  scaled by 0.8-1.2 per regime (a worn engine reads differently at take-off than at cruise), one of them
  quantised to whole units like a coarse transducer;
  ``regime`` (3): the regime shift and noise only (inlet conditions: they say where the engine flies, not how
  worn it is); ``constant`` (2): one value, always; ``noise`` (2): noise around a level, nothing else.

Train units run to failure; test units are right-censored at a random cycle (uniform between 10 % and 95 % of
their life, at least one row) with their remaining life known, the usual test layout. The sensor structure (levels,
shifts, sensitivities) is fixed by ``structure_seed`` so that train and test units are the same engine type; the
units themselves come from ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# (altitude kft, Mach, throttle resolver angle %): six operating points of a flight envelope
OPERATING_POINTS = ((0.0, 0.0, 100.0), (10.0, 0.25, 100.0), (20.0, 0.70, 100.0), (25.0, 0.62, 60.0),
                    (35.0, 0.84, 100.0), (42.0, 0.84, 100.0))  # fmt: skip
SENSOR_KINDS = (
    "regime", "health", "health", "health", "constant", "regime", "health", "health", "health", "constant",
    "health", "health", "health", "health", "health", "noise", "health", "regime", "noise", "health", "health",
)  # fmt: skip
QUANTISED_SENSOR = "s17"  # a health sensor read in whole units


def _structure(regimes: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = len(SENSOR_KINDS)
    noise = rng.uniform(0.5, 2.0, n)
    level = rng.uniform(100.0, 2000.0, n)
    shift = rng.normal(0.0, 1.0, (regimes, n)) * rng.uniform(20.0, 40.0, n) * noise
    shift[0] = 0.0  # the first operating point is the reference level
    sensitivity = rng.uniform(2.0, 10.0, n) * noise * rng.choice([-1.0, 1.0], n)
    power = rng.choice([1.0, 1.5, 2.0], n)
    gain = rng.uniform(0.8, 1.2, (regimes, n))
    gain[0] = 1.0
    return {"noise": noise, "level": level, "shift": shift, "sens": sensitivity, "power": power, "gain": gain}


def turbofan_like_units(
    units: int, seed: int, regimes: int = 6, structure_seed: int = 7, censor: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``units`` run-to-failure series ``unit, cycle, setting1..3, s1..s21`` (module docstring) and the
    remaining life of each unit at its last row (``unit, rul``: 0 unless ``censor`` cuts the series)."""
    if not 1 <= regimes <= len(OPERATING_POINTS):
        raise ValueError(f"regimes must be 1..{len(OPERATING_POINTS)}")
    st = _structure(regimes, structure_seed)
    rng = np.random.default_rng(seed)
    kinds = np.asarray(SENSOR_KINDS)
    health, regime_only, noise_only = kinds == "health", kinds == "regime", kinds == "noise"
    frames: list[pd.DataFrame] = []
    remaining: list[tuple[int, float]] = []
    points = np.asarray(OPERATING_POINTS)[:regimes]
    for u in range(1, units + 1):
        w0 = rng.uniform(0.0, 0.15)
        a = 0.02 * np.exp(rng.normal(0.0, 0.3))
        r = 0.017 * np.exp(rng.normal(0.0, 0.25))
        life = int(np.ceil(np.log1p((1.0 - w0) / a) / r))
        t = np.arange(1, life + 1, dtype="float64")
        damage = np.minimum(w0 + a * np.expm1(r * t), 1.0)
        reg = rng.integers(0, regimes, life)
        varies = health | regime_only | noise_only
        offset = rng.normal(0.0, 0.5, len(kinds)) * st["noise"] * varies  # manufacturing: this unit reads a bit off
        wear = st["gain"][reg] * st["sens"] * damage[:, None] ** st["power"]
        values = (
            st["level"]
            + offset
            + np.where(health | regime_only, st["shift"][reg], 0.0)
            + np.where(health, wear, 0.0)
            + np.where(varies, rng.normal(0.0, 1.0, (life, len(kinds))) * st["noise"], 0.0)
        )
        frame = pd.DataFrame(np.round(values, 2), columns=[f"s{j + 1}" for j in range(len(kinds))])
        frame[QUANTISED_SENSOR] = np.round(frame[QUANTISED_SENSOR])
        settings = points[reg] + rng.normal(0.0, 1.0, (life, 3)) * np.array([0.003, 0.0003, 0.0])
        frame.insert(0, "setting3", np.round(settings[:, 2], 1))
        frame.insert(0, "setting2", np.round(settings[:, 1], 4))
        frame.insert(0, "setting1", np.round(settings[:, 0], 4))
        frame.insert(0, "cycle", t.astype("int64"))
        frame.insert(0, "unit", u)
        cut = life
        if censor:
            cut = int(np.clip(round(rng.uniform(0.10, 0.95) * life), 1, life))
        frames.append(frame.iloc[:cut])
        remaining.append((u, float(life - cut)))
    return pd.concat(frames, ignore_index=True), pd.DataFrame(remaining, columns=["unit", "rul"])
