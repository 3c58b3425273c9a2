"""A prediction's reasons in words: the sensor's label, its value with its unit, and where it is heading.

The model's reasons are features (``vibration__mean``, ``hours_since_renewal``) with their TreeSHAP push on the
score. An engineer reads sensors, so each is told as the sensor it comes from ("Vibration RMS 6.1 mm/s on
average over 12 h, rising 0.40 mm/s per hour"), and only features of the machine's own profile are offered as
reasons: a pump is never told that its tool wear is unknown. Slopes are per step of the model's grid, so they are
turned into units per hour (machine hours: the server stretches compressed simulator time before computing
features).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from factorytwin.domain import SensorSpec
from factorytwin.ml.features import KIND_CODES, PRODUCT_TYPE_CODES, WINDOW_STATS

PHYSICS_LABELS: dict[str, tuple[str, str]] = {
    "temp_diff": ("Process minus air temperature", "K"),
    "mech_power_w": ("Mechanical power", "W"),
    "power_margin": ("Margin to the power limits", "W"),
    "wear_torque": ("Tool wear times torque", "min·Nm"),
    "overstrain_margin": ("Tool wear times torque minus its overstrain limit", "min·Nm"),
    "heat_margin": ("Heat dissipation margin", ""),
}
"""The derived signals (``features.PHYSICS_COLUMNS``) as an engineer would name them, with their units."""


def number(v: float) -> str:
    """A value as a person reads it: about three significant figures, thousands separated."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _span(hours: float) -> str:
    return f"{hours:.3g} h" if hours >= 1 else f"{hours * 60:.3g} min"


def split(feature: str) -> tuple[str, str | None]:
    """(signal, statistic) of a windowed feature (``vibration__mean``), (feature, None) of any other."""
    signal, sep, stat = feature.rpartition("__")
    return (signal, stat) if sep and stat in WINDOW_STATS else (feature, None)


def _with_unit(v: float, unit: str) -> str:
    return f"{number(v)} {unit}".rstrip()


def _trend(per_hour: float, unit: str) -> str:
    if per_hour == 0.0:
        return "steady"
    way = "rising" if per_hour > 0 else "falling"
    return f"{way} {_with_unit(abs(per_hour), unit)} per hour"


class ReasonWords:
    """Tells one machine's reasons in words. ``sensors``: the machine's profile sensors by key; ``step_s`` and
    ``window``: the model's grid step and window (None for a model of latest values, whose features are the
    sensors' current values)."""

    def __init__(
        self, features: Sequence[str], sensors: Mapping[str, SensorSpec], step_s: float | None, window: int | None
    ) -> None:
        self.features = list(features)
        self.index = {f: i for i, f in enumerate(self.features)}
        self.sensors = sensors
        self.step_s = step_s
        self.window = window
        # the features of the machine's own profile: a sensor it has, a derived signal of its sensors, or one of
        # the machine-level features (the same for every row of this machine, so found once)
        self.of_profile = np.array(
            [
                split(f)[0] in ("hours_since_renewal", "kind", "product_type") or self._label(split(f)[0]) is not None
                for f in self.features
            ],
            dtype=bool,
        )

    def _label(self, signal: str) -> tuple[str, str] | None:
        spec = self.sensors.get(signal)
        if spec is not None:
            return spec.label, spec.unit
        return PHYSICS_LABELS.get(signal)

    def usable(self, row: np.ndarray) -> np.ndarray:
        """Which features of ``row`` may be given as reasons: known (not NaN) and, for a signal's, a signal of the
        machine's own profile (a sensor it has, or a derived signal of its sensors)."""
        ok: np.ndarray = ~np.isnan(np.asarray(row, dtype="float64")) & self.of_profile
        return ok

    def sensor(self, feature: str) -> str | None:
        """The profile sensor a feature is computed from (None for derived and machine-level features)."""
        signal, _ = split(feature)
        return signal if signal in self.sensors else None

    def text(self, feature: str, row: np.ndarray) -> str:
        """The reason in words, for ``feature`` of ``row``."""
        value = float(row[self.index[feature]])
        signal, stat = split(feature)
        if signal == "hours_since_renewal":
            return f"{number(value)} h since the last repair or renewal"
        if signal == "product_type":
            names = {code: name for name, code in PRODUCT_TYPE_CODES.items()}
            return f"product type {names.get(value, number(value))}"
        if signal == "kind":
            names = {code: name for name, code in KIND_CODES.items()}
            return f"machine kind: {names.get(value, number(value))}"
        named = self._label(signal)
        label, unit = named if named is not None else (signal.replace("_", " "), "")
        per_hour = 3600.0 / self.step_s if self.step_s else 1.0
        if stat == "slope":
            return f"{label} {_trend(value * per_hour, unit)}"
        over = _span(self.window * self.step_s / 3600.0) if self.window and self.step_s else "the window"
        said = {
            None: f"{label} {_with_unit(value, unit)}",
            "last": f"{label} {_with_unit(value, unit)}",
            "mean": f"{label} {_with_unit(value, unit)} on average over {over}",
            "std": f"{label} varying by {_with_unit(value, unit)} (standard deviation over {over})",
            "max": f"{label} up to {_with_unit(value, unit)} over {over}",
        }[stat]
        slope_at = self.index.get(f"{signal}__slope")
        if slope_at is not None and not np.isnan(row[slope_at]):
            said += f", {_trend(float(row[slope_at]) * per_hour, unit)}"
        return said
