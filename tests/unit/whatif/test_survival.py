"""Survival models of machines without physics: fitted to a failure history, drawn under a plan."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from factorytwin.whatif.fan import fan_grid
from factorytwin.whatif.plan import Timetable
from factorytwin.whatif.survival import SurvivalFit, draw_survival, fit_survival, join

NOW = datetime(2026, 6, 1, tzinfo=UTC)
H = 3.6e6  # ms per hour


def _history(lives_h: list[float], repair_h: float = 2.0) -> list[tuple[str, int, str, str]]:
    """A failure after each life, back to service ``repair_h`` later, the last return just before NOW."""
    total = sum(lives_h) + repair_h * len(lives_h)
    t = NOW.timestamp() * 1000 - total * H - H
    rows = [("m", int(t), "status", "")]
    for life in lives_h:
        t += life * H
        rows.append(("m", int(t), "failure", ""))
        t += repair_h * H
        rows.append(("m", int(t), "status", ""))
    return rows


def test_a_weibull_is_recovered_from_enough_failures() -> None:
    rng = np.random.default_rng(0)
    lives = (200.0 * rng.weibull(3.0, 300)).tolist()
    fit = fit_survival("m", _history(lives), NOW)
    assert fit is not None
    assert fit.model == "weibull"
    assert 2.6 < fit.shape < 3.4
    assert 185 < fit.scale_h < 215
    assert abs(fit.repair_h - 2.0) < 1e-6
    assert fit.age_h < 1.5  # back in service an hour before the fork


def test_few_failures_give_an_exponential_and_none_a_cautious_rate() -> None:
    fit = fit_survival("m", _history([100.0, 300.0]), NOW)
    assert fit is not None
    assert fit.model == "exponential"
    assert fit.shape == 1.0
    assert abs(fit.scale_h - (401.0 / 2)) < 1.0  # 401 running h over 2 failures
    quiet = fit_survival("m", [("m", int(NOW.timestamp() * 1000 - 1000 * H), "status", "")], NOW)
    assert quiet is not None
    assert quiet.failures == 0
    assert abs(quiet.scale_h - 2000.0) < 1.0  # half a failure in 1000 h
    assert fit_survival("m", [], NOW) is None


def test_a_machine_failed_at_the_fork_is_under_repair_first() -> None:
    rows = [*_history([50.0] * 6, repair_h=10.0), ("m", int(NOW.timestamp() * 1000 - 4 * H), "failure", "")]
    fit = fit_survival("m", rows, NOW)
    assert fit is not None
    assert abs(fit.down_h - 6.0) < 1e-6  # the 10 h mean repair, 4 h of it gone


def _fit(shape: float, scale: float, age: float = 0.0) -> SurvivalFit:
    return SurvivalFit("m", "weibull" if shape != 1.0 else "exponential", shape, scale, age, 10.0, 10, 1e4)


def test_draws_follow_the_model_the_plan_stops_and_visits_renew() -> None:
    horizon = 500 * 3600.0
    free = draw_survival([(0, _fit(1.0, 50.0))], Timetable(horizon), 400, seed=1)
    assert 7.0 < free.failures.mean() < 9.5  # 500 h / (50 h life + 10 h repair)
    assert free.modes["survival"].sum() == free.failures.sum()
    stopped = draw_survival([(0, _fit(1.0, 50.0))], Timetable(horizon, stopped=[(0.0, horizon, 0)]), 50, seed=1)
    assert stopped.failures.sum() == 0
    assert stopped.running_s.sum() == 0.0
    half = draw_survival([(0, _fit(1.0, 50.0))], Timetable(horizon, speeds=[(0.0, horizon / 2, 0, 0.0)]), 400, 1)
    assert half.failures.mean() < 0.6 * free.failures.mean()
    # wear-out, well past its scale: a visit now renews it and avoids failures; a visit to a constant hazard does not
    old = _fit(4.0, 300.0, age=290.0)
    short = 100 * 3600.0
    left = draw_survival([(0, old)], Timetable(short), 300, seed=2)
    visited = draw_survival([(0, old)], Timetable(short, added_visits=[(0.0, 0, 2.0)]), 300, seed=2)
    assert visited.failures.mean() < 0.2 * left.failures.mean()
    assert visited.visits.sum() == 300


def test_fan_points_end_at_the_totals_and_join_puts_machines_side_by_side() -> None:
    horizon = 48 * 3600.0
    out = draw_survival([(3, _fit(1.0, 20.0)), (4, _fit(2.0, 40.0))], Timetable(horizon), 30, seed=3)
    assert out.snap_s == fan_grid(horizon)
    last = out.snaps[-1]
    assert np.array_equal(last[0], out.failures)
    assert np.allclose(last[1], out.downtime_s)
    assert all((a[0] <= b[0]).all() for a, b in zip(out.snaps, out.snaps[1:], strict=False))
    both = join(out, out)
    assert both.failures.shape == (30, 4)
    assert both.snaps[0].shape == (4, 30, 4)
