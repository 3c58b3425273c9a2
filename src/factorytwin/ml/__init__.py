"""Failure prediction: training, the model registry, the online predictor and maintenance planning.

The names below are the package's public face, what the API, the demo and the command line use; the modules
behind them (features, datasets, timeseries, ...) are the package's own and may change shape.

- Serving: ``Predictor`` (the online predictor over the store), ``NoModel`` (raised while none is active),
  ``ModelRegistry`` (versions on disk), ``CostModel`` (maintenance costs), and the wire models of ``schema``.
- Training: ``TrainOptions`` + ``train_and_register`` (a file in, an active model version out), ``TrainConfig``,
  ``TrainingDataError`` (a file that cannot be used, naming the column).
- Command line: ``train_command``, ``evaluate_command``.

The names are imported on first use (PEP 562 ``__getattr__``): importing any ``factorytwin.ml`` module runs this
file, and importing LightGBM, pandas and scikit-learn here would cost the API ~2 s before it listens.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "CostModel": "schedule",
    "evaluate_command": "cli",
    "MaintenancePlan": "schema",
    "ModelCard": "schema",
    "ModelRegistry": "registry",
    "ModelVersion": "schema",
    "NoModel": "predictor",
    "Prediction": "schema",
    "Predictor": "predictor",
    "PredictRequest": "schema",
    "PredictResponse": "schema",
    "train_and_register": "pipeline",
    "train_command": "cli",
    "TrainConfig": "training",
    "TrainingDataError": "datasets",
    "TrainJob": "schema",
    "TrainOptions": "pipeline",
    "TrainRequest": "schema",
}
"""Which module of the package each public name lives in."""

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


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
