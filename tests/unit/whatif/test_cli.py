"""`factorytwin whatif`: a plan file in, a comparison table (and JSON) out; a bad plan named on one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from factorytwin.cli import app
from factorytwin.whatif.cli import parse_hours
from factorytwin.whatif.results import WhatIfResult

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["whatif", *args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_a_plan_is_compared_with_the_baseline_and_written_as_json(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"name": "slow B", "speeds": [{"line": "line-b", "speed_pct": 60}]}))
    out = tmp_path / "result.json"
    code, text = _run("--plan", str(plan), "--horizon", "6h", "--runs", "4", "--workers", "0", "--out", str(out))
    assert code == 0, text
    assert "slow B - baseline" in text
    assert "total cost" in text
    result = WhatIfResult.model_validate_json(out.read_text())
    assert result.comparisons[0].output_h.mean < 0  # slower line B: less output


def test_a_bad_plan_is_named_on_one_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"out_of_service": [{"machine_id": "mill-77"}]}]))
    code, text = _run("--plan", str(plan), "--horizon", "6h", "--runs", "2", "--workers", "0")
    assert code == 2
    assert "scenarios.0.out_of_service.0.machine_id: unknown machine 'mill-77'" in text
    plan.write_text(json.dumps([{"speeds": [{"machine_id": "mill-01", "speed_pct": 500}]}]))
    code, text = _run("--plan", str(plan), "--runs", "2")
    assert code == 2
    assert "scenarios.0.speeds.0.speed_pct" in text


def test_durations() -> None:
    assert (parse_hours("14d"), parse_hours("36h"), parse_hours("2w"), parse_hours("5")) == (336.0, 36.0, 336.0, 5.0)
    with pytest.raises(typer.BadParameter):
        parse_hours("soon")
