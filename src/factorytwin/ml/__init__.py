"""Failure prediction: training, the model registry, the online predictor and maintenance planning.

The names below are the package's public face, what the API, the demo and the command line use; the modules
behind them (features, datasets, timeseries, ...) are the package's own and may change shape.

- Serving: ``Predictor`` (the online predictor over the store), ``NoModel`` (raised while none is active),
  ``ModelRegistry`` (versions on disk), ``CostModel`` (maintenance costs), and the wire models of ``schema``.
- Training: ``TrainOptions`` + ``train_and_register`` (a file in, an active model version out), ``TrainConfig``,
  ``TrainingDataError`` (a file that cannot be used, naming the column).
- Command line: ``train_command``, ``evaluate_command``.
"""

from __future__ import annotations

from factorytwin.ml.cli import evaluate_command, train_command
from factorytwin.ml.datasets import TrainingDataError
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

__all__ = [
    "CostModel",
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
    "train_and_register",
    "train_command",
]
