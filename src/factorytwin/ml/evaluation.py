"""Score a stored history model on machine history it never saw, step by step, and report it as events.

``score_history`` replays the readings through the same feature path as training (``machine_features``, with the
model's own step, window and signals), keeps every scored step (not only those whose horizon is observed) and
attaches the truth: remaining life, the mode of the coming failure. ``evaluate_history`` turns that into an
``EventReport`` plus the RUL and mode comparisons with their trivial baselines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.datasets import TrainingDataError, label_time_to_event
from factorytwin.ml.events import (
    PREDICTABLE_MODES,
    BaselineComparison,
    EventReport,
    event_report,
    mode_vs_majority,
    rul_vs_constant,
)
from factorytwin.ml.timeseries import (
    MS_PER_HOUR,
    HistorySpec,
    history_frames,
    machine_features,
    renewal_times,
    renewals_only,
    ts_ms,
)


class HistoryEvaluation(BaseModel):
    """Event-level figures of a model on a history, with the baselines they are measured against."""

    events: EventReport
    rul: BaselineComparison
    mode: BaselineComparison


def spec_of(bundle: ModelBundle) -> HistorySpec:
    """The feature specification a history model was trained with (its step, window, horizon and signals)."""
    s = bundle.spec
    if bundle.shape != "history" or "step_s" not in s:
        raise TrainingDataError(f"a {bundle.shape!r} model cannot be scored on machine history")
    return HistorySpec(
        step_s=float(s["step_s"]),
        window=int(s["window"]),
        horizon_h=float(s["horizon_h"]),
        signals=tuple(s["signals"]),
    )


def failures_of(events: pd.DataFrame) -> pd.DataFrame:
    """``machine_id, t_h, mode`` of every failure in an event log (``ts`` in ms or timestamps)."""
    f = events[events["event"] == "failure"]
    mode = f["mode"].fillna("").astype(str) if "mode" in f.columns else pd.Series("", index=f.index)
    return pd.DataFrame(
        {
            "machine_id": f["machine_id"].astype(str).to_numpy(),
            "t_h": ts_ms(f["ts"], "ts").to_numpy("float64") / MS_PER_HOUR,
            "mode": mode.to_numpy(),
        }
    )


def score_history(bundle: ModelBundle, readings: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One row per scored step of every machine: ``machine_id, kind, t_h, probability, alert``, ``rul_pred`` and
    ``mode_pred`` when the model has those heads, and the truth ``rul_true`` (NaN when censored) and
    ``mode_true`` (the mode of a failure within the horizon, else "")."""
    spec = spec_of(bundle)
    readings, events = history_frames(readings, events)
    renew = renewals_only(events)
    parts: list[pd.DataFrame] = []
    for mid, wide in readings.groupby("machine_id", sort=True):
        wide = wide.sort_values("ts")
        machine = str(mid)
        fails = events[(events["machine_id"] == machine) & (events["event"] == "failure")].sort_values("ts")
        ren = renew[renew["machine_id"] == machine]
        renewal_ms = renewal_times(events, machine)
        kind = _first(wide, "kind")
        feats = machine_features(wide, renewal_ms, spec, kind, _first(wide, "product_type"))
        if not len(feats):
            continue
        X = bundle.matrix(feats)
        raw = bundle.predict_matrix(X)
        t_h = feats["ts"].to_numpy("float64") / MS_PER_HOUR
        fail_h = fails["ts"].to_numpy("float64") / MS_PER_HOUR
        _, rul, _ = label_time_to_event(
            t_h, fail_h, ren["ts"].to_numpy("float64") / MS_PER_HOUR, float(wide["ts"].max()) / MS_PER_HOUR, 1.0
        )
        mode_true = np.full(len(t_h), "", dtype=object)
        if len(fail_h):
            nxt = np.minimum(np.searchsorted(fail_h, t_h, side="left"), len(fail_h) - 1)
            modes = fails["mode"].fillna("").astype(str).to_numpy()[nxt]
            mode_true = np.where(np.isfinite(rul) & (rul <= spec.horizon_h), modes, "")
        part: dict[str, Any] = {
            "machine_id": machine,
            "kind": kind or "",
            "t_h": t_h,
            "probability": raw["probability"],
            "alert": bundle.machine_alerts(t_h, X, raw["probability"]),
            "rul_true": rul,
            "mode_true": mode_true,
        }
        if "rul" in raw:
            part["rul_pred"] = raw["rul"][:, 1]
        if "mode" in raw:
            part["mode_pred"] = np.asarray(bundle.mode_classes, dtype=object)[np.argmax(raw["mode"], axis=1)]
        parts.append(pd.DataFrame(part))
    if not parts:
        raise TrainingDataError("the readings hold no machine with scorable steps", column="machine_id")
    return pd.concat(parts, ignore_index=True)


def _first(frame: pd.DataFrame, col: str) -> str | None:
    if col not in frame.columns:
        return None
    s = frame[col].dropna()
    return str(s.iloc[0]) if len(s) else None


