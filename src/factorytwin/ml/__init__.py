"""Failure prediction: training, the model registry, the online predictor and maintenance planning.

The names below are the package's public face, what the API, the demo and the command line use; the modules
behind them (features, datasets, timeseries, ...) are the package's own and may change shape.

- Serving: ``Predictor`` (the online predictor over the store), ``NoModel`` (raised while none is active),
  ``ModelRegistry`` (versions on disk), ``CostModel`` (maintenance costs) and the request/response models.
- Training: ``TrainOptions`` + ``train_and_register`` (a file in, an active model version out), ``TrainConfig``,
  ``TrainingDataError`` (a file that cannot be used, naming the column).
- Evaluation as an engineer sees it: ``evaluate_history`` (a history model on readings + events it never saw)
  giving a ``HistoryEvaluation`` (``EventReport``: alert episodes, warned failures, false alarms per
  machine-month; RUL and mode against their baselines).
- Command line: ``train_command``, ``evaluate_command``, ``predict_command``.

Each name is imported on first use (PEP 562): ``import factorytwin.ml.schema`` must stay light, so that the API
can listen before the ML stack (pandas, scikit-learn, LightGBM: seconds) is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factorytwin.ml.cli import evaluate_command, predict_command, train_command
    from factorytwin.ml.datasets import TrainingDataError
    from factorytwin.ml.evaluation import HistoryEvaluation, evaluate_history
    from factorytwin.ml.events import EventReport
    from factorytwin.ml.pipeline import TrainOptions, train_and_register
    from factorytwin.ml.predictor import NoModel, Predictor
    from factorytwin.ml.registry import ModelRegistry
    from factorytwin.ml.schedule import CostModel
    from factorytwin.ml.schema import (
        MaintenancePlan,
        ModelCard,
        ModelVersion,
        Prediction,
        PredictRequest,
        PredictResponse,
        TrainJob,
        TrainRequest,
    )
    from factorytwin.ml.training import TrainConfig

_WHERE = {
    "evaluate_command": "cli",
    "predict_command": "cli",
    "train_command": "cli",
    "HistoryEvaluation": "evaluation",
    "evaluate_history": "evaluation",
    "EventReport": "events",
    "TrainingDataError": "datasets",
    "TrainOptions": "pipeline",
    "train_and_register": "pipeline",
    "NoModel": "predictor",
    "Predictor": "predictor",
    "ModelRegistry": "registry",
    "CostModel": "schedule",
    "MaintenancePlan": "schema",
    "ModelCard": "schema",
    "ModelVersion": "schema",
    "Prediction": "schema",
    "PredictRequest": "schema",
    "PredictResponse": "schema",
    "TrainJob": "schema",
    "TrainRequest": "schema",
    "TrainConfig": "training",
}

__all__ = [
    "CostModel",
    "EventReport",
    "HistoryEvaluation",
    "MaintenancePlan",
    "ModelCard",
    "ModelRegistry",
    "ModelVersion",
    "NoModel",
    "PredictRequest",
    "PredictResponse",
    "Prediction",
    "Predictor",
    "TrainConfig",
    "TrainJob",
    "TrainOptions",
    "TrainRequest",
    "TrainingDataError",
    "evaluate_command",
    "evaluate_history",
    "predict_command",
    "train_and_register",
    "train_command",
]


def __getattr__(name: str) -> object:
    """Import the module behind a public name on first use, and keep the name here."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
