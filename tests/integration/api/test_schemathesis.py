"""The API keeps its OpenAPI contract: schemathesis with every check (coverage, fuzzing and stateful phases) on a
bounded number of examples against a real server process reports no failure. The longer run is
``bench/schemathesis.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.api.schemathesis_run import run_schemathesis

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 10
"""Per operation and phase. How long a run takes is not asserted here (timing belongs in ``bench/``); the run is
bounded by ``run_schemathesis``'s time-out."""


def test_schemathesis_finds_no_contract_failure(tmp_path: Path) -> None:
    run = run_schemathesis(tmp_path, MAX_EXAMPLES, seed=1)
    assert run.returncode == 0, f"schemathesis failed after {run.seconds:.0f} s:\n{run.failures() or run.output}"
