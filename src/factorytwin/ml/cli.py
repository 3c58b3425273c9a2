"""``factorytwin train`` and ``factorytwin evaluate``: learn from a file, or score a stored model on one.

A file that cannot be used ends with one red line naming the column and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, get_args

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from factorytwin.config import Settings
from factorytwin.errors import NotFound
from factorytwin.ml.bundle import ModelBundle
from factorytwin.ml.datasets import TrainingDataError, read_frame
from factorytwin.ml.evaluation import evaluate_history, event_summary
from factorytwin.ml.pipeline import (
    Shape,
    TrainOptions,
    events_path_for,
    load_training_data,
    options_for_model,
    train_and_register,
)
from factorytwin.ml.predict import censored_rul_report, predict_file
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.training import TrainConfig, cross_validate, score
from factorytwin.progress import progress_bars

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long its path


def _settings(ctx: typer.Context) -> Settings:
    """The settings the ``factorytwin`` command built for its subcommands (they travel as the context's obj)."""
    settings = ctx.obj
    if not isinstance(settings, Settings):
        raise RuntimeError("run through factorytwin.cli.app: its callback builds the Settings")
    return settings


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=2)


SHAPES: dict[str, Shape] = {shape: shape for shape in get_args(Shape)}


def _shape(text: str) -> Shape:
    """The --shape option as the pipeline's ``Shape``; exit 2 naming the choices otherwise."""
    if text not in SHAPES:
        raise _fail(f"--shape must be {', '.join(SHAPES)}, not {text!r}")
    return SHAPES[text]


