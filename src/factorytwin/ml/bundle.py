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
    rul: list[lgb.Booster] | None = None
    rul_margin: float = 0.0
    mode: lgb.Booster | None = None
    mode_classes: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    # per machine kind alert thresholds (``ml.alarms``); a kind not listed, or a row of unknown kind, uses
    # ``threshold``
    kind_thresholds: dict[str, float] = field(default_factory=dict)

    def thresholds(self, X: np.ndarray) -> np.ndarray | float:
        """The alert threshold of each row of ``X``: its kind's, else the global one."""
        if not self.kind_thresholds or "kind" not in self.features:
            return self.threshold
        codes = X[:, self.features.index("kind")]
        thr = np.full(len(X), self.threshold)
        for kind, value in self.kind_thresholds.items():
            code = KIND_CODES.get(kind)
            if code is not None:
                thr[codes == code] = value
        return thr

    # ---- inference -------------------------------------------------------------------------------------------
    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map the booster's probabilities through the isotonic calibration fitted out of fold."""
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
        out: dict[str, np.ndarray] = {"probability": prob, "alert": prob >= self.thresholds(X)}
        if self.rul:
            q = np.column_stack([np.asarray(b.predict(X, **threads)) for b in self.rul])
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

    def predictions(self, X: np.ndarray, reasons: int = 3) -> list[Prediction]:
        """``Prediction`` objects for the rows of ``X`` with the top ``reasons`` contributing features."""
        raw = self.predict_matrix(X, reasons)
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
                top = np.argsort(-np.abs(c))[:reasons]
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
            kind_thresholds={str(k): float(v) for k, v in doc.get("kind_thresholds", {}).items()},
        )
