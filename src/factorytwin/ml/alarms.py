"""Alert thresholds chosen for a false-alarm budget, per machine kind, on out-of-fold predictions.

An F1-optimal threshold over all rows is set by the machines that fail most (mills and lathes fail every few
days, so nearly every hour of theirs is "within 24 h of a failure"); applied to a conveyor that fails twice a
year at random it pages the engineer every week. Instead each kind gets the threshold that warns the most of its
predictable failures at least ``lead_h`` ahead while raising at most ``max_false_per_month`` false-alarm episodes
per machine-month, measured on predictions from models that never saw the machine (grouped folds). A kind whose
failures no threshold warns within that budget (random failures only) gets a threshold above 1: it never alerts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from factorytwin.ml.events import PREDICTABLE_MODES, event_report

NEVER = 1.01  # a threshold no calibrated probability reaches


def candidate_thresholds(prob: np.ndarray, count: int = 24) -> list[float]:
    """Distinct probabilities to try, from quantiles of ``prob`` (upper tail denser), plus "never"."""
    p = np.asarray(prob, dtype="float64")
    if not len(p):
        return [NEVER]
    qs = 1.0 - np.geomspace(0.5, 0.002, count)
    cands = np.unique(np.round(np.quantile(p, qs), 4))
    cands = cands[cands > 0.0]
    return [float(c) for c in cands] + [NEVER]


def kind_thresholds(
    machine: np.ndarray,
    t_h: np.ndarray,
    prob: np.ndarray,
    kinds: dict[str, str],
    failures: pd.DataFrame,
    horizon_h: float,
    step_h: float,
    max_false_per_month: float = 1.0,
    lead_h: float = 2.0,
    min_failures: int = 5,
) -> dict[str, float]:
    """Per machine kind, the alert threshold on ``prob`` (out-of-fold, calibrated) that warns the most
    predictable failures ``lead_h`` ahead within ``max_false_per_month`` false-alarm episodes per machine-month;
    among equals the highest (fewest alerts). ``machine``/``t_h``/``prob`` are aligned rows. A kind with fewer
    than ``min_failures`` predictable failures never alerts: one failure is no basis for a threshold (an
    always-on alert "warns" it at the cost of one false episode per life)."""
    frame = pd.DataFrame({"machine_id": machine.astype(str), "t_h": t_h, "prob": prob})
    frame["kind"] = frame["machine_id"].map(kinds).fillna("")
    out: dict[str, float] = {}
    for kind, rows in frame.groupby("kind", sort=True):
        fails = failures[failures["machine_id"].astype(str).isin(set(rows["machine_id"]))]
        best_thr, best_warned = NEVER, 0
        if int(fails["mode"].isin(PREDICTABLE_MODES).sum()) < min_failures:
            out[str(kind)] = NEVER
            continue
        for thr in candidate_thresholds(rows["prob"].to_numpy()):
            scores = rows.assign(alert=rows["prob"] >= thr)
            rep = event_report(scores, fails, horizon_h, step_h, lead_h, PREDICTABLE_MODES)
            if rep.false_alarms_per_machine_month > max_false_per_month:
                continue
            warned = sum(m.warned for mode, m in rep.per_mode.items() if mode in PREDICTABLE_MODES)
            if warned >= best_warned:  # candidates ascend: on a tie the later (higher) threshold wins
                best_thr, best_warned = thr, warned
        out[str(kind)] = best_thr
    return out
