"""Why predictable failures are (not) warned: per machine kind and failure mode, the risk in the hours before
each failure of a seed the model never saw, next to the risk of the same kind's steps that no failure follows.

Trains like ``bench/ml_events.py`` (60 days of seed 1, the package's ``fit_bundle``), scores ``--test-days`` of
seed 2 with ``evaluation.score_history`` and prints, per (kind, mode): failures, whether the mode counts as
predictable, how many were warned >= 2 h ahead, the median risk 12 h / 2 h before, and the share of the kind's
"quiet" steps (no failure within the horizon) whose risk is at least the median risk 2 h before the failure (a
threshold that would warn half of them would alert on that share of quiet steps). With ``--plot PNG`` it draws
the median and inter-quartile risk against hours before failure per (kind, mode), with the quiet steps' median
and 90th percentile as bands.

    nice -n 10 .venv/bin/python bench/ml_diagnose.py [--test-days 60] [--plot docs/img/ml_risk_before_failure.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from ml_events import simulated
from rich.console import Console
from rich.table import Table

from factorytwin.ml.evaluation import failures_of, score_history
from factorytwin.ml.events import PREDICTABLE_MODES, event_report
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle

BEFORE_H = np.arange(0, 25)  # hours before a failure, sampled on the scored grid


def risk_before(scores: pd.DataFrame, failures: pd.DataFrame, horizon_h: float) -> pd.DataFrame:
    """One row per (failure, hours before it): kind, mode, the risk and alert of the scored step that many hours
    before the failure (within the same life: after the machine's previous failure), NaN when not scored."""
    rows: list[dict[str, object]] = []
    for mid, grp in scores.groupby("machine_id", sort=True):
        g = grp.sort_values("t_h")
        t = g["t_h"].to_numpy("float64")
        p = g["probability"].to_numpy("float64")
        a = g["alert"].to_numpy(bool)
        kind = str(g["kind"].iloc[0])
        fm = failures[failures["machine_id"] == mid].sort_values("t_h")
        prev = -np.inf
        for ft, mode in zip(fm["t_h"].to_numpy("float64"), fm["mode"].astype(str), strict=True):
            if t[0] + 2.0 <= ft <= t[-1] + 1.5:
                for h in BEFORE_H:
                    at = ft - h
                    i = int(np.searchsorted(t, at, side="right")) - 1  # the newest step at or before `at`
                    ok = i >= 0 and at - t[i] < 1.0 and t[i] > prev and t[i] < ft
                    rows.append(
                        {
                            "machine_id": mid,
                            "kind": kind,
                            "mode": mode,
                            "failure_h": ft,
                            "before_h": int(h),
                            "risk": p[i] if ok else np.nan,
                            "alert": bool(a[i]) if ok else False,
                        }
                    )
            prev = ft
    return pd.DataFrame(rows)


def quiet_risk(scores: pd.DataFrame, horizon_h: float) -> pd.DataFrame:
    """The scored steps that no failure follows within the horizon (the steps an alert there would be false)."""
    rul = scores["rul_true"].to_numpy("float64")
    return scores[~(np.isfinite(rul) & (rul <= horizon_h))]


def summary(before: pd.DataFrame, quiet: pd.DataFrame, lead_h: float) -> pd.DataFrame:
    """Per (kind, mode): failures, predictable, warned >= lead_h, median risk 12 h and 2 h before, the share of
    the kind's quiet steps at or above the median risk 2 h before."""
    out = []
    for (kind, mode), g in before.groupby(["kind", "mode"], sort=True):
        n = g["failure_h"].nunique()
        warned = g[(g["before_h"] >= lead_h) & g["alert"]].groupby(["machine_id", "failure_h"]).ngroups
        r2 = g[g["before_h"] == int(lead_h)]["risk"].median()
        r12 = g[g["before_h"] == 12]["risk"].median()
        q = quiet[quiet["kind"] == kind]["probability"].to_numpy("float64")
        share = float(np.mean(q >= r2)) if len(q) and np.isfinite(r2) else np.nan
        out.append(
            {
                "kind": kind,
                "mode": mode,
                "failures": n,
                "predictable": mode in PREDICTABLE_MODES,
                "warned": warned,
                "risk_12h": r12,
                "risk_2h": r2,
                "quiet_median": float(np.median(q)) if len(q) else np.nan,
                "quiet_at_or_above_risk_2h": share,
            }
        )
    return pd.DataFrame(out)


def signal_frontier(
    test_r: pd.DataFrame, test_e: pd.DataFrame, spec: HistorySpec, budget: float, lead_h: float
) -> pd.DataFrame:
    """An upper bound that no model can be blamed for, per kind: over every signal's hourly value
    (``<signal>__last``) and thresholds at its quantiles (alert at or above, and at or below), the most predictable
    failures warned >= ``lead_h`` ahead within ``budget`` false-alarm episodes per machine-month, and the recall
    reached at any false-alarm rate by the best single-signal rule with at least 80 % recall. Chosen ON the test
    seed (an oracle, for the diagnosis only: nothing here tunes the package)."""
    data = prepare_history(test_r, test_e, spec)
    fails = failures_of(test_e)
    frame = pd.DataFrame({"machine_id": data.groups, "t_h": data.times})
    frame["kind"] = frame["machine_id"].map(data.kinds)
    out = []
    for kind, rows in frame.groupby("kind", sort=True):
        f = fails[fails["machine_id"].isin(set(rows["machine_id"]))]
        if not f["mode"].isin(PREDICTABLE_MODES).any():
            continue
        best: tuple[int, str, float, float, float | None] = (0, "-", np.nan, 0.0, None)
        at80: tuple[float, str, float, float | None] = (np.inf, "-", np.nan, None)
        for col in [c for c in data.X.columns if c.endswith("__last")]:
            v = data.X[col].to_numpy("float64")[rows.index]
            if np.isnan(v).all() or np.nanstd(v) == 0:
                continue
            for q in np.linspace(0.05, 0.95, 19):
                thr = float(np.nanquantile(v, q))
                for sign in (1.0, -1.0):
                    alert = (sign * v >= sign * thr) & ~np.isnan(v)
                    rep = event_report(rows.assign(alert=alert), f, spec.horizon_h, spec.step_s / 3600.0, lead_h)
                    n = sum(m.warned for md, m in rep.per_mode.items() if md in PREDICTABLE_MODES)
                    fa = rep.false_alarms_per_machine_month
                    name = f"{col[:-6]} {'>=' if sign > 0 else '<='} {thr:.4g}"
                    if fa <= budget and n > best[0]:
                        best = (n, name, fa, rep.predictable_recall or 0.0, rep.episode_precision)
                    if (rep.predictable_recall or 0.0) >= 0.8 and fa < at80[0]:
                        at80 = (fa, name, rep.predictable_recall or 0.0, rep.episode_precision)
        total = int(f["mode"].isin(PREDICTABLE_MODES).sum())
        out.append(
            {
                "kind": kind,
                "predictable": total,
                "best_within_budget": best[1],
                "recall_within_budget": best[3],
                "precision_within_budget": best[4],
                "rule_for_80pct": at80[1],
                "false_alarms_for_80pct": at80[0],
                "precision_for_80pct": at80[3],
            }
        )
    return pd.DataFrame(out)


def plot(before: pd.DataFrame, quiet: pd.DataFrame, rules: dict[str, object], path: Path) -> None:
    """Median and inter-quartile risk before failure per (kind, mode), quiet steps' median and p90 as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted(before.groupby(["kind", "mode"]).groups)
    cols = 4
    rows = (len(groups) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), sharex=True, squeeze=False)
    for ax, (kind, mode) in zip(axes.flat, groups, strict=False):
        g = before[(before["kind"] == kind) & (before["mode"] == mode)]
        by = g.groupby("before_h")["risk"]
        h = np.asarray(sorted(g["before_h"].unique()))
        med, lo, hi = by.median().reindex(h), by.quantile(0.25).reindex(h), by.quantile(0.75).reindex(h)
        color = "tab:red" if mode in PREDICTABLE_MODES else "tab:gray"
        ax.fill_between(-h, lo, hi, color=color, alpha=0.25, lw=0)
        ax.plot(-h, med, color=color, lw=2, label="before failure: median, IQR")
        q = quiet[quiet["kind"] == kind]["probability"]
        if len(q):
            ax.axhline(float(q.median()), color="tab:blue", ls="--", lw=1, label="no failure within 24 h: median")
            ax.axhline(float(q.quantile(0.9)), color="tab:blue", ls=":", lw=1, label="... p90")
        rule = rules.get(kind)
        on = getattr(rule, "on", None)
        if isinstance(on, float) and on <= 1.0:
            ax.axhline(on, color="black", lw=1, label="alert raise level")
        ax.axvline(-2, color="black", lw=0.5, alpha=0.5)
        n = g["failure_h"].nunique()
        ax.set_title(f"{kind}: {mode} ({n})", fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(groups) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("hours before the failure")
    axes[0][0].set_ylabel("calibrated risk (24 h)")
    axes[0][0].legend(fontsize=6, loc="upper left")
    fig.suptitle("Risk before each failure of a seed the model never saw (red: predictable modes)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def main() -> None:
    """Train on seed 1, score seed 2, print the per-(kind, mode) table, optionally draw it."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ml_bench"))
    ap.add_argument("--train-days", type=int, default=60)
    ap.add_argument("--test-days", type=int, default=60)
    ap.add_argument("--lead-h", type=float, default=2.0)
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--budget", type=float, default=2.0, help="false-alarm episodes per machine-month (frontier)")
    ap.add_argument("--frontier", action="store_true", help="also the single-signal oracle frontier per kind")
    args = ap.parse_args()
    train_r, train_e = simulated(args.cache, args.train_days, 1)
    test_r, test_e = simulated(args.cache, args.test_days, 2)
    spec = HistorySpec()
    data = prepare_history(train_r, train_e, spec)
    bundle_spec = {"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h}
    bundle = fit_bundle(data, TrainConfig(), spec={**bundle_spec, "signals": list(spec.signals)})
    scores = score_history(bundle, test_r, test_e)
    before = risk_before(scores, failures_of(test_e), spec.horizon_h)
    quiet = quiet_risk(scores, spec.horizon_h)
    table = Table(title=f"risk before failure, {args.test_days} days of seed 2 (model: 60 days of seed 1)")
    cols = ("kind", "mode", "failures", "pred.", "warned", "risk 12 h", "risk 2 h", "quiet median", "quiet >= risk 2 h")
    for c in cols:
        table.add_column(c, justify="left" if c in {"kind", "mode"} else "right")
    for r in summary(before, quiet, args.lead_h).itertuples():
        table.add_row(
            r.kind,
            r.mode,
            str(r.failures),
            "yes" if r.predictable else "",
            str(r.warned),
            f"{r.risk_12h:.2f}",
            f"{r.risk_2h:.2f}",
            f"{r.quiet_median:.2f}",
            f"{r.quiet_at_or_above_risk_2h:.0%}",
        )
    Console(width=150).print(table)
    print("alert rules:", bundle.kind_rules)
    if args.frontier:
        front = signal_frontier(test_r, test_e, spec, args.budget, args.lead_h)
        ft = Table(title="oracle: the best single-signal threshold per kind, chosen on the test seed itself")
        for c in (
            "kind",
            "predictable",
            f"best within {args.budget:g} FA/mm",
            "recall",
            "precision",
            "rule reaching 80 %",
            "its FA/mm",
            "its precision",
        ):
            ft.add_column(c)
        for r in front.itertuples():
            ft.add_row(
                r.kind,
                str(r.predictable),
                r.best_within_budget,
                f"{r.recall_within_budget:.0%}",
                "-" if r.precision_within_budget is None else f"{r.precision_within_budget:.0%}",
                r.rule_for_80pct,
                f"{r.false_alarms_for_80pct:.1f}",
                "-" if r.precision_for_80pct is None else f"{r.precision_for_80pct:.0%}",
            )
        Console(width=170).print(ft)
    if args.plot:
        plot(before, quiet, dict(bundle.kind_rules), args.plot)
        print("wrote", args.plot)


if __name__ == "__main__":
    main()
