"""Alarm rules, derived from the sensor catalogue: what each batch says about each alarm type of a machine.

Rules per sensor of a machine kind (``CATALOGUE``):

* ``high:<sensor>`` when a value exceeds ``normal_high``; ``low:<sensor>`` when it falls below ``normal_low``
  (only while the machine is running: a stopped spindle is not a low-speed fault, and only where the normal band
  does not start at the physical minimum). Severity grows with the distance beyond the band, as a fraction ``d``
  of the band's width: warning below 10 %, minor below 25 %, major below 50 %, critical beyond.
  Hysteresis: the alarm clears once the newest value is back inside the band by ``HYSTERESIS_FRACTION`` of the
  band's width, so a value hovering at the edge does not make it flap.
* ``rate:<sensor>`` (sensors with ``max_rate``) when the value changes faster than ``max_rate`` per second:
  minor up to twice ``max_rate``, major beyond. It clears once the rate has stayed under ``RATE_CLEAR_FRACTION``
  of ``max_rate`` for ``RATE_CLEAR_HOLD_S`` seconds of reading time.
* ``failed`` (critical) while the machine's status is failed; ``offline`` (major) while it is silent (raised by the
  twin's offline watch, cleared by the next telemetry).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from enum import Enum

from factorytwin.domain import AlarmSeverity, MachineStatus, SensorSpec
from factorytwin.twin.health import band_excess
from factorytwin.twin.state import SensorObservation

HYSTERESIS_FRACTION = 0.02
RATE_CLEAR_FRACTION = 0.8
RATE_CLEAR_HOLD_S = 10.0
SEVERITY_STEPS: tuple[tuple[float, AlarmSeverity], ...] = (
    (0.10, AlarmSeverity.WARNING),
    (0.25, AlarmSeverity.MINOR),
    (0.50, AlarmSeverity.MAJOR),
)
SEVERITY_RANK: dict[AlarmSeverity, int] = {
    AlarmSeverity.WARNING: 0,
    AlarmSeverity.MINOR: 1,
    AlarmSeverity.MAJOR: 2,
    AlarmSeverity.CRITICAL: 3,
}
OFFLINE = "offline"
FAILED = "failed"


class Verdict(Enum):
    """What a batch says about one alarm type: the condition holds, has ended, or cannot tell (keep as is)."""

    RAISE = "raise"
    CLEAR = "clear"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one alarm type of one machine, with what to put in the alarm when it is raised."""

    type: str
    verdict: Verdict
    severity: AlarmSeverity = AlarmSeverity.WARNING
    message: str = ""
    sensor: str | None = None
    value: float | None = None
    clear_hold_s: float = 0.0


def severity_for_excess(d: float) -> AlarmSeverity:
    """Severity of a value ``d`` band-widths beyond its normal band."""
    for limit, severity in SEVERITY_STEPS:
        if d < limit:
            return severity
    return AlarmSeverity.CRITICAL


def _fmt(value: float, unit: str) -> str:
    return f"{value:.4g} {unit}"


def band_findings(spec: SensorSpec, obs: SensorObservation, running: bool) -> list[Finding]:
    """High/low threshold verdicts for one sensor."""
    width = spec.normal_high - spec.normal_low
    margin = HYSTERESIS_FRACTION * width
    out: list[Finding] = []
    high = f"high:{spec.key}"
    if obs.maximum > spec.normal_high:
        out.append(
            Finding(
                high,
                Verdict.RAISE,
                severity_for_excess(band_excess(spec, obs.maximum)),
                f"{spec.label} {_fmt(obs.maximum, spec.unit)} above its normal band (<= "
                f"{_fmt(spec.normal_high, spec.unit)})",
                spec.key,
                obs.maximum,
            )
        )
    elif obs.last <= spec.normal_high - margin:
        out.append(Finding(high, Verdict.CLEAR, sensor=spec.key, value=obs.last))
    if spec.normal_low > spec.low:
        low = f"low:{spec.key}"
        if not running:
            out.append(Finding(low, Verdict.CLEAR, sensor=spec.key, value=obs.last))
        elif obs.minimum < spec.normal_low:
            out.append(
                Finding(
                    low,
                    Verdict.RAISE,
                    severity_for_excess(band_excess(spec, obs.minimum)),
                    f"{spec.label} {_fmt(obs.minimum, spec.unit)} below its normal band (>= "
                    f"{_fmt(spec.normal_low, spec.unit)})",
                    spec.key,
                    obs.minimum,
                )
            )
        elif obs.last >= spec.normal_low + margin:
            out.append(Finding(low, Verdict.CLEAR, sensor=spec.key, value=obs.last))
    return out


def rate_finding(spec: SensorSpec, obs: SensorObservation) -> Finding | None:
    """Rate-of-change verdict for one sensor (None when the sensor has no ``max_rate``)."""
    if spec.max_rate is None:
        return None
    kind = f"rate:{spec.key}"
    if obs.rate > spec.max_rate:
        severity = AlarmSeverity.MAJOR if obs.rate > 2 * spec.max_rate else AlarmSeverity.MINOR
        message = f"{spec.label} changing at {obs.rate:.3g} {spec.unit}/s, faster than {spec.max_rate:g} {spec.unit}/s"
        return Finding(kind, Verdict.RAISE, severity, message, spec.key, obs.rate)
    if obs.rate <= RATE_CLEAR_FRACTION * spec.max_rate:
        return Finding(kind, Verdict.CLEAR, sensor=spec.key, value=obs.rate, clear_hold_s=RATE_CLEAR_HOLD_S)
    return Finding(kind, Verdict.HOLD)


def evaluate(
    specs: dict[str, SensorSpec],
    status: MachineStatus,
    observations: dict[str, SensorObservation],
    alarmed_sensors: Container[str | None] | None = None,
) -> list[Finding]:
    """Every verdict one batch gives for one machine (alarm types it says nothing about are left out).

    With ``alarmed_sensors`` (the sensors of the machine's active alarms), a sensor that is calm and has no alarm
    to clear is skipped: the common case costs one comparison per value.
    """
    running = status is MachineStatus.RUNNING
    findings: list[Finding] = []
    for key, obs in observations.items():
        spec = specs.get(key)
        if spec is None:
            continue
        if (
            alarmed_sensors is not None
            and key not in alarmed_sensors
            and spec.normal_low <= obs.minimum
            and obs.maximum <= spec.normal_high
            and (spec.max_rate is None or obs.rate <= spec.max_rate)
        ):
            continue
        findings.extend(band_findings(spec, obs, running))
        rate = rate_finding(spec, obs)
        if rate is not None:
            findings.append(rate)
    if status is MachineStatus.FAILED:
        findings.append(Finding(FAILED, Verdict.RAISE, AlarmSeverity.CRITICAL, "machine failed"))
    else:
        findings.append(Finding(FAILED, Verdict.CLEAR))
    findings.append(Finding(OFFLINE, Verdict.CLEAR))
    return findings


def offline_finding(silent_s: float) -> Finding:
    """The verdict of the offline watch on a machine silent for ``silent_s`` seconds."""
    return Finding(OFFLINE, Verdict.RAISE, AlarmSeverity.MAJOR, f"no telemetry for {silent_s:.0f} s")
