"""From a training file (or the twin's history) to a registered model version with its card."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from factorytwin.errors import NotFound
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.datasets import (
    AI4I_MODE_FLAGS,
    ID_LIKE_COLUMNS,
    LabeledData,
    TrainingDataError,
    prepare_table,
    read_frame,
)
from factorytwin.ml.evaluation import event_summary
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.schema import ModelCard
from factorytwin.ml.timeseries import (
    HistorySpec,
    fit_run_to_failure_regimes,
    prepare_history,
    prepare_run_to_failure,
)
from factorytwin.ml.training import Progress, TrainConfig, _quiet, cross_validate, fit_bundle

Shape = Literal["auto", "table", "run_to_failure", "history"]


@dataclass
class TrainOptions:
    """What to learn from: the file, its shape and the columns that matter (see docs/ML.md for formats)."""

    data: Path
    target: str | None = None
    shape: Shape = "auto"
    unit_col: str = "unit"
    time_col: str = "cycle"
    horizon: float = 24.0
    window: int = 12
    step_s: float = 3600.0
    drop: list[str] = field(default_factory=list)
    mode_columns: dict[str, str] | None = None
    folds: int = 5
    # piecewise-linear RUL target: learn min(RUL, rul_cap), so that early life (no visible degradation yet) is
    # "at least rul_cap" rather than a guess of its exact length; None: the true RUL
    rul_cap: float | None = None
    # run-to-failure: the operating-condition columns whose regimes every other sensor is standardised within
    # (``ml.regimes``); None finds them automatically, [] turns the normalisation off
    conditions: list[str] | None = None


def options_for_model(bundle: ModelBundle, opts: TrainOptions) -> TrainOptions:
    """``opts`` with the shape, window, step, horizon and columns a stored model was trained with, so that a file
    is labelled and featurised exactly as the model's training data was (the command line cannot disagree)."""
    spec = bundle.spec
    if bundle.shape == "history":
        return replace(
            opts,
            shape="history",
            step_s=float(spec["step_s"]),
            window=int(spec["window"]),
            horizon=float(spec["horizon_h"]),
        )
    if bundle.shape == "run_to_failure":
        return replace(
            opts,
            shape="run_to_failure",
            window=int(spec.get("window", opts.window)),
            unit_col=str(spec.get("unit_col", opts.unit_col)),
            time_col=str(spec.get("time_col", opts.time_col)),
            horizon=float(bundle.horizon) if bundle.horizon is not None else opts.horizon,
        )
    return replace(opts, shape="table")


def events_path_for(path: Path) -> Path:
    """The simulator's event log next to a readings file: ``<stem>.events.parquet``."""
    return path.with_name(f"{path.stem}.events.parquet")


def detect_shape(frame: pd.DataFrame, opts: TrainOptions) -> Shape:
    """history when it looks like simulator readings with an event log beside it; run_to_failure when the unit
    and time columns exist; table otherwise."""
    if {"machine_id", "ts"} <= set(frame.columns) and events_path_for(opts.data).is_file():
        return "history"
    if {opts.unit_col, opts.time_col} <= set(frame.columns):
        return "run_to_failure"
    return "table"


