"""Run schemathesis (every check, every phase) against a real ``factorytwin serve`` process: the bounded run of
``make test`` (``test_schemathesis.py``) and the longer one of ``bench/schemathesis.py``."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.api.serve_process import serve_process

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG)]
MAX_RESPONSE_TIME_S = 10


@dataclass
class SchemathesisRun:
    """The outcome of one run: exit code, what it printed, and how long it took."""

    returncode: int
    output: str
    seconds: float

    def failures(self) -> str:
        """The FAILURES section of the output (empty when there were none)."""
        text = self.output
        start = text.find("FAILURES")
        end = text.find("SUMMARY", start)
        return text[start:end] if start >= 0 else ""


def run_schemathesis(
    workdir: Path,
    max_examples: int,
    seed: int,
    extra: list[str] | None = None,
    timeout_s: float = 900,
    workers: int = 1,
) -> SchemathesisRun:
    """Serve a fresh SQLite-backed API from ``workdir`` and run schemathesis with all checks against it."""
    with serve_process(workdir) as server:
        cmd = [
            *SCHEMATHESIS,
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--max-response-time",
            str(MAX_RESPONSE_TIME_S),
            "--generation-database",
            "none",
            "--no-color",
            "--workers",
            str(workers),
            "--header",
            f"Authorization: Bearer {server.token}",  # an admin: every operation is reachable
            *(extra or []),
        ]
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=workdir, check=False)
        return SchemathesisRun(done.returncode, done.stdout + done.stderr, time.perf_counter() - started)
