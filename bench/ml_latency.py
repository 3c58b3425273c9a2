"""Prediction latency for one machine and batch throughput.

- one machine, model only: ``ModelBundle.predictions`` on one feature row (failure probability + calibration,
  RUL quantiles, failure mode, top-3 contributions), p50/p99 over many calls;
- one machine, end to end: the same plus building the features from 13 h of raw 10-minute readings with the
  numpy fast path (what the ``Predictor`` does for each machine after reading the store);
- batch: ``POST /predict``'s work for 100,000 rows (probability, RUL, mode), rows per second; and with top-3
  reasons (TreeSHAP contributions, much dearer).

Models: the history model (168 windowed features) trained on a synthetic run-to-failure history, and the AI4I
table model (12 features). Single-threaded LightGBM, as served.

    .venv/bin/python bench/ml_latency.py [--calls 2000] [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from figures import record
from rich.console import Console
from rich.table import Table

from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.datasets import prepare_table, read_frame
from factorytwin.ml.latest import latest_feature_row
from factorytwin.ml.synthetic import synthetic_history
from factorytwin.ml.timeseries import HistorySpec, machine_features, prepare_history
from factorytwin.ml.training import TrainConfig, fit_bundle

AI4I = Path(os.environ.get("FT_AI4I_PATH", Path(__file__).resolve().parents[2] / "shared" / "data" / "ai4i2020.csv"))


def timings(fn: object, calls: int) -> np.ndarray:
    """Wall time of each of ``calls`` calls of ``fn``, in milliseconds (after 20 warm-up calls)."""
    assert callable(fn)
    for _ in range(20):
        fn()
    out = np.empty(calls)
    for i in range(calls):
        t = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t) * 1000
    return out


def main() -> int:
    """Measure and print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    console = Console(width=150)
    spec = HistorySpec()
    readings, events = synthetic_history(machines=6, days=60)
    data = prepare_history(readings, events, spec)
    hist = fit_bundle(
        data,
        TrainConfig(),
        spec={"step_s": spec.step_s, "window": spec.window, "horizon_h": spec.horizon_h, "signals": list(spec.signals)},
    )
    bundles: list[tuple[str, ModelBundle, np.ndarray]] = [("history model", hist, data.X.to_numpy("float64"))]
    if AI4I.is_file():
        table_data = prepare_table(read_frame(AI4I), "Machine failure")
        bundles.append(("AI4I table model", fit_bundle(table_data, TrainConfig()), table_data.X.to_numpy("float64")))

    table = Table(title="ML inference (single thread)")
    for col in ("model", "measure", "p50", "p99", "throughput"):
        table.add_column(col, justify="left" if col in {"model", "measure"} else "right")
    for name, bundle, X in bundles:
        one = X[[len(X) // 2]]
        t = timings(lambda b=bundle, r=one: b.predictions(r, reasons=3), args.calls)
        record(
            f"prediction p99, one machine ({name})", float(np.percentile(t, 99)), "ms", goal="< 5 ms", better="lower"
        )
        table.add_row(
            name,
            "one machine: predict + RUL + mode + 3 reasons",
            f"{np.percentile(t, 50):.3f} ms",
            f"{np.percentile(t, 99):.3f} ms",
            "",
        )
        rng = np.random.default_rng(0)
        big = X[rng.integers(0, len(X), args.rows)]
        t0 = time.perf_counter()
        bundle.predict_matrix(big)
        rate = args.rows / (time.perf_counter() - t0)
        record(f"batch prediction ({name})", rate, "rows/s", goal=">= 50,000")
        table.add_row(name, f"batch of {args.rows:,} rows, no reasons", "", "", f"{rate:,.0f} rows/s")
        n = min(args.rows, 20_000)
        t0 = time.perf_counter()
        bundle.predict_matrix(big[:n], reasons=3)
        rate = n / (time.perf_counter() - t0)
        table.add_row(name, f"batch of {n:,} rows with reasons", "", "", f"{rate:,.0f} rows/s")

    # end to end for one machine: raw readings of the last 13 h -> features (numpy fast path) -> prediction
    mill = readings[readings["machine_id"] == "mill-01"]
    recent = mill[mill["ts"] > mill["ts"].iloc[-1] - 13 * 3_600_000]
    ts = recent["ts"].to_numpy()
    values = {
        c: recent[c].to_numpy("float64")
        for c in ("air_temp", "process_temp", "spindle_speed", "torque", "tool_wear", "vibration")
    }
    renewals = events.loc[events["machine_id"] == "mill-01", "ts"].to_numpy("float64")

    def end_to_end() -> None:
        row = latest_feature_row(ts, values, renewals, spec, "cnc_mill", "L")
        hist.predictions(row[None, :], reasons=3)

    t = timings(end_to_end, args.calls)
    table.add_row(
        "history model",
        f"one machine end to end ({len(recent)} raw readings -> features -> predict)",
        f"{np.percentile(t, 50):.3f} ms",
        f"{np.percentile(t, 99):.3f} ms",
        "",
    )
    t = timings(lambda: machine_features(recent, renewals, spec, "cnc_mill", "L"), 100)
    table.add_row(
        "(training path)",
        "pandas features of the same readings, for comparison",
        f"{np.percentile(t, 50):.3f} ms",
        f"{np.percentile(t, 99):.3f} ms",
        "",
    )
    console.print(table)
    console.print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
