"""Evaluation at the level an engineer lives at: alert episodes, warned failures, false alarms per machine-month.

A row-level F1 says little to the person who is paged: an alert that stays on for ten hours is one call, not ten
true positives. These functions take per-step scores of each machine (time in hours, an alert flag) and the
failures that really happened, and count what the engineer sees:

- an **episode** is a run of consecutive alerting steps of one machine (a gap longer than ``max_gap_h`` ends it,
  so the hours a machine spends failed or in maintenance, which are never scored, split episodes);
- an episode is **true** when a failure of that machine follows within the horizon of its first step
  (``start <= failure <= start + horizon``): the page said "fails within 24 h" when it was raised. It is
  **false** when none does and the machine is observed for the whole horizon after the start; otherwise (the
  data end too soon) it is not judged. So an alert that is always on is one false episode per life, not one true
  one; a preventive maintenance after an alert does not excuse it (conservative);
- a failure is **warned with lead L** when an alert of its machine falls in ``[failure - horizon, failure - L]``
  and after the machine's previous failure; its **lead time** is failure minus the first such alert;
- false alarms are counted **per machine-month** of scored time (730 h);
- RUL error is compared with the constant prediction of the training median, mode accuracy with always
  answering the training set's commonest mode.

Everything here is plain numpy/pandas on hand-checkable inputs, so the definitions are unit tested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

HOURS_PER_MONTH = 730.0  # 8,760 h / 12
# Gradual mechanisms that announce themselves in the signals (wear, vibration, temperature trends). Random
# failures, and the instantaneous operating-point limits (power, heat dissipation, overstrain, overpressure) that
# trip within one job, are reported per mode but are not part of the "predictable" recall goal.
PREDICTABLE_MODES = frozenset(
    {"tool_wear", "bearing", "seal_wear", "belt_wear", "joint_wear", "overheating", "cavitation"}
)


@dataclass(frozen=True)
class Episode:
    """One alert episode of one machine: first and last alerting step (hours) and how many steps it spans."""

    machine_id: str
    start_h: float
    end_h: float
    steps: int


def alert_episodes(machine_id: str, t_h: np.ndarray, alert: np.ndarray, max_gap_h: float) -> list[Episode]:
    """The alert episodes of one machine from its scored steps (``t_h`` sorted ascending, ``alert`` booleans).

    Two alerting steps belong to one episode when no non-alerting step lies between them and they are at most
    ``max_gap_h`` apart.
    """
    t = np.asarray(t_h, dtype="float64")
    a = np.asarray(alert, dtype=bool)
    if len(t) != len(a):
        raise ValueError("t_h and alert must have the same length")
    if len(t) > 1 and np.any(np.diff(t) < 0):
        raise ValueError("t_h must be sorted")
    out: list[Episode] = []
    start = prev = np.nan
    steps = 0
    for ti, ai in zip(t, a, strict=True):
        if ai and steps and ti - prev <= max_gap_h:
            prev, steps = ti, steps + 1
            continue
        if steps:
            out.append(Episode(machine_id, float(start), float(prev), steps))
            steps = 0
        if ai:
            start = prev = ti
            steps = 1
    if steps:
        out.append(Episode(machine_id, float(start), float(prev), steps))
    return out


def first_warning_lead(
    failure_h: float, previous_failure_h: float, alert_t_h: np.ndarray, horizon_h: float
) -> float | None:
    """Hours between the first alert that announces a failure and the failure, or None when none did.

    An alert announces the failure when it lies in ``[failure - horizon, failure)`` and after the machine's
    previous failure (an alert before that one was about that one).
    """
    t = np.asarray(alert_t_h, dtype="float64")
    lo = max(failure_h - horizon_h, previous_failure_h)
    sel = t[(t >= lo) & (t < failure_h) & (t > previous_failure_h)]
    return float(failure_h - sel.min()) if len(sel) else None


class ModeRecall(BaseModel):
    """Warned failures of one mode and the distribution of their lead times (hours)."""

    failures: int
    warned: int
    recall: float
    lead_h_median: float | None = None
    lead_h_p10: float | None = None
    lead_h_p90: float | None = None


class EventReport(BaseModel):
    """What an engineer would have seen over the scored period; see the module docstring for definitions."""

    horizon_h: float
    lead_h: float
    machines: int
    machine_months: float
    episodes: int
    true_episodes: int
    false_episodes: int
    unjudged_episodes: int
    episode_precision: float | None
    false_alarms_per_machine_month: float
    failures: int
    predictable_failures: int
    predictable_recall: float | None = Field(description="share of predictable failures warned >= lead_h ahead")
    lead_h_quantiles: dict[str, float] = Field(default_factory=dict, description="of warned predictable failures")
    alert_share: float = Field(description="share of scored steps that alert")
    per_mode: dict[str, ModeRecall] = Field(default_factory=dict)
    per_kind: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    v = np.asarray(values)
    return {f"p{q}": float(np.percentile(v, q)) for q in (10, 25, 50, 75, 90)}


def event_report(
    scores: pd.DataFrame,
    failures: pd.DataFrame,
    horizon_h: float,
    step_h: float,
    lead_h: float = 2.0,
    predictable: Iterable[str] = PREDICTABLE_MODES,
    kinds: dict[str, str] | None = None,
) -> EventReport:
    """Episode precision, recall by lead time and mode, and false alarms per machine-month.

    ``scores``: one row per scored step with ``machine_id``, ``t_h`` (hours) and ``alert`` (bool).
    ``failures``: ``machine_id``, ``t_h`` and ``mode`` of every failure (also those before or after the scored
    period: they bound the lead-time windows). A failure counts when its machine is scored from at least
    ``lead_h`` before it until its last step before it (failures before the scoring starts cannot be warned).
    ``kinds`` (machine -> kind) adds a per-kind summary.
    """
    predictable_set = frozenset(predictable)
    max_gap_h = 1.5 * step_h
    episodes: list[Episode] = []
    judged: list[tuple[Episode, bool | None]] = []
    leads: dict[str, list[float | None]] = {}
    months = 0.0
    kind_acc: dict[str, dict[str, float]] = {}
    for mid, grp in scores.groupby("machine_id", sort=True):
        machine = str(mid)
        grp = grp.sort_values("t_h")
        t = grp["t_h"].to_numpy("float64")
        a = grp["alert"].to_numpy(bool)
        machine_months = len(t) * step_h / HOURS_PER_MONTH
        months += machine_months
        fm = failures[failures["machine_id"].astype(str) == machine].sort_values("t_h")
        f_t = fm["t_h"].to_numpy("float64")
        f_mode = fm["mode"].fillna("").astype(str).to_numpy()
        eps = alert_episodes(machine, t, a, max_gap_h)
        episodes.extend(eps)
        k = kind_acc.setdefault(
            (kinds or {}).get(machine, "all"), dict.fromkeys(("mm", "true", "false", "f", "w"), 0.0)
        )
        k["mm"] += machine_months
        for ep in eps:
            hit = bool(np.any((f_t >= ep.start_h) & (f_t <= ep.start_h + horizon_h)))
            verdict: bool | None = True if hit else (False if ep.start_h + horizon_h <= t[-1] else None)
            judged.append((ep, verdict))
            if verdict is not None:
                k["true" if verdict else "false"] += 1
        alert_t = t[a]
        for i, (ft, mode) in enumerate(zip(f_t, f_mode, strict=True)):
            if not (t[0] + lead_h <= ft <= t[-1] + max_gap_h):
                continue
            prev = f_t[i - 1] if i else -np.inf
            lead = first_warning_lead(float(ft), float(prev), alert_t, horizon_h)
            leads.setdefault(mode, []).append(lead)
            if mode in predictable_set:
                k["f"] += 1
                k["w"] += lead is not None and lead >= lead_h
    verdicts = [v for _, v in judged]
    true_n = sum(v is True for v in verdicts)
    false_n = sum(v is False for v in verdicts)
    per_mode: dict[str, ModeRecall] = {}
    warned_leads: list[float] = []
    pred_failures = pred_warned = 0
    for mode, vals in sorted(leads.items()):
        ok = [v for v in vals if v is not None and v >= lead_h]
        got = [v for v in vals if v is not None]
        q = _quantiles(got)
        per_mode[mode or "unknown"] = ModeRecall(
            failures=len(vals),
            warned=len(ok),
            recall=len(ok) / len(vals),
            lead_h_median=q.get("p50"),
            lead_h_p10=q.get("p10"),
            lead_h_p90=q.get("p90"),
        )
        if mode in predictable_set:
            pred_failures += len(vals)
            pred_warned += len(ok)
            warned_leads.extend(ok)
    per_kind: dict[str, dict[str, float | int | None]] = {}
    if kinds:
        for kind, acc in sorted(kind_acc.items()):
            per_kind[kind] = {
                "machine_months": round(acc["mm"], 3),
                "episode_precision": _ratio(acc["true"], acc["true"] + acc["false"]),
                "false_alarms_per_machine_month": _ratio(acc["false"], acc["mm"]),
                "predictable_failures": int(acc["f"]),
                "predictable_recall": _ratio(acc["w"], acc["f"]),
            }
    return EventReport(
        horizon_h=horizon_h,
        lead_h=lead_h,
        machines=int(scores["machine_id"].nunique()),
        machine_months=round(months, 3),
        episodes=len(episodes),
        true_episodes=true_n,
        false_episodes=false_n,
        unjudged_episodes=len(verdicts) - true_n - false_n,
        episode_precision=_ratio(true_n, true_n + false_n),
        false_alarms_per_machine_month=float(false_n / months) if months else 0.0,
        failures=sum(len(v) for v in leads.values()),
        predictable_failures=pred_failures,
        predictable_recall=_ratio(pred_warned, pred_failures),
        lead_h_quantiles=_quantiles(warned_leads),
        alert_share=float(scores["alert"].mean()) if len(scores) else 0.0,
        per_mode=per_mode,
        per_kind=per_kind,
    )


class BaselineComparison(BaseModel):
    """A model's score next to a trivial baseline's on the same rows."""

    rows: int
    model: float | None
    baseline: float | None
    improvement: float | None = Field(description="RUL: relative MAE reduction; mode: accuracy points gained")


def rul_vs_constant(truth: np.ndarray, predicted: np.ndarray, constant: float) -> BaselineComparison:
    """Mean absolute RUL error of the model and of always answering ``constant`` (the training median), on the
    rows whose true RUL is known; ``improvement`` is 1 - model/baseline (0.3: 30 % below the baseline)."""
    t = np.asarray(truth, dtype="float64")
    p = np.asarray(predicted, dtype="float64")
    ok = np.isfinite(t) & np.isfinite(p)
    if not ok.any():
        return BaselineComparison(rows=0, model=None, baseline=None, improvement=None)
    mae = float(np.abs(p[ok] - t[ok]).mean())
    base = float(np.abs(constant - t[ok]).mean())
    return BaselineComparison(rows=int(ok.sum()), model=mae, baseline=base, improvement=_improvement(mae, base))


def _improvement(mae: float, base: float) -> float | None:
    return 1.0 - mae / base if base > 0 else None


def mode_vs_majority(truth: np.ndarray, predicted: np.ndarray, majority: str) -> BaselineComparison:
    """Failure-mode accuracy of the model and of always answering ``majority`` (the training set's commonest
    mode), on the rows with a known mode; ``improvement`` is the difference in accuracy (0.2: 20 points)."""
    t = np.asarray(truth, dtype=object)
    ok = np.array([bool(v) for v in t], dtype=bool)
    if not ok.any():
        return BaselineComparison(rows=0, model=None, baseline=None, improvement=None)
    acc = float(np.mean(np.asarray(predicted, dtype=object)[ok] == t[ok]))
    base = float(np.mean(t[ok] == majority))
    return BaselineComparison(rows=int(ok.sum()), model=acc, baseline=base, improvement=acc - base)