def _metrics_table(title: str, metrics: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in (
        "f1",
        "precision",
        "recall",
        "roc_auc",
        "brier",
        "ece",
        "threshold",
        "rul_mae",
        "rul_rmse",
        "baseline_rul_mae",
        "rul_interval_coverage",
        "units",
        "rows",
        "positives",
    ):
        if key in metrics:
            v = metrics[key]
            std = metrics.get(f"{key}_std")
            shown = f"{v:.4f}" if isinstance(v, float) else str(v)
            table.add_row(key, shown + (f" ± {std:.4f}" if isinstance(std, float) else ""))
    return table


DataOpt = Annotated[Path, typer.Option("--data", help="training file: .csv or .parquet (formats: docs/ML.md)")]
TargetOpt = Annotated[str | None, typer.Option("--target", help="the 0/1 failure column")]
ShapeOpt = Annotated[str, typer.Option("--shape", help="auto, table, run_to_failure or history")]


def train_command(
    ctx: typer.Context,
    data: DataOpt,
    target: TargetOpt = None,
    shape: ShapeOpt = "auto",
    unit_col: Annotated[str, typer.Option(help="run-to-failure: the unit/machine id column")] = "unit",
    time_col: Annotated[str, typer.Option(help="run-to-failure: the cycle/time column")] = "cycle",
    horizon: Annotated[float, typer.Option(help="predict failure within this many hours (history) or cycles")] = 24.0,
    window: Annotated[int, typer.Option(help="window length in steps for the windowed statistics")] = 12,
    step_s: Annotated[float, typer.Option(help="history: grid step in seconds")] = 3600.0,
    drop: Annotated[list[str] | None, typer.Option(help="a column never to use (repeatable)")] = None,
    folds: Annotated[int, typer.Option(help="cross-validation folds reported on the card (0: skip)")] = 5,
    rul_cap: Annotated[
        float | None, typer.Option(help="learn min(RUL, this): a piecewise-linear target (e.g. 125 cycles)")
    ] = None,
    condition_col: Annotated[
        list[str] | None,
        typer.Option(help="run-to-failure: an operating-condition column (repeatable; default: found automatically)"),
    ] = None,
    no_conditions: Annotated[
        bool, typer.Option("--no-conditions", help="run-to-failure: no operating-regime normalisation")
    ] = False,
    model_dir: Annotated[Path | None, typer.Option(help="model registry (default: settings.model_dir)")] = None,
    activate: Annotated[bool, typer.Option(help="serve the new version at once")] = True,
) -> None:
    """Train failure, RUL and failure-mode models from FILE and store them as a new model version."""
    opts = TrainOptions(
        data=data,
        target=target,
        shape=_shape(shape),
        unit_col=unit_col,
        time_col=time_col,
        horizon=horizon,
        window=window,
        step_s=step_s,
        drop=list(drop or []),
        folds=folds,
        rul_cap=rul_cap,
        conditions=[] if no_conditions else (list(condition_col) if condition_col else None),
    )
    registry = ModelRegistry(model_dir or _settings(ctx).model_dir)
    try:
        with progress_bars(console) as bars:
            card = train_and_register(opts, registry, TrainConfig(), bars.staged("loading data"), activate=activate)
    except TrainingDataError as exc:
        raise _fail(str(exc)) from None
    if card.metrics:
        console.print(_metrics_table(f"{opts.folds}-fold cross-validation", card.metrics))
    gating = card.metrics.get("gating", {})
    if gating.get("activated"):
        console.print(
            f"[green]stored model {card.version}[/] in {registry.root} ({', '.join(card.models)}) - active: "
            + escape(str(gating.get("reason", "")))
        )
    else:
        console.print(
            f"[yellow]stored model {card.version}[/] in {registry.root} ({', '.join(card.models)}) - NOT active: "
            + escape(str(gating.get("reason", "")))
        )


def evaluate_command(
    ctx: typer.Context,
    data: DataOpt,
    target: TargetOpt = None,
    shape: ShapeOpt = "auto",
    cv: Annotated[int, typer.Option(help="cross-validate a fresh model with this many folds instead")] = 0,
    version: Annotated[str | None, typer.Option(help="model version (default: the active one)")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="model registry (default: settings.model_dir)")] = None,
    horizon: Annotated[float, typer.Option(help="--cv only: failure within this many hours/cycles")] = 24.0,
    window: Annotated[int, typer.Option(help="--cv only: window length in steps")] = 12,
    step_s: Annotated[float, typer.Option(help="--cv only, history: grid step in seconds")] = 3600.0,
    unit_col: Annotated[str | None, typer.Option(help="run-to-failure: the unit column (default: the model's)")] = None,
    time_col: Annotated[str | None, typer.Option(help="run-to-failure: the time column (default: the model's)")] = None,
    lead_h: Annotated[float, typer.Option(help="history: a failure counts as warned this many hours ahead")] = 2.0,
    rul_file: Annotated[
        Path | None,
        typer.Option(help="right-censored test series: each unit's remaining life at its last row (docs/ML.md)"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print only the metrics as JSON on stdout")] = False,
) -> None:
    """Score the stored model on a labelled FILE (e.g. a simulator-trained model on AI4I 2020), or with --cv N
    cross-validate a fresh model on it (calibration and threshold fitted inside each fold).

    A stored model is scored with its own window, step and horizon. On machine history (readings with an event
    log beside them) the figures are also event-level: alert episodes, warned failures by lead time, false alarms
    per machine-month, RUL against the training median and mode against the commonest mode (docs/ML.md)."""
    opts = TrainOptions(
        data=data,
        target=target,
        shape=_shape(shape),
        horizon=horizon,
        window=window,
        step_s=step_s,
        unit_col=unit_col or "unit",
        time_col=time_col or "cycle",
    )
    # with --json, stdout carries the JSON document only: progress goes to stderr
    bar_console = err if json_out else console
    try:
        if cv > 1:
            labelled, _, _, _ = load_training_data(opts)
            with progress_bars(bar_console) as bars:
                metrics = cross_validate(labelled, cv, TrainConfig(), bars.staged("cross-validating"))
            title = f"{cv}-fold cross-validation on {data.name}"
        else:
            name, bundle = ModelRegistry(model_dir or _settings(ctx).model_dir).load(version)
            if rul_file is not None:
                metrics = censored_rul_report(bundle, data, rul_file, unit_col, time_col)
            else:
                metrics = evaluate_stored(bundle, opts, lead_h)
            title = f"model {name} on {data.name}"
    except TrainingDataError as exc:
        raise _fail(str(exc)) from None
    except NotFound as exc:
        raise _fail(str(exc)) from None
    if json_out:
        typer.echo(json.dumps(metrics, default=_json_default))
    else:
        console.print(_metrics_table(title, metrics))
        if "events" in metrics:
            console.print(event_summary(metrics))


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def evaluate_stored(bundle: ModelBundle, opts: TrainOptions, lead_h: float = 2.0) -> dict[str, Any]:
    """Row and (for history) event-level metrics of a stored bundle on ``opts.data``, labelled with the model's own
    window, step and horizon. Features the model needs but the file cannot give are an error naming them."""
    opts = options_for_model(bundle, opts)
    labelled, _, _, _ = load_training_data(opts)
    missing = [f for f in bundle.features if f not in labelled.X.columns]
    if missing:
        raise TrainingDataError(
            f"the file lacks {len(missing)} of the model's {len(bundle.features)} features: {', '.join(missing[:12])}"
            + (" ..." if len(missing) > 12 else ""),
            column=missing[0],
        )
    prob = bundle.predict_matrix(bundle.matrix(labelled.X))["probability"]
    metrics: dict[str, Any] = {
        **score(labelled.y, prob, bundle.threshold),
        "rows": len(labelled.y),
        "positives": int(labelled.y.sum()),
    }
    if bundle.shape == "history":
        readings = read_frame(opts.data)
        events = read_frame(events_path_for(opts.data))
        ev = evaluate_history(bundle, readings, events, lead_h=lead_h)
        metrics["events"] = ev.events.model_dump(mode="json")
        metrics["rul_vs_median"] = ev.rul.model_dump()
        metrics["mode_vs_majority"] = ev.mode.model_dump()
    return metrics


def predict_command(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="raw series or table: .csv or .parquet (docs/ML.md)")],
    out: Annotated[Path, typer.Option("--out", help="where to write the predictions (.csv)")] = Path("predictions.csv"),
    unit_col: Annotated[str | None, typer.Option(help="the unit column (default: the model's)")] = None,
    time_col: Annotated[str | None, typer.Option(help="the time/cycle column (default: the model's)")] = None,
    version: Annotated[str | None, typer.Option(help="model version (default: the active one)")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="model registry (default: settings.model_dir)")] = None,
) -> None:
    """Predict from raw sensor series: one row per unit at its last time step with
    unit, rul, rul_low, rul_high, failure_probability, mode. The features are computed with the stored model's own
    window and signals; a signal the model needs and the file lacks is an error naming it."""
    try:
        name, bundle = ModelRegistry(model_dir or _settings(ctx).model_dir).load(version)
        table = predict_file(bundle, data, unit_col, time_col)
    except (TrainingDataError, NotFound) as exc:
        raise _fail(str(exc)) from None
    table.to_csv(out, index=False)
    console.print(f"[green]{len(table)} unit(s)[/] predicted with model {name}: {out}")
