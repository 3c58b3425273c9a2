"""Event-level quality of the history model on a simulator seed it never saw (issue 12's goals).

Train on 60 simulated days of seed 1, score every step of 30 days of seed 2 (``ml.evaluation``), and print alert
episodes, warned failures by lead time and mode, false alarms per machine-month, RUL MAE against the training
median and mode accuracy against the commonest mode, next to the goals. The simulations are cached (``--cache``)
so that reruns only train and score.

    nice -n 10 .venv/bin/python bench/ml_events.py [--cache /tmp/ml_bench] [--step-s 3600 --window 12
        --horizon-h 24] [--lead-h 2] [--budget 3] [--alert-horizon-h 0] [--test-seed 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from figures import record
from rich.console import Console
from rich.table import Table

from factorytwin.ml.evaluation import HistoryEvaluation, evaluate_history
from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle

GOALS = {
    "predictable_recall": 0.80,
    "episode_precision": 0.50,
    "false_alarms_per_machine_month": 2.0,
    "rul_improvement": 0.30,
    "mode_points": 0.20,
}


def simulated(cache: Path, days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readings and events of ``days`` simulated days of ``seed`` (10-minute rows), simulated once and cached."""
    path = cache / f"sim{days}_s{seed}.parquet"
    events = path.with_name(f"{path.stem}.events.parquet")
    if not (path.is_file() and events.is_file()):
        cache.mkdir(parents=True, exist_ok=True)
        exe = str(Path(sys.executable).with_name("factorytwin"))
        cmd = [exe, "simulate", "--days", str(days), "--every", "10min", "--seed", str(seed), "--out", str(path)]
        subprocess.run(cmd, check=True, capture_output=True)
    return pd.read_parquet(path), pd.read_parquet(events)


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def render(ev: HistoryEvaluation, console: Console, title: str) -> None:
    """The goal table, then recall per mode and the per-kind summary."""
    e = ev.events
    rul_imp, mode_pts = ev.rul.improvement, ev.mode.improvement
    rows = [
        (
            f"predictable failures warned >= {e.lead_h:g} h ahead",
            _cell(e.predictable_recall, ".1%"),
            f">= {GOALS['predictable_recall']:.0%}",
            e.predictable_recall is not None and e.predictable_recall >= GOALS["predictable_recall"],
            f"{e.predictable_failures} predictable failures",
        ),
        (
            "alert episodes followed by a failure within the horizon",
            _cell(e.episode_precision, ".1%"),
            f">= {GOALS['episode_precision']:.0%}",
            e.episode_precision is not None and e.episode_precision >= GOALS["episode_precision"],
            f"{e.true_episodes} of {e.true_episodes + e.false_episodes} judged ({e.unjudged_episodes} not)",
        ),
        (
            "false-alarm episodes per machine-month",
            f"{e.false_alarms_per_machine_month:.2f}",
            f"<= {GOALS['false_alarms_per_machine_month']:g}",
            e.false_alarms_per_machine_month <= GOALS["false_alarms_per_machine_month"],
            f"{e.false_episodes} over {e.machine_months:.1f} machine-months",
        ),
        (
            "RUL MAE below the training-median baseline",
            _cell(rul_imp, ".1%"),
            f">= {GOALS['rul_improvement']:.0%}",
            rul_imp is not None and rul_imp >= GOALS["rul_improvement"],
            f"MAE {_cell(ev.rul.model, '.1f')} h vs {_cell(ev.rul.baseline, '.1f')} h ({ev.rul.rows} rows)",
        ),
        (
            "mode accuracy above the majority class",
            _cell(None if mode_pts is None else 100 * mode_pts, "+.1f") + " pts",
            f">= +{100 * GOALS['mode_points']:.0f} pts",
            mode_pts is not None and mode_pts >= GOALS["mode_points"],
            f"{_cell(ev.mode.model, '.1%')} vs {_cell(ev.mode.baseline, '.1%')} ({ev.mode.rows} rows)",
        ),
    ]
    table = Table(title=title)
    for col in ("measure", "value", "goal", "met", "detail"):
        table.add_column(col, justify="left" if col in {"measure", "detail"} else "right")
    for name, value, goal, met, detail in rows:
        table.add_row(name, value, goal, "[green]yes[/]" if met else "[red]no[/]", detail)
    console.print(table)
    modes = Table(title=f"failures warned >= {e.lead_h:g} h ahead, per mode (lead time in hours)")
    for col in ("mode", "failures", "warned", "recall", "lead p10", "lead median", "lead p90"):
        modes.add_column(col, justify="left" if col == "mode" else "right")
    for mode, m in e.per_mode.items():
        modes.add_row(
            mode,
            str(m.failures),
            str(m.warned),
            f"{m.recall:.0%}",
            _cell(m.lead_h_p10, ".1f"),
            _cell(m.lead_h_median, ".1f"),
            _cell(m.lead_h_p90, ".1f"),
        )
    console.print(modes)
    kinds = Table(title=f"per machine kind (alerts on {e.alert_share:.1%} of all scored steps)")
    for col in ("kind", "machine-months", "episode precision", "false alarms / machine-month", "predictable recall"):
        kinds.add_column(col, justify="left" if col == "kind" else "right")
    for kind, k in e.per_kind.items():
        kinds.add_row(
            kind,
            f"{k['machine_months']:.1f}",
            _cell(k["episode_precision"], ".0%"),
            _cell(k["false_alarms_per_machine_month"], ".2f"),
            (_cell(k["predictable_recall"], ".0%") + f" of {k['predictable_failures']}"),
        )
    console.print(kinds)


