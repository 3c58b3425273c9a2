"""The generic run-to-failure path next to the plain LightGBM rolling-window baseline of ``bench/ml_rtf.py``, on
synthetic turbofan-like units (issue 12): steady, monotone degradation visible in many sensors, operating
conditions that move the sensors far more than the wear does, constant and noise-only sensors
(``factorytwin.ml.synthetic_rtf``, the model is documented there and in docs/ML.md).

Two variants, each with ``--train-units`` training units (seed 1) run to failure and ``--test-units``
right-censored test units (seed 2) with their remaining life in a separate file: one operating condition and six
operating conditions. Both models are scored the usual way: true and predicted RUL capped at ``--cap`` (125)
cycles, RMSE at each test unit's last row.

- generic: ``factorytwin train --data train.csv --rul-cap 125 --folds 0`` and ``factorytwin evaluate --data
  test.csv --rul-file test_rul.csv`` with every other option at its documented default
  (``pipeline.train_and_register``, ``predict.censored_rul_report``);
- baseline: ``bench/ml_rtf.py``'s (rolling mean/std/min/max over 10 and 30 rows and the last value of every
  column, plus the cycle; LightGBM L2, 400 trees, 31 leaves, learning rate 0.05, capped target).

    .venv/bin/python bench/ml_rtf_turbofan.py [--train-units 200] [--test-units 100] [--cap 125] [--regimes 1,6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from figures import record
from ml_rtf import baseline_rmse, constant_rmse, generic_report
from rich.console import Console
from rich.table import Table

from factorytwin.ml.synthetic_rtf import turbofan_like_units


def main() -> None:
    """Generate both variants, train both models on each, print the RMSEs and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-units", type=int, default=200)
    ap.add_argument("--test-units", type=int, default=100)
    ap.add_argument("--cap", type=float, default=125.0)
    ap.add_argument("--regimes", default="1,6", help="comma-separated numbers of operating conditions (1-6)")
    args = ap.parse_args()
    console = Console(width=150)
    table = Table(
        title=f"turbofan-like units: {args.train_units} training units (seed 1), {args.test_units} right-censored "
        f"test units (seed 2); RUL capped at {args.cap:g} cycles"
    )
    for col in ("conditions", "model", "RMSE", "MAE", "fit + score"):
        table.add_column(col, justify="left" if col in {"model", "conditions"} else "right")
    ratios: list[str] = []
    for regimes in (int(r) for r in args.regimes.split(",")):
        train, _ = turbofan_like_units(args.train_units, seed=1, regimes=regimes)
        test, test_rul = turbofan_like_units(args.test_units, seed=2, regimes=regimes, censor=True)
        t0 = time.perf_counter()
        generic = generic_report(train, test, test_rul, args.cap)
        t1 = time.perf_counter()
        base = baseline_rmse(train.astype({"unit": str}), test.astype({"unit": str}), test_rul.astype({"unit": str}),
                             args.cap)  # fmt: skip
        t2 = time.perf_counter()
        constant, const_rmse = constant_rmse(train, test_rul, args.cap)
        g_rmse = float(generic["rul_rmse"] or np.nan)
        label = f"{regimes}"
        table.add_row(label, "generic path, documented defaults (--rul-cap)", f"{g_rmse:.2f}",
                      f"{generic['rul_mae']:.2f}", f"{t1 - t0:.0f} s")  # fmt: skip
        table.add_row(label, "plain LightGBM, rolling windows 10/30", f"{base:.2f}", "-", f"{t2 - t1:.0f} s")
        table.add_row(label, f"reference: always {constant:.0f} (training median)", f"{const_rmse:.2f}", "-", "-")
        ratio = g_rmse / base
        ratios.append(f"{regimes} condition(s): {ratio:.3f}")
        name = f"run-to-failure (turbofan-like, {regimes} condition{'s' if regimes > 1 else ''})"
        record(f"{name}: generic path RUL RMSE", g_rmse, "cycles", better="lower")
        record(f"{name}: LightGBM baseline RUL RMSE", base, "cycles", better="lower")
        record(f"{name}: generic / baseline RMSE", ratio, "ratio", goal="<= 1.05", better="lower")
    console.print(table)
    console.print(f"generic / baseline RMSE (goal <= 1.05): {'; '.join(ratios)}")


if __name__ == "__main__":
    main()
