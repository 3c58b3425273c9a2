"""Builders of valid profile documents that a test then breaks one field of."""

from __future__ import annotations

from typing import Any


def sensor_doc(key: str = "bearing_temp", **changes: Any) -> dict[str, Any]:
    """A valid sensor as JSON data, with ``changes`` applied."""
    doc: dict[str, Any] = {
        "key": key,
        "label": "Bearing temperature",
        "unit": "°C",
        "low": -40.0,
        "high": 150.0,
        "normal_low": 20.0,
        "normal_high": 80.0,
        "max_rate": 1.0,
    }
    return doc | changes


def profile_doc(**changes: Any) -> dict[str, Any]:
    """A valid profile body as JSON data, with ``changes`` applied."""
    doc: dict[str, Any] = {
        "id": "centrifugal-pump",
        "name": "Centrifugal pump",
        "sensors": [
            sensor_doc(),
            sensor_doc(
                "speed",
                label="Shaft speed",
                unit="rpm",
                low=0.0,
                high=3600.0,
                normal_low=1400.0,
                normal_high=3000.0,
                max_rate=None,
                activity=True,
            ),
        ],
        "commands": [{"key": "stop", "label": "Stop"}],
        "appearance": {"kind": "primitive", "shape": "cylinder", "width": 0.8, "height": 1.2, "depth": 0.8},
    }
    return doc | changes
