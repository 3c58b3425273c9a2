"""Choose the alert rules' false-alarm budget on the training seed alone: grouped cross-validation by machine.

For each budget, ``training.cross_validate`` (folds grouped by machine; the rules of each fold chosen on its own
inner out-of-fold risks) gives the out-of-fold event figures of 60 days of seed 1. The budget to ship is the one
that warns the most predictable failures while its out-of-fold false alarms stay within the goal (2 per
machine-month); no test seed is read.

    nice -n 10 .venv/bin/python bench/ml_budget.py [--budgets 1 2 3 4 6] [--folds 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ml_events import simulated

from factorytwin.ml.timeseries import HistorySpec, prepare_history
from factorytwin.ml.training import TrainConfig, cross_validate

GOAL_FALSE_PER_MONTH = 2.0


def main() -> None:
    """Print recall, precision and false alarms out of fold per budget and the budget chosen."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ml_bench"))
    ap.add_argument("--train-days", type=int, default=60)
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--budgets", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0, 6.0])
    args = ap.parse_args()
    data = prepare_history(*simulated(args.cache, args.train_days, 1), HistorySpec())
    best: tuple[int, float] | None = None
    for budget in args.budgets:
        m = cross_validate(data, args.folds, TrainConfig(max_false_alarms_per_month=budget))
        e = m["events"]
        warned = round((e["predictable_recall"] or 0.0) * e["predictable_failures"])
        fa, prec = e["false_alarms_per_machine_month"], e["episode_precision"]
        print(
            f"budget {budget:g}: out of fold {e['predictable_recall'] or 0:.1%} of {e['predictable_failures']} "
            f"predictable warned >= 2 h, episodes true {prec if prec is None else format(prec, '.1%')}, "
            f"{fa:.2f} false alarms per machine-month",
            flush=True,
        )
        if fa <= GOAL_FALSE_PER_MONTH and (best is None or warned > best[0]):
            best = (warned, budget)
    print("chosen budget:", None if best is None else best[1])


if __name__ == "__main__":
    main()
