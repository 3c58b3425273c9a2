"""A prediction's reasons told in words, and only from the machine's own profile (ml/reasons.py)."""

from __future__ import annotations

import numpy as np
import pytest

from factorytwin.domain import MachineKind, sensor_specs
from factorytwin.ml.reasons import ReasonWords, number

FEATURES = [
    "vibration__last",
    "vibration__mean",
    "vibration__std",
    "vibration__slope",
    "vibration__max",
    "tool_wear__max",
    "temp_diff__mean",
    "hours_since_renewal",
    "product_type",
]


def row(**values: float) -> np.ndarray:
    return np.array([values.get(f, np.nan) for f in FEATURES], dtype="float64")


def test_a_sensor_is_told_by_its_label_value_unit_and_trend_per_hour() -> None:
    # hourly steps, a 12-step window: the slope is per step, here per hour
    words = ReasonWords(FEATURES, sensor_specs(MachineKind.CNC_MILL), 3600.0, 12)
    r = row(vibration__last=6.1, vibration__mean=5.5, vibration__std=0.31, vibration__slope=0.4, vibration__max=7.25)
    assert words.text("vibration__last", r) == "Vibration RMS 6.10 mm/s, rising 0.4 mm/s per hour"
    assert words.text("vibration__mean", r) == "Vibration RMS 5.50 mm/s on average over 12 h, rising 0.4 mm/s per hour"
    assert words.text("vibration__std", r).startswith(
        "Vibration RMS varying by 0.31 mm/s (standard deviation over 12 h)"
    )
    assert words.text("vibration__max", r).startswith("Vibration RMS up to 7.25 mm/s over 12 h")
    assert words.text("vibration__slope", r) == "Vibration RMS rising 0.4 mm/s per hour"
    assert words.sensor("vibration__mean") == "vibration"
    assert words.sensor("temp_diff__mean") is None  # derived from two sensors: no one sensor to point at


def test_slopes_per_step_become_per_hour_and_a_falling_one_says_so() -> None:
    words = ReasonWords(FEATURES, sensor_specs(MachineKind.CNC_MILL), 600.0, 36)  # 10-minute steps, 6 h
    r = row(vibration__slope=-0.05, vibration__last=2.0)
    assert words.text("vibration__slope", r) == "Vibration RMS falling 0.3 mm/s per hour"
    assert words.text("vibration__last", row(vibration__last=2.0, vibration__slope=0.0)).endswith(", steady")
    assert "over 6 h" in words.text("vibration__mean", row(vibration__mean=2.0))


def test_machine_level_and_derived_features_read_as_words() -> None:
    words = ReasonWords(FEATURES, sensor_specs(MachineKind.CNC_MILL), 3600.0, 12)
    r = row(hours_since_renewal=41.6, product_type=2.0, temp_diff__mean=9.1)
    assert words.text("hours_since_renewal", r) == "41.6 h since the last repair or renewal"
    assert words.text("product_type", r) == "product type H"
    assert words.text("temp_diff__mean", r) == "Process minus air temperature 9.10 K on average over 12 h"


def test_only_features_of_the_machines_profile_and_known_values_are_usable() -> None:
    pump = ReasonWords(FEATURES, sensor_specs(MachineKind.PUMP), 3600.0, 12)
    mill = ReasonWords(FEATURES, sensor_specs(MachineKind.CNC_MILL), 3600.0, 12)
    full = row(**dict.fromkeys(FEATURES, 1.0))
    usable = dict(zip(FEATURES, pump.usable(full), strict=True))
    assert not usable["tool_wear__max"]  # a pump has no tool
    assert usable["vibration__mean"]
    assert usable["hours_since_renewal"]
    assert all(mill.usable(full))
    unknown = dict(zip(FEATURES, mill.usable(row(vibration__mean=1.0)), strict=True))
    assert unknown["vibration__mean"]
    assert not unknown["tool_wear__max"]  # not known at this step: not a reason


@pytest.mark.parametrize(
    ("value", "shown"), [(2625.4, "2,625"), (95.33, "95.3"), (6.1, "6.10"), (0.0412, "0.0412"), (-1.5, "-1.50")]
)
def test_numbers_are_shown_with_about_three_figures(value: float, shown: str) -> None:
    assert number(value) == shown
