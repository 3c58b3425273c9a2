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
from factorytwin.ml.datasets import TrainingDataError
from factorytwin.ml.pipeline import Shape, TrainOptions, load_training_data, train_and_register
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.training import TrainConfig, cross_validate, score
from factorytwin.progress import progress_bars

console = Console()
err = Console(stderr=True)


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
        "rul_interval_coverage",
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
    )
    registry = ModelRegistry(model_dir or _settings(ctx).model_dir)
    try:
        with progress_bars(console) as bars:
            card = train_and_register(opts, registry, TrainConfig(), bars.staged("loading data"), activate=activate)
    except TrainingDataError as exc:
        raise _fail(str(exc)) from None
    if card.metrics:
        console.print(_metrics_table(f"{opts.folds}-fold cross-validation", card.metrics))
    console.print(
        f"[green]stored model {card.version}[/] in {registry.root} ({', '.join(card.models)})"
        + (" - active" if activate else "")
    )


def evaluate_command(
    ctx: typer.Context,
    data: DataOpt,
    target: TargetOpt = None,
    shape: ShapeOpt = "auto",
    cv: Annotated[int, typer.Option(help="cross-validate a fresh model with this many folds instead")] = 0,
    version: Annotated[str | None, typer.Option(help="model version (default: the active one)")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="model registry (default: settings.model_dir)")] = None,
    horizon: Annotated[float, typer.Option(help="labels: failure within this many hours/cycles")] = 24.0,
    unit_col: Annotated[str, typer.Option(help="run-to-failure: the unit/machine id column")] = "unit",
    time_col: Annotated[str, typer.Option(help="run-to-failure: the cycle/time column")] = "cycle",
    json_out: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
) -> None:
    """Score the stored model on a labelled FILE (e.g. a simulator-trained model on AI4I 2020), or with --cv N
    cross-validate a fresh model on it (calibration and threshold fitted inside each fold)."""
    opts = TrainOptions(
        data=data, target=target, shape=_shape(shape), horizon=horizon, unit_col=unit_col, time_col=time_col
    )
    try:
        labelled, _, _, _ = load_training_data(opts)
        if cv > 1:
            with progress_bars(console) as bars:
                metrics = cross_validate(labelled, cv, TrainConfig(), bars.staged("cross-validating"))
            title = f"{cv}-fold cross-validation on {data.name}"
        else:
            name, bundle = ModelRegistry(model_dir or _settings(ctx).model_dir).load(version)
            prob = bundle.predict_matrix(bundle.matrix(labelled.X))["probability"]
            metrics = {
                **score(labelled.y, prob, bundle.threshold),
                "rows": len(labelled.y),
                "positives": int(labelled.y.sum()),
            }
            shared = [f for f in bundle.features if f in labelled.X.columns]
            metrics["features_present"] = f"{len(shared)}/{len(bundle.features)}"
            title = f"model {name} on {data.name}"
    except TrainingDataError as exc:
        raise _fail(str(exc)) from None
    except NotFound as exc:
        raise _fail(str(exc)) from None
    if json_out:
        console.print_json(json.dumps({k: v for k, v in metrics.items() if not isinstance(v, np.ndarray)}))
    else:
        console.print(_metrics_table(title, metrics))
