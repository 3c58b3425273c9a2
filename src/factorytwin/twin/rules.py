"""Alarm rules, derived from the sensor catalogue: what each batch says about each alarm type of a machine.

Rules per sensor of a machine kind (``CATALOGUE``):

* ``high:<sensor>`` when a value exceeds the high edge of the sensor's band at the machine's operating point
  (``operating.operating_band``: the catalogue band, moved with the speed setpoint for the sensors that follow
  it); ``low:<sensor>`` when it falls below the low edge (only where the catalogue band does not start at the
  physical minimum). Severity grows with the distance beyond the band, as a fraction ``d`` of the band's width:
  warning below 10 %, minor below 25 %, major below 50 %, critical beyond. Deadband: the alarm clears once the
  newest value is back inside the band by the rule's ``deadband`` fraction of the band's width, so a value
  hovering at the edge does not make it flap.
* ``rate:<sensor>`` (sensors with ``max_rate``) when the value changes faster than ``max_rate`` per second:
  minor up to twice ``max_rate``, major beyond. It clears once the rate has stayed under ``RATE_CLEAR_FRACTION``
  of ``max_rate`` for the rule's off-delay (at least ``RATE_CLEAR_HOLD_S``).
* Band and rate rules are *process* alarms, judged only while the machine runs: a machine stopped, idle or in
  maintenance on purpose has no process alarms (they clear at once when it stops). Condition sensors (wear,
  ``operating.CONDITION_SENSORS``) stay judged while it is stopped, idle or failed; nothing is in maintenance.
* ``failed`` (critical) while the machine's status is failed, naming the failure mode the machine reported;
  ``offline`` (major) while it is silent (raised by the twin's offline watch, cleared by the next telemetry).

Every rule has an on-delay, an off-delay and a deadband (``operating.Tuning``; without one: none, and the 2 %
deadband). The text of an alarm and its ``value`` come from the same number, rounded to what the text shows.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from enum import Enum

from factorytwin.domain import AlarmSeverity, MachineStatus, SensorSpec
from factorytwin.twin.operating import CONDITION_SENSORS, IMMEDIATE, Tuning, operating_band
from factorytwin.twin.state import SensorObservation

HYSTERESIS_FRACTION = IMMEDIATE.deadband
RATE_CLEAR_FRACTION = 0.8
RATE_CLEAR_HOLD_S = 10.0
SIGNIFICANT_DIGITS = 4
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
CONDITION_STATUSES = frozenset({MachineStatus.RUNNING, MachineStatus.IDLE, MachineStatus.STOPPED, MachineStatus.FAILED})

TuningOf = Callable[[str], Tuning]
"""The tuning of a rule type of the machine being judged."""


def _immediate(rule_type: str) -> Tuning:
    return IMMEDIATE


class Verdict(Enum):
    """What a batch says about one alarm type: the condition holds, has ended, or cannot tell (keep as is)."""

    RAISE = "raise"
    CLEAR = "clear"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one alarm type of one machine, with what to put in the alarm when it is raised.

    ``on_delay_s``: how long (machine seconds) the condition must hold before a RAISE raises the alarm;
    ``clear_hold_s``: how long it must have been gone before a CLEAR clears it.
    """

    type: str
    verdict: Verdict
    severity: AlarmSeverity = AlarmSeverity.WARNING
    message: str = ""
    sensor: str | None = None
    value: float | None = None
    clear_hold_s: float = 0.0
    on_delay_s: float = 0.0


def severity_for_excess(d: float) -> AlarmSeverity:
    """Severity of a value ``d`` band-widths beyond its normal band."""
    for limit, severity in SEVERITY_STEPS:
        if d < limit:
            return severity
    return AlarmSeverity.CRITICAL


