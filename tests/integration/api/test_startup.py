"""``factorytwin serve`` is usable soon after it starts: no ML stack imported before it listens, /health within 1 s
of listening, the first reading accepted within 3 s; "serving" is printed only once the port is bound.
The exact figures from a process start are measured by ``bench/startup.py``."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.api.serve_process import SERVE, serve_process

pytestmark = pytest.mark.integration

HEAVY = ("numpy", "pandas", "scipy", "sklearn", "lightgbm", "pyarrow", "matplotlib")

PROBE = f"""
import asyncio, sys
from factorytwin.cli import app
from factorytwin.api.app import create_app
from factorytwin.config import Settings

async def main() -> None:
    a = create_app(Settings(database_url=sys.argv[1], model_dir=sys.argv[2]))
    async with a.router.lifespan_context(a):
        print(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))

asyncio.run(main())
"""


def test_start_up_imports_no_ml_stack(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, db, str(tmp_path / "models")], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_health_and_ingest_answer_soon_after_listening(tmp_path: Path) -> None:
    with serve_process(tmp_path) as server:
        assert server.listening_s is not None
        assert server.health_s is not None
        assert server.ingest_s is not None
        print(
            f"start-up: listening {server.listening_s:.2f} s, /health {server.health_s:.2f} s, "
            f"first ingest {server.ingest_s:.2f} s after the process started"
        )
        assert server.health_s - server.listening_s < 1.0
        assert server.ingest_s - server.listening_s < 3.0
        assert "factorytwin serving http://127.0.0.1:" in server.output()


def test_serving_is_not_announced_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*SERVE, "--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )
    assert done.returncode != 0
    assert "serving http" not in done.stdout + done.stderr
