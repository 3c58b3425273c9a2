"""Centred isotonic calibration: calibrated like isotonic regression, but no plateaus that tie different scores."""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression

from factorytwin.ml.training import centred_isotonic


def test_scores_of_one_isotonic_plateau_stay_apart_and_in_order() -> None:
    rng = np.random.default_rng(0)
    score = rng.uniform(0.0, 1.0, 5000)
    y = (rng.uniform(0.0, 1.0, 5000) < score**2).astype(int)
    x, cal = centred_isotonic(score, y)
    assert np.all(np.diff(x) > 0)
    assert np.all(np.diff(cal) >= 0)
    iso = IsotonicRegression(out_of_bounds="clip").fit(score, y).predict(score)
    # plain isotonic ties many scores; the centred version ties none of 50 scores inside one plateau
    level = np.median(iso)
    inside = np.sort(score[iso == level])[:50]
    assert len(np.unique(iso[np.isin(score, inside)])) == 1
    mapped = np.interp(inside, x, cal)
    assert np.all(np.diff(mapped) > 0)
    # and it stays calibrated: observed frequency per decile of the calibrated probability within 0.05
    p = np.interp(score, x, cal)
    for lo in np.arange(0.0, 1.0, 0.1):
        sel = (p >= lo) & (p < lo + 0.1)
        if sel.sum() > 200:
            assert abs(y[sel].mean() - p[sel].mean()) < 0.05
