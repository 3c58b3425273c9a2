"""A trained model bundle: failure classifier (+ calibration and threshold), RUL quantiles, failure mode.

Inference calls LightGBM ``Booster.predict`` on a float64 matrix directly (no pandas, no sklearn wrapper) so one
machine costs well under a millisecond. The bundle serialises to one JSON document of LightGBM model strings and
plain numbers: no pickle, so a model file is safe to open and readable in a diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from factorytwin.ml.alarms import AlertRule, sequence_alerts
from factorytwin.ml.features import KIND_CODES, encode_kind, encode_product_type
from factorytwin.ml.schema import Prediction, Reason, RulEstimate

FORMAT_VERSION = 1
RUL_QUANTILES = (0.1, 0.5, 0.9)


@dataclass
class ModelBundle:
    """Everything needed to predict from a feature row; see the module docstring."""

    features: list[str]
    failure: lgb.Booster
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    threshold: float
    shape: str
    horizon: float | None = None
    horizon_unit: str = "h"
    rul: list[lgb.Booster] | None = None  # 10 %, point (one, or median and mean: averaged), 90 %
    rul_margin: float = 0.0
    mode: lgb.Booster | None = None
    mode_classes: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    # per machine kind alert rules (``ml.alarms``: a threshold on the smoothed risk with hysteresis); a kind not
    # listed, or a row of unknown kind, alerts when its own probability reaches ``threshold``
    kind_rules: dict[str, AlertRule] = field(default_factory=dict)
    # history models: the classifier whose score the alert rules threshold ("a predictable failure within
    # ``spec['alert_horizon_h']``", ``ml.alert_head``); None: the rules threshold the calibrated probability
    alert_head: lgb.Booster | None = None

    def alert_score(self, X: np.ndarray, prob: np.ndarray) -> np.ndarray:
        """What the alert thresholds apply to for the rows ``X``: the alert head's score, else ``prob``."""
        if self.alert_head is None or not len(X):
            return np.asarray(prob, dtype="float64")
        threads: dict[str, Any] = {"num_threads": 1} if len(X) < 2048 else {}
        return np.asarray(self.alert_head.predict(X, **threads), dtype="float64")

    @property
    def kind_thresholds(self) -> dict[str, float]:
        """The raising threshold of each kind's rule."""
        return {k: r.on for k, r in self.kind_rules.items()}

    def thresholds(self, X: np.ndarray) -> np.ndarray | float:
        """The raising threshold of each row of ``X``: its kind's, else the global one."""
        if not self.kind_rules or "kind" not in self.features:
            return self.threshold
        codes = X[:, self.features.index("kind")]
        thr = np.full(len(X), self.threshold)
        for kind, rule in self.kind_rules.items():
            code = KIND_CODES.get(kind)
            if code is not None:
                thr[codes == code] = rule.on
        return thr

    def rule_for(self, kind_code: float) -> AlertRule:
        """The alert rule of a machine kind (its code, as in the ``kind`` feature); the global threshold, applied
        to each step on its own, for a kind without one."""
        for kind, rule in self.kind_rules.items():
            if KIND_CODES.get(kind) == kind_code:
                return rule
        return AlertRule(on=self.threshold)

    @property
    def alert_lookback_steps(self) -> int:
        """How many grid steps before the newest one a history model's alert looks at (``AlertRule``)."""
        return max((r.lookback_steps for r in self.kind_rules.values()), default=0)

    def machine_alerts(self, t_h: np.ndarray, X: np.ndarray, prob: np.ndarray) -> np.ndarray:
        """The alert flags of consecutive feature rows ``X`` of ONE machine at times ``t_h`` (hours, ascending)
        with calibrated ``prob``: its kind's ``AlertRule`` over the sequence (smoothing, hysteresis). The alert
        logic of offline scoring and of serving (which passes the newest ``alert_lookback_steps + 1`` rows)."""
        prob = self.alert_score(X, prob)
        if self.shape != "history" or "kind" not in self.features or not len(X):
            return np.asarray(prob >= self.thresholds(X))
        rule = self.rule_for(float(X[-1, self.features.index("kind")]))
        age = (
            X[:, self.features.index("hours_since_renewal")]
            if "hours_since_renewal" in self.features
            else np.full(len(X), np.nan)
        )
        return sequence_alerts(t_h, prob, age, rule, float(self.spec.get("step_s", 3600.0)) / 3600.0)

    # ---- inference -------------------------------------------------------------------------------------------
    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map the booster's probabilities through the (centred isotonic) calibration fitted out of fold."""
        return np.asarray(np.clip(np.interp(raw, self.calibration_x, self.calibration_y), 0.0, 1.0))

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's feature matrix from a frame; absent features are NaN (LightGBM's missing value)."""
        cols = {}
        for name in self.features:
            if name not in frame.columns:
                cols[name] = np.full(len(frame), np.nan)
            elif name == "product_type":
                cols[name] = encode_product_type(frame[name]).to_numpy("float64")
            elif name == "kind":
                cols[name] = encode_kind(frame[name]).to_numpy("float64")
            else:
                cols[name] = pd.to_numeric(frame[name], errors="raise").to_numpy("float64")
        return np.column_stack([cols[n] for n in self.features]) if self.features else np.empty((len(frame), 0))

    def predict_matrix(self, X: np.ndarray, reasons: int = 0) -> dict[str, np.ndarray]:
        """Vectorised predictions for the rows of ``X``: probability, alert, RUL quantiles, mode probabilities,
        and (``reasons`` > 0) the per-feature contributions."""
        threads: dict[str, Any] = {"num_threads": 1} if len(X) < 2048 else {}
        prob = self.calibrate(np.asarray(self.failure.predict(X, **threads)))
        out: dict[str, np.ndarray] = {"probability": prob, "alert": self.alert_score(X, prob) >= self.thresholds(X)}
        if self.rul:
            q = np.column_stack([np.asarray(b.predict(X, **threads)) for b in self.rul])
            # 10 %, point, 90 %; a blended point (``training.fit_rul``) is the average of its median and mean
            q = np.column_stack([q[:, 0], q[:, 1:-1].mean(axis=1), q[:, -1]])
            q = np.sort(q, axis=1) + np.array([-self.rul_margin, 0.0, self.rul_margin])
            # a negative (narrowing) margin never takes a bound past the median; life is never negative
            q[:, 0] = np.minimum(q[:, 0], q[:, 1])
            q[:, 2] = np.maximum(q[:, 2], q[:, 1])
            q = np.maximum(q, 0.0)  # quantile crossing: sorted above
            out["rul"] = q
        if self.mode is not None:
            out["mode"] = np.asarray(self.mode.predict(X, **threads)).reshape(len(X), -1)
        if reasons:
            out["contrib"] = np.asarray(self.failure.predict(X, pred_contrib=True, **threads))[:, :-1]
        return out

    def predictions(
        self, X: np.ndarray, reasons: int = 3, alerts: np.ndarray | None = None, usable: np.ndarray | None = None
    ) -> list[Prediction]:
        """``Prediction`` objects for the rows of ``X`` with the top ``reasons`` contributing features (among the
        ``usable`` ones of each row, a boolean array shaped as ``X``, when given); ``alerts`` replaces the per-row
        alert flags (a history model's sequence alert, ``machine_alerts``)."""
        raw = self.predict_matrix(X, reasons)
        if alerts is not None:
            raw["alert"] = np.asarray(alerts, dtype=bool)
        age_col = self.features.index("hours_since_renewal") if "hours_since_renewal" in self.features else None
        preds = []
        for i in range(len(X)):
            p = Prediction(
                probability=float(raw["probability"][i]),
                alert=bool(raw["alert"][i]),
                horizon=self.horizon,
                horizon_unit=self.horizon_unit,
            )
            if age_col is not None and not np.isnan(X[i, age_col]):
                p.hours_since_service = float(X[i, age_col])
            if "rul" in raw:
                lo, med, hi = (float(v) for v in raw["rul"][i])
                p.rul = RulEstimate(median=med, low=lo, high=hi, unit=self.horizon_unit)
            if "mode" in raw:
                probs = raw["mode"][i]
                p.mode_probabilities = {c: round(float(v), 4) for c, v in zip(self.mode_classes, probs, strict=True)}
                p.likely_mode = self.mode_classes[int(np.argmax(probs))]
            if reasons:
                c = raw["contrib"][i]
                weight = np.abs(c) if usable is None else np.where(usable[i], np.abs(c), -1.0)
                top = [j for j in np.argsort(-weight)[:reasons] if weight[j] > 0.0]
                p.reasons = [
                    Reason(
                        feature=self.features[j],
                        value=None if np.isnan(X[i, j]) else float(X[i, j]),
                        contribution=round(float(c[j]), 4),
                    )
                    for j in top
                    if c[j] != 0.0
                ]
            preds.append(p)
        return preds

    # ---- serialisation ---------------------------------------------------------------------------------------
    def to_json(self) -> str:
        """The bundle as one JSON document (LightGBM model strings inside)."""
        doc = {
            "format": FORMAT_VERSION,
            "features": self.features,
            "failure": self.failure.model_to_string(),
            "calibration_x": self.calibration_x.tolist(),
            "calibration_y": self.calibration_y.tolist(),
            "threshold": self.threshold,
            "shape": self.shape,
            "horizon": self.horizon,
            "horizon_unit": self.horizon_unit,
            "rul": [b.model_to_string() for b in self.rul] if self.rul else None,
            "rul_margin": self.rul_margin,
            "mode": self.mode.model_to_string() if self.mode is not None else None,
            "mode_classes": self.mode_classes,
            "spec": self.spec,
            "kind_thresholds": self.kind_thresholds,
            "kind_rules": {k: r.to_dict() for k, r in self.kind_rules.items()},
            "alert_head": self.alert_head.model_to_string() if self.alert_head is not None else None,
        }
        return json.dumps(doc)

    @classmethod
    def from_json(cls, text: str) -> ModelBundle:
        """Load a bundle written by ``to_json``."""
        doc = json.loads(text)
        if doc.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported model format {doc.get('format')!r}")
        return cls(
            features=list(doc["features"]),
            failure=lgb.Booster(model_str=doc["failure"]),
            calibration_x=np.asarray(doc["calibration_x"], dtype="float64"),
            calibration_y=np.asarray(doc["calibration_y"], dtype="float64"),
            threshold=float(doc["threshold"]),
            shape=str(doc["shape"]),
            horizon=doc["horizon"],
            horizon_unit=str(doc["horizon_unit"]),
            rul=[lgb.Booster(model_str=s) for s in doc["rul"]] if doc["rul"] else None,
            rul_margin=float(doc.get("rul_margin", 0.0)),
            mode=lgb.Booster(model_str=doc["mode"]) if doc["mode"] else None,
            mode_classes=list(doc["mode_classes"]),
            spec=dict(doc["spec"]),
            kind_rules=_rules(doc),
            alert_head=lgb.Booster(model_str=doc["alert_head"]) if doc.get("alert_head") else None,
        )


def _rules(doc: dict[str, Any]) -> dict[str, AlertRule]:
    """The alert rules of a model document; a model of before the rules has plain thresholds per kind."""
    if "kind_rules" in doc:
        return {str(k): AlertRule.from_dict(v) for k, v in doc["kind_rules"].items()}
    return {str(k): AlertRule(on=float(v)) for k, v in doc.get("kind_thresholds", {}).items()}