def main() -> None:
    """Train on one seed, score on another, print the figures against the goals."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ml_bench"))
    ap.add_argument("--train-days", type=int, default=60)
    ap.add_argument("--test-days", type=int, default=30)
    ap.add_argument("--test-seed", type=int, default=2, help="the simulator seed scored (never 1, the training seed)")
    ap.add_argument("--step-s", type=float, default=3600.0)
    ap.add_argument("--window", type=int, default=12)
    ap.add_argument("--horizon-h", type=float, default=24.0)
    ap.add_argument("--lead-h", type=float, default=2.0)
    ap.add_argument(
        "--budget",
        type=float,
        default=TrainConfig().max_false_alarms_per_month,
        help="false-alarm episodes per machine-month the rules may raise on the inner out-of-fold data",
    )
    ap.add_argument(
        "--alert-horizon-h",
        type=float,
        default=0.0,
        help="> 0: alert rules on a head of 'a predictable failure within this many hours' (ml.alert_head)",
    )
    ap.add_argument("--json", action="store_true", help="print the evaluation as JSON only")
    args = ap.parse_args()
    console = Console(stderr=args.json, width=150)
    t0 = time.perf_counter()
    train_r, train_e = simulated(args.cache, args.train_days, 1)
    test_r, test_e = simulated(args.cache, args.test_days, args.test_seed)
    spec = HistorySpec(step_s=args.step_s, window=args.window, horizon_h=args.horizon_h)
    data = prepare_history(train_r, train_e, spec)
    bundle_spec = {"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h}
    cfg = TrainConfig(max_false_alarms_per_month=args.budget, lead_h=args.lead_h, alert_horizon_h=args.alert_horizon_h)
    bundle = fit_bundle(data, cfg, spec={**bundle_spec, "signals": list(spec.signals)})
    t1 = time.perf_counter()
    ev = evaluate_history(bundle, test_r, test_e, lead_h=args.lead_h)
    t2 = time.perf_counter()
    if args.json:
        print(json.dumps(ev.model_dump(mode="json"), indent=2))
        return
    render(
        ev,
        console,
        f"trained on {args.train_days} days of seed 1 ({len(data)} rows), scored on {args.test_days} days of "
        f"seed {args.test_seed}; "
        f"step {args.step_s:g} s, window {args.window}, horizon {args.horizon_h:g} h, false-alarm budget "
        f"{args.budget:g} per machine-month",
    )
    console.print(f"train {t1 - t0:.0f} s, score {t2 - t1:.0f} s; alert rules per kind: {bundle.kind_rules}")
    e = ev.events
    record("events: predictable failures warned >= 2 h ahead", e.predictable_recall or 0.0, "share", goal=">= 0.8")
    record("events: alert episodes followed by a failure", e.episode_precision or 0.0, "share", goal=">= 0.5")
    record(
        "events: false-alarm episodes per machine-month",
        e.false_alarms_per_machine_month,
        "1/machine-month",
        goal="<= 2",
        better="lower",
    )
    record("events: RUL MAE below the median baseline", ev.rul.improvement or 0.0, "share", goal=">= 0.3")
    record("events: mode accuracy above the majority", ev.mode.improvement or 0.0, "points/100", goal=">= 0.2")


if __name__ == "__main__":
    main()
