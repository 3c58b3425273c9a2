"""The alert head of a history model: a classifier of "a predictable (gradual) failure within ``alert_horizon_h``".

Why a head of its own (``bench/ml_diagnose.py``, docs/ML.md "Why the lead-time recall is low"): within one machine
kind the 24 h all-mode risk does not rank steps at all (row ROC-AUC 0.49-0.54 for mills and lathes on a seed the
model never saw): a mill fails every two days and most failures within 24 h of a step are random trips, operating-
point limits or a later tool's wear, so the risk before a tool-wear failure is that of any other hour. The label
"a failure of a predictable mode within 6 h" is what the sensors announce (ROC-AUC 0.74 for mills, 0.81 for
lathes; tool wear and the age lead its features). With ``TrainConfig.alert_horizon_h`` > 0 the alert rules
(``alarms.kind_rules``) are chosen on this head's out-of-fold score and serving applies them to it
(``ModelBundle.machine_alerts``); the served probability stays the calibrated 24 h all-mode risk.

Off by default: ranking better did not warn more within the false-alarm budget on an unseen seed (6.1 % vs
10.6 % of predictable failures warned >= 2 h ahead, 33 % vs 40 % of episodes true; docs/ML.md): a tool is
changed at a random wear before most tools could fail, so even a perfect ranking of wear raises an episode for
every tool that gets near the end of its life, about ten times the budget (the oracle of ``bench/ml_diagnose.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lightgbm as lgb
import numpy as np

from factorytwin.ml.datasets import LabeledData
from factorytwin.ml.events import PREDICTABLE_MODES

if TYPE_CHECKING:
    from factorytwin.ml.training import TrainConfig

MIN_POSITIVE_ROWS = 20  # fewer rows of a predictable failure within the alert horizon: no head, rules on the risk


def alert_labels(data: LabeledData, rows: np.ndarray, alert_horizon_h: float) -> np.ndarray | None:
    """1 where a failure of a predictable mode follows within ``alert_horizon_h`` (<= the model's horizon) of
    ``data``'s ``rows``; None when the data is not machine history with RUL and modes or the horizon is off."""
    if data.shape != "history" or data.rul is None or data.mode is None or alert_horizon_h <= 0:
        return None
    h = min(float(alert_horizon_h), float(data.source.get("horizon_h", alert_horizon_h)))
    rul, mode = data.rul[rows], data.mode[rows].astype(str)
    hit = (data.y[rows] == 1) & np.isfinite(rul) & (rul <= h) & np.isin(mode, list(PREDICTABLE_MODES))
    return np.asarray(hit, dtype="int8")


def fit_alert_head(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray | None, names: list[str], cfg: TrainConfig
) -> tuple[lgb.Booster, np.ndarray] | None:
    """The alert head and its out-of-fold scores (inner folds grouped by machine, as the failure head's), or
    None with fewer than ``MIN_POSITIVE_ROWS`` positive rows. No calibration: rules threshold its own score."""
    from factorytwin.ml.training import _fit_booster, _splitter

    if int(y.sum()) < MIN_POSITIVE_ROWS or int((y == 0).sum()) < MIN_POSITIVE_ROWS:
        return None
    params = cfg.lgb_params("binary")
    oof = np.zeros(len(y))
    for tr, va in _splitter(y, groups, cfg.inner_folds, cfg.seed + 2):
        oof[va] = _fit_booster(X[tr], y[tr], params, cfg.n_estimators, names).predict(X[va])
    return _fit_booster(X, y, params, cfg.n_estimators, names), oof