def report_from_scores(
    scores: pd.DataFrame,
    failures: pd.DataFrame,
    horizon_h: float,
    step_h: float,
    baselines: dict[str, Any],
    lead_h: float = 2.0,
) -> HistoryEvaluation:
    """The event report and the RUL/mode baseline comparisons of scored steps (``score_history``'s columns).

    ``baselines``: ``rul_median`` and ``mode_majority`` of the training data (stored in the model's spec)."""
    kinds = dict(zip(scores["machine_id"], scores["kind"], strict=False)) if "kind" in scores else None
    events = event_report(scores, failures, horizon_h, step_h, lead_h, PREDICTABLE_MODES, kinds)
    nan = np.full(len(scores), np.nan)
    rul = rul_vs_constant(
        scores["rul_true"].to_numpy("float64"),
        scores["rul_pred"].to_numpy("float64") if "rul_pred" in scores else nan,
        float(baselines.get("rul_median", np.nan)),
    )
    mode_pred = scores["mode_pred"].to_numpy(object) if "mode_pred" in scores else np.full(len(scores), None)
    mode = mode_vs_majority(scores["mode_true"].to_numpy(object), mode_pred, str(baselines.get("mode_majority", "")))
    return HistoryEvaluation(events=events, rul=rul, mode=mode)


def evaluate_history(
    bundle: ModelBundle, readings: pd.DataFrame, events: pd.DataFrame, lead_h: float = 2.0
) -> HistoryEvaluation:
    """Score ``bundle`` on a history (readings + event log) and report it as events, RUL and mode figures."""
    spec = spec_of(bundle)
    scores = score_history(bundle, readings, events)
    baselines = dict(bundle.spec.get("baselines", {}))
    return report_from_scores(scores, failures_of(events), spec.horizon_h, spec.step_s / 3600.0, baselines, lead_h)


def _pct(v: object) -> str:
    return f"{v:.0%}" if isinstance(v, int | float) else "-"


def event_summary(metrics: dict[str, Any]) -> str:
    """Event-level figures of a metrics dict (card or ``evaluate``) in a few Markdown lines."""
    e = metrics.get("events")
    lines = ["## Alerts as an engineer sees them", ""]
    if isinstance(e, dict):
        lines += [
            f"- alert episodes: {e['episodes']}; followed by a failure within {e['horizon_h']:g} h: "
            f"{_pct(e['episode_precision'])} ({e['true_episodes']} of {e['true_episodes'] + e['false_episodes']} "
            f"judged)",
            f"- false-alarm episodes per machine-month: {e['false_alarms_per_machine_month']:.2f} "
            f"({e['machine_months']:.1f} machine-months)",
            f"- predictable failures warned >= {e['lead_h']:g} h ahead: {_pct(e['predictable_recall'])} of "
            f"{e['predictable_failures']}; lead time median {e['lead_h_quantiles'].get('p50', float('nan')):.1f} h",
            "- per mode: "
            + ", ".join(f"{m} {_pct(r['recall'])} of {r['failures']}" for m, r in e.get("per_mode", {}).items()),
        ]
    rul, mode = metrics.get("rul_vs_median"), metrics.get("mode_vs_majority")
    if isinstance(rul, dict) and rul.get("model") is not None:
        lines.append(
            f"- RUL MAE {rul['model']:.1f} vs {rul['baseline']:.1f} for the training median "
            f"({_pct(rul['improvement'])} lower)"
        )
    if isinstance(mode, dict) and mode.get("model") is not None:
        lines.append(
            f"- mode accuracy {_pct(mode['model'])} vs {_pct(mode['baseline'])} for the commonest mode "
            f"({100 * mode['improvement']:+.0f} points)"
        )
    by_kind = metrics.get("thresholds_by_kind")
    if isinstance(by_kind, dict) and by_kind:
        silent = sorted(k for k, v in by_kind.items() if v > 1.0)
        shown = ", ".join(f"{k} {v:.3f}" for k, v in sorted(by_kind.items()) if v <= 1.0) or "none"
        lines.append(f"- alert thresholds per kind (false-alarm budget, out of fold): {shown}")
        rules = metrics.get("alert_rules_by_kind")
        if isinstance(rules, dict):
            shapes = [
                f"{k} mean of {r['smooth']:g} steps, raise {r['on']:.2f}, "
                f"hold >= {r['off']:.2f} up to {r['hold']:g} steps"
                for k, r in sorted(rules.items())
                if isinstance(r, dict) and r.get("on", 2.0) <= 1.0
            ]
            if shapes:
                lines.append("- alert rules (smoothed risk, hysteresis): " + "; ".join(shapes))
        if silent:
            lines.append(
                "- never alert (no threshold warned a predictable failure within the false-alarm budget): "
                + ", ".join(silent)
            )
    return "\n".join(lines)