def file_digest(path: Path) -> str:
    """sha256 of a file, so a model card names exactly the data it learned from."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_training_data(opts: TrainOptions) -> tuple[LabeledData, dict[str, Any], list[str], str]:
    """Read and label ``opts.data``. Returns (data, bundle spec, excluded columns, target description)."""
    frame = read_frame(opts.data)
    shape = opts.shape if opts.shape != "auto" else detect_shape(frame, opts)
    if shape == "history":
        events_file = events_path_for(opts.data)
        events = read_frame(events_file)
        spec = HistorySpec(step_s=opts.step_s, window=opts.window, horizon_h=opts.horizon)
        data = prepare_history(frame, events, spec)
        bundle_spec = {
            "step_s": spec.step_s,
            "window": spec.window,
            "horizon_h": spec.horizon_h,
            "signals": list(spec.signals),
        }
        return data, bundle_spec, ["status", "events: failure/repair/maintenance, mode"], "failure within horizon"
    if shape == "run_to_failure":
        regimes = fit_run_to_failure_regimes(
            frame, opts.unit_col, opts.time_col, opts.target, opts.drop, opts.conditions
        )
        data, signals = prepare_run_to_failure(
            frame, opts.unit_col, opts.time_col, opts.horizon, opts.window, opts.target, opts.drop, regimes
        )
        data.source["conditions"] = list(regimes.conditions) if regimes else []
        data.source["regimes"] = len(regimes.regimes) if regimes else 0
        spec_rtf: dict[str, Any] = {
            "signals": list(signals),
            "window": opts.window,
            "unit_col": opts.unit_col,
            "time_col": opts.time_col,
        }
        if regimes is not None:
            spec_rtf["regimes"] = regimes.to_spec()
        excluded = [opts.unit_col, opts.time_col, *([opts.target] if opts.target else []), *opts.drop]
        return data, spec_rtf, excluded, opts.target or "failure at the unit's last cycle, within horizon"
    if opts.target is None:
        raise TrainingDataError("a per-sample table needs --target naming its 0/1 failure column")
    data = prepare_table(frame, opts.target, opts.mode_columns, opts.drop)
    modes = (
        opts.mode_columns
        if opts.mode_columns is not None
        else {c: m for c, m in AI4I_MODE_FLAGS.items() if c in frame.columns}
    )
    excluded = [opts.target, *modes, *opts.drop, *(c for c in ID_LIKE_COLUMNS if c in frame.columns)]
    return data, {}, excluded, opts.target


def make_card(
    data: LabeledData,
    bundle: ModelBundle,
    metrics: dict[str, Any],
    target: str,
    excluded: list[str],
    training_data: dict[str, Any],
    params: dict[str, Any] | None = None,
    notes: str = "",
) -> ModelCard:
    """The model card of a freshly trained bundle (the registry fills in the version)."""
    heads = ["failure"] + (["rul"] if bundle.rul else []) + (["mode"] if bundle.mode is not None else [])
    shape: Literal["table", "history", "run_to_failure"] = (
        "history" if data.shape == "history" else "run_to_failure" if data.shape == "run_to_failure" else "table"
    )
    return ModelCard(
        version="pending",
        created_at=datetime.now(UTC),
        shape=shape,
        target=target,
        horizon=bundle.horizon,
        horizon_unit=bundle.horizon_unit if bundle.horizon is not None else None,
        training_data={**training_data, **data.source},
        features=list(bundle.features),
        excluded_columns=excluded,
        metrics={
            **metrics,
            "threshold": bundle.threshold,
            "thresholds_by_kind": bundle.kind_thresholds,
            "alert_rules_by_kind": {k: r.to_dict() for k, r in bundle.kind_rules.items()},
            "mode_classes": bundle.mode_classes,
        },
        params=params or {},
        models=heads,
        notes=notes,
    )


def train_and_register(
    opts: TrainOptions,
    registry: ModelRegistry,
    cfg: TrainConfig | None = None,
    progress: Progress = _quiet,
    activate: bool = True,
) -> ModelCard:
    """Load, cross-validate (``opts.folds`` > 1), fit every head, and store a new active version."""
    cfg = cfg or TrainConfig()
    data, spec, excluded, target = load_training_data(opts)
    if opts.rul_cap is not None:
        if opts.rul_cap <= 0:
            raise TrainingDataError(f"--rul-cap must be positive, not {opts.rul_cap:g}")
        if data.rul is not None:
            data.rul = np.minimum(data.rul, opts.rul_cap)  # NaN (censored) stays NaN
        spec = {**spec, "rul_cap": opts.rul_cap}
    metrics: dict[str, Any] = {}
    if opts.folds > 1:
        metrics = cross_validate(data, opts.folds, cfg, progress)
    unit = "cycles" if data.shape == "run_to_failure" else "h"
    bundle = fit_bundle(data, cfg, progress, spec=spec, horizon_unit=unit)
    if data.shape == "table":
        bundle.horizon = None  # a per-sample table says "this operation fails", not a time horizon
    info = {"file": str(opts.data), "sha256": file_digest(opts.data)}
    rules = {k: r.to_dict() for k, r in bundle.kind_rules.items()}
    summary = {**metrics, "thresholds_by_kind": bundle.kind_thresholds, "alert_rules_by_kind": rules}
    notes = event_summary(summary) if "events" in metrics else ""
    card = make_card(data, bundle, metrics, target, excluded, info, params=cfg.lgb_params("binary"), notes=notes)
    return register_gated(registry, bundle, card, activate)


CHANCE_AUC = 0.55  # a first model must rank failures above non-failures clearly better than a coin (0.5)
AUC_TOLERANCE = 0.005  # CV noise: a new model within this of the active one's ROC-AUC counts as not worse


def gate(new_metrics: dict[str, Any], active: ModelCard | None) -> tuple[bool, str]:
    """Whether a new model may replace the active one, and why, from held-out (cross-validated) card metrics.

    The first model must beat chance (ROC-AUC >= 0.55); a later one must not rank worse than the active model
    (ROC-AUC within 0.005 or better) and, when both cards have event-level figures, must warn at least as many
    predictable failures without more false alarms per machine-month. Without held-out metrics (no
    cross-validation) there is nothing to judge: the caller's choice stands, and the card says so.
    """
    auc = new_metrics.get("roc_auc")
    if not isinstance(auc, float) or auc != auc:
        return True, "not gated: no held-out metrics (trained without cross-validation)"
    if active is None or not isinstance(active.metrics.get("roc_auc"), float):
        if auc < CHANCE_AUC:
            return False, f"ROC-AUC {auc:.3f} is no better than chance (needs >= {CHANCE_AUC})"
        return True, f"first gated model: ROC-AUC {auc:.3f} beats chance"
    old_auc = float(active.metrics["roc_auc"])
    if auc < old_auc - AUC_TOLERANCE:
        return False, f"ROC-AUC {auc:.3f} is below the active {active.version}'s {old_auc:.3f}"
    new_ev, old_ev = new_metrics.get("events"), active.metrics.get("events")
    if isinstance(new_ev, dict) and isinstance(old_ev, dict):
        new_r, old_r = new_ev.get("predictable_recall") or 0.0, old_ev.get("predictable_recall") or 0.0
        new_fa, old_fa = new_ev["false_alarms_per_machine_month"], old_ev["false_alarms_per_machine_month"]
        if new_r < old_r and new_fa >= old_fa:
            return False, f"warns {new_r:.0%} of predictable failures, the active {active.version} {old_r:.0%}"
        if new_fa > old_fa and new_r <= old_r:
            return False, f"{new_fa:.2f} false alarms per machine-month, the active {active.version} {old_fa:.2f}"
    return True, f"ROC-AUC {auc:.3f} vs the active {active.version}'s {old_auc:.3f}"


def register_gated(registry: ModelRegistry, bundle: ModelBundle, card: ModelCard, activate: bool) -> ModelCard:
    """Store a new version; make it active only if asked and ``gate`` lets it, recording the verdict on the card
    (``metrics.gating = {activated, reason}``)."""
    try:
        active: ModelCard | None = registry.card(None) if registry.active_version() else None
    except NotFound:
        active = None
    passed, reason = gate(card.metrics, active)
    activated = activate and passed
    if not activate:
        reason = f"not activated on request ({reason})"
    card = card.model_copy(update={"metrics": {**card.metrics, "gating": {"activated": activated, "reason": reason}}})
    version = registry.save(bundle, card, activate=activated)
    return registry.card(version)
