"""The health score of a machine: its condition, 100 when all is well, 0 when it has failed.

Health means condition, not state: a healthy machine stopped, idle or in maintenance on purpose keeps its score
(its spindle at 0 rpm is not out of band). Process sensors count only while it runs, judged against the band of
its operating point (``operating.operating_band``); condition sensors (wear) count whatever it does.

The score is ``100 - band - alarms - prediction``, clamped to ``[0, 100]``:

* ``band``: for each sensor whose newest value lies outside its normal band, ``50 * d`` points, at most 25 per
  sensor, where ``d`` is the distance outside the band as a fraction of the band's width (a value 20 % of the band
  width above ``normal_high`` costs 10 points); at most 60 points for all sensors together.
* ``alarms``: for each active alarm of the machine that is not shelved, critical 40, major 20, minor 10, warning
  5 points; at most 80.
* ``prediction``: ``30 * p`` points, ``p`` the predicted failure probability when the ML service gave one.

A failed machine scores 0 whatever its values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from factorytwin.domain import AlarmSeverity, MachineStatus, SensorSpec
from factorytwin.twin.operating import CONDITION_SENSORS, operating_band

BAND_POINTS_PER_WIDTH = 50.0
BAND_POINTS_PER_SENSOR_MAX = 25.0
BAND_POINTS_MAX = 60.0
ALARM_POINTS: dict[AlarmSeverity, float] = {
    AlarmSeverity.CRITICAL: 40.0,
    AlarmSeverity.MAJOR: 20.0,
    AlarmSeverity.MINOR: 10.0,
    AlarmSeverity.WARNING: 5.0,
}
ALARM_POINTS_MAX = 80.0
PREDICTION_POINTS = 30.0


def band_excess(spec: SensorSpec, value: float, band: tuple[float, float] | None = None) -> float:
    """How far ``value`` lies outside ``band`` (default: the normal band), as a fraction of the band's width (0
    inside it)."""
    low, high = band if band is not None else (spec.normal_low, spec.normal_high)
    width = high - low
    if value > high:
        return (value - high) / width
    if value < low:
        return (low - value) / width
    return 0.0


def health_score(
    specs: Mapping[str, SensorSpec],
    values: Mapping[str, float],
    alarm_severities: Iterable[AlarmSeverity],
    status: MachineStatus,
    failure_probability: float | None = None,
    speed_pct: float = 100.0,
) -> float:
    """The health score (0-100, one decimal) from values, active alarms, status and the predicted failure risk.

    ``speed_pct`` gives the operating point (the bands of the sensors with a setpoint response follow it)."""
    if status is MachineStatus.FAILED:
        return 0.0
    running = status is MachineStatus.RUNNING
    band = 0.0
    for key, value in values.items():
        spec = specs.get(key)
        if spec is None or not (running or key in CONDITION_SENSORS):
            continue
        edges = operating_band(spec, speed_pct)
        band += min(BAND_POINTS_PER_SENSOR_MAX, BAND_POINTS_PER_WIDTH * band_excess(spec, value, edges))
    alarms = sum(ALARM_POINTS[severity] for severity in alarm_severities)
    prediction = PREDICTION_POINTS * min(1.0, max(0.0, failure_probability or 0.0))
    score = 100.0 - min(band, BAND_POINTS_MAX) - min(alarms, ALARM_POINTS_MAX) - prediction
    return round(min(100.0, max(0.0, score)), 1)