def shown(value: float) -> float:
    """``value`` rounded to the significant digits an alarm's text shows (the alarm's ``value`` is this number)."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _fmt(value: float, unit: str) -> str:
    return f"{value:.{SIGNIFICANT_DIGITS}g} {unit}"


def band_findings(
    spec: SensorSpec,
    obs: SensorObservation,
    judged: bool,
    tuning_of: TuningOf = _immediate,
    band: tuple[float, float] | None = None,
) -> list[Finding]:
    """High/low threshold verdicts for one sensor: against ``band`` (default: the catalogue's) while ``judged``;
    clear at once (no off-delay) while not."""
    low_edge, high_edge = band if band is not None else (spec.normal_low, spec.normal_high)
    width = high_edge - low_edge
    out: list[Finding] = []
    high = f"high:{spec.key}"
    rules = [high] + ([f"low:{spec.key}"] if spec.normal_low > spec.low else [])
    if not judged:
        return [Finding(rule, Verdict.CLEAR, sensor=spec.key, value=obs.last) for rule in rules]
    t_high = tuning_of(high)
    if obs.maximum > high_edge:
        value = shown(obs.maximum)
        out.append(
            Finding(
                high,
                Verdict.RAISE,
                severity_for_excess((obs.maximum - high_edge) / width),
                f"{spec.label} {_fmt(value, spec.unit)} above its normal band (<= {_fmt(high_edge, spec.unit)})",
                spec.key,
                value,
                on_delay_s=t_high.on_delay_s,
            )
        )
    elif obs.last <= high_edge - t_high.deadband * width:
        out.append(Finding(high, Verdict.CLEAR, sensor=spec.key, value=obs.last, clear_hold_s=t_high.off_delay_s))
    if len(rules) == 2:
        low = rules[1]
        t_low = tuning_of(low)
        if obs.minimum < low_edge:
            value = shown(obs.minimum)
            out.append(
                Finding(
                    low,
                    Verdict.RAISE,
                    severity_for_excess((low_edge - obs.minimum) / width),
                    f"{spec.label} {_fmt(value, spec.unit)} below its normal band (>= {_fmt(low_edge, spec.unit)})",
                    spec.key,
                    value,
                    on_delay_s=t_low.on_delay_s,
                )
            )
        elif obs.last >= low_edge + t_low.deadband * width:
            out.append(Finding(low, Verdict.CLEAR, sensor=spec.key, value=obs.last, clear_hold_s=t_low.off_delay_s))
    return out


def rate_finding(
    spec: SensorSpec, obs: SensorObservation, judged: bool = True, tuning_of: TuningOf = _immediate
) -> Finding | None:
    """Rate-of-change verdict for one sensor (None when the sensor has no ``max_rate``)."""
    if spec.max_rate is None:
        return None
    kind = f"rate:{spec.key}"
    if not judged:
        return Finding(kind, Verdict.CLEAR, sensor=spec.key, value=obs.rate)
    tuning = tuning_of(kind)
    if obs.rate > spec.max_rate:
        severity = AlarmSeverity.MAJOR if obs.rate > 2 * spec.max_rate else AlarmSeverity.MINOR
        rate = shown(obs.rate)
        message = f"{spec.label} changing at {_fmt(rate, spec.unit)}/s, faster than {spec.max_rate:g} {spec.unit}/s"
        return Finding(kind, Verdict.RAISE, severity, message, spec.key, rate, on_delay_s=tuning.on_delay_s)
    if obs.rate <= RATE_CLEAR_FRACTION * spec.max_rate:
        hold = max(RATE_CLEAR_HOLD_S, tuning.off_delay_s)
        return Finding(kind, Verdict.CLEAR, sensor=spec.key, value=obs.rate, clear_hold_s=hold)
    return Finding(kind, Verdict.HOLD)


def failed_message(mode: str | None) -> str:
    """The text of the failure alarm: it names the failure mode when the machine reported one."""
    return f"machine failed: {mode.replace('_', ' ')} failure" if mode else "machine failed (mode not reported)"


def evaluate(
    specs: dict[str, SensorSpec],
    status: MachineStatus,
    observations: dict[str, SensorObservation],
    alarmed_sensors: Container[str | None] | None = None,
    *,
    speed_pct: float = 100.0,
    tuning_of: TuningOf = _immediate,
    failure_mode: str | None = None,
) -> list[Finding]:
    """Every verdict one batch gives for one machine (alarm types it says nothing about are left out).

    ``speed_pct`` gives the operating point (the bands of the sensors with a setpoint response follow it);
    ``tuning_of`` the on-delay, off-delay and deadband of each rule.

    With ``alarmed_sensors`` (the sensors of the machine's active or pending alarms), a sensor that is calm and
    has no alarm to clear is skipped: the common case costs a few comparisons per value.
    """
    running = status is MachineStatus.RUNNING
    findings: list[Finding] = []
    for key, obs in observations.items():
        spec = specs.get(key)
        if spec is None:
            continue
        band = operating_band(spec, speed_pct)
        judged = status in CONDITION_STATUSES if key in CONDITION_SENSORS else running
        if (
            alarmed_sensors is not None
            and key not in alarmed_sensors
            and (not judged or (band[0] <= obs.minimum and obs.maximum <= band[1]))
            and (not judged or spec.max_rate is None or obs.rate <= spec.max_rate)
        ):
            continue
        findings.extend(band_findings(spec, obs, judged, tuning_of, band))
        rate = rate_finding(spec, obs, judged, tuning_of)
        if rate is not None:
            findings.append(rate)
    if status is MachineStatus.FAILED:
        findings.append(Finding(FAILED, Verdict.RAISE, AlarmSeverity.CRITICAL, failed_message(failure_mode)))
    else:
        findings.append(Finding(FAILED, Verdict.CLEAR))
    findings.append(Finding(OFFLINE, Verdict.CLEAR))
    return findings


def offline_finding(silent_s: float) -> Finding:
    """The verdict of the offline watch on a machine silent for ``silent_s`` seconds."""
    return Finding(OFFLINE, Verdict.RAISE, AlarmSeverity.MAJOR, f"no telemetry for {silent_s:.0f} s")
