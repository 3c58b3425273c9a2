"""AI4I 2020: 5-fold stratified cross-validation of the failure model for "Machine failure".

Leakage-free: the failure-mode flags (TWF, HDF, PWF, OSF, RNF) are labels, never features; calibration and the
F1 threshold are fitted inside each training fold only. Also prints two references: the same model on the raw
sensor columns only (no physics features), and the documented HDF/PWF/OSF mechanisms used as fixed rules (no
learning, an upper reference for what the sensor columns can explain). Writes the reliability diagram to
docs/img/ml_ai4i_reliability.png.

With ``--transfer SIM.parquet`` (a ``factorytwin simulate`` output) it also trains the same model on simulator
data only (mill readings rows as operations, label: a failure within the next 10 minutes) and scores it on all of
AI4I: sim-to-real transfer, threshold chosen on the simulator data.

    .venv/bin/python bench/ml_ai4i.py [--folds 5] [--seed 0] [--no-plot] [--transfer var/sim365.parquet]
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
from sklearn.metrics import f1_score, precision_score, recall_score

from factorytwin.ml.datasets import LabeledData, prepare_table, read_frame
from factorytwin.ml.features import HEAT_DISSIPATION_DT_K, HEAT_DISSIPATION_RPM, POWER_HIGH_W, POWER_LOW_W
from factorytwin.ml.training import TrainConfig, best_f1_threshold, cross_validate, fit_bundle, score
from factorytwin.ml.transfer import prepare_snapshots

AI4I = Path(os.environ.get("FT_AI4I_PATH", Path(__file__).resolve().parents[2] / "shared" / "data" / "ai4i2020.csv"))
RAW = ["product_type", "air_temp", "process_temp", "spindle_speed", "torque", "tool_wear"]
PLOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "ml_ai4i_reliability.png"


def rules_reference(X: object) -> np.ndarray:
    """The documented HDF/PWF/OSF mechanisms as fixed rules on the derived features."""
    import pandas as pd

    assert isinstance(X, pd.DataFrame)
    hdf = (X["temp_diff"] < HEAT_DISSIPATION_DT_K) & (X["spindle_speed"] < HEAT_DISSIPATION_RPM)
    pwf = (X["mech_power_w"] < POWER_LOW_W) | (X["mech_power_w"] > POWER_HIGH_W)
    osf = X["overstrain_margin"] > 0
    return np.asarray(hdf | pwf | osf, dtype=int)


def plot(metrics: dict[str, object], path: Path) -> None:
    """Reliability diagram (out-of-fold calibrated probabilities) and per-fold F1 / ROC-AUC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rel = metrics["reliability"]
    folds = metrics["per_fold"]
    assert isinstance(rel, list)
    assert isinstance(folds, list)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    a.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    a.plot([r["predicted"] for r in rel], [r["observed"] for r in rel], "o-", label="model (out of fold)")
    for r in rel:
        a.annotate(
            str(r["count"]),
            (r["predicted"], r["observed"]),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
            color="dimgrey",
        )
    a.set(
        xlabel="predicted probability of failure",
        ylabel="observed failure frequency",
        title="AI4I 2020: reliability (5-fold CV)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    a.legend(loc="upper left", fontsize=8)
    idx = np.arange(len(folds))
    b.bar(idx - 0.2, [f["f1"] for f in folds], 0.4, label="F1")
    b.bar(idx + 0.2, [f["roc_auc"] for f in folds], 0.4, label="ROC-AUC")
    b.axhline(0.895, color="tab:red", ls=":", label="published leakage-free F1 0.895")
    b.set(xticks=idx, xticklabels=[f"fold {i + 1}" for i in idx], ylim=(0.7, 1.0), title="per fold")
    b.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def transfer(sim: Path, ai4i: LabeledData, console: Console) -> None:
    """Train on simulator snapshots only, score on AI4I."""
    import pandas as pd

    readings = pd.read_parquet(sim)
    events = pd.read_parquet(sim.with_name(sim.stem + ".events.parquet"))
    snaps = prepare_snapshots(readings, events, horizon_min=10.0)
    bundle = fit_bundle(snaps, TrainConfig())
    prob = bundle.predict_matrix(bundle.matrix(ai4i.X))["probability"]
    at_sim = score(ai4i.y, prob, bundle.threshold)
    oracle = score(ai4i.y, prob, best_f1_threshold(ai4i.y, prob))
    modes = pd.Series(snaps.mode[snaps.y == 1]).value_counts().to_dict() if snaps.mode is not None else {}
    table = Table(
        title=f"Transfer: trained on {sim.name} only ({len(snaps.y):,} mill rows, {int(snaps.y.sum())} "
        f"failing within 10 min: {modes}), scored on all of AI4I"
    )
    for col in ("threshold", "F1", "precision", "recall", "ROC-AUC", "Brier"):
        table.add_column(col, justify="right" if col != "threshold" else "left")
    for name, m in (
        (f"chosen on simulator data ({at_sim['threshold']:.3f})", at_sim),
        (f"best on AI4I, oracle, for reference ({oracle['threshold']:.3f})", oracle),
    ):
        table.add_row(
            name,
            f"{m['f1']:.4f}",
            f"{m['precision']:.4f}",
            f"{m['recall']:.4f}",
            f"{m['roc_auc']:.4f}",
            f"{m['brier']:.4f}",
        )
    console.print(table)


def main() -> int:
    """Run the cross-validation and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--transfer", type=Path, default=None, help="simulator readings parquet to train on")
    args = ap.parse_args()
    console = Console(width=150)
    if not AI4I.is_file():
        console.print(f"[red]AI4I 2020 not found at {AI4I}; set FT_AI4I_PATH")
        return 2
    data = prepare_table(read_frame(AI4I), "Machine failure")
    cfg = TrainConfig(seed=args.seed)
    t0 = time.perf_counter()
    full = cross_validate(data, args.folds, cfg)
    elapsed = time.perf_counter() - t0
    raw_data = type(data)(X=data.X[RAW], y=data.y, shape="table", source=data.source)
    raw = cross_validate(raw_data, args.folds, cfg)
    rule = rules_reference(data.X)

    table = Table(
        title=f"AI4I 2020 'Machine failure': {args.folds}-fold stratified CV ({len(data.y)} rows, "
        f"{int(data.y.sum())} failures)"
    )
    for col in ("model", "F1", "precision", "recall", "ROC-AUC", "Brier", "ECE"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for name, m in (("LightGBM + physics features (ours)", full), ("LightGBM, raw sensor columns only", raw)):
        table.add_row(
            name,
            f"{m['f1']:.4f} ± {m['f1_std']:.4f}",
            f"{m['precision']:.4f}",
            f"{m['recall']:.4f}",
            f"{m['roc_auc']:.4f} ± {m['roc_auc_std']:.4f}",
            f"{m['brier']:.4f}",
            f"{m['ece']:.4f}",
        )
    table.add_row(
        "reference: HDF/PWF/OSF rules, whole file",
        f"{f1_score(data.y, rule):.4f}",
        f"{precision_score(data.y, rule):.4f}",
        f"{recall_score(data.y, rule):.4f}",
        "-",
        "-",
        "-",
    )
    console.print(table)
    record(f"AI4I 'Machine failure' F1, {args.folds}-fold CV", full["f1"], "", goal=">= 0.92")
    record(f"AI4I 'Machine failure' ROC-AUC, {args.folds}-fold CV", full["roc_auc"], "")
    console.print("per-fold F1: " + ", ".join(f"{f['f1']:.3f}" for f in full["per_fold"]))
    console.print(f"features: {', '.join(data.X.columns)}")
    console.print(f"CV wall time {elapsed:.1f} s; command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    if args.transfer is not None:
        transfer(args.transfer, data, console)
    if not args.no_plot:
        plot(full, PLOT)
        console.print(f"reliability diagram: {PLOT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
