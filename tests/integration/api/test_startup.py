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
    assert done.returncode == 1
    assert "serving http" not in done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from factorytwin.cli import app; app()", *args],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        check=False,
    )


def missing_database_url(postgres_url: str) -> str:
    """A database name on the real server that does not exist (the fixture's own, with a suffix)."""
    return postgres_url + "_missing"


def test_serve_with_a_missing_postgresql_database_says_so_in_one_line(tmp_path: Path, postgres_url: str) -> None:
    url = missing_database_url(postgres_url)
    name = url.rsplit("/", 1)[1]
    done = run_cli(["serve", "--port", "0", "--database-url", url], tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [f'error: cannot open the database {url}: database "{name}" does not exist'], (
        done.stderr
    )


def test_serve_with_an_unreachable_broker_says_so_in_one_line(tmp_path: Path) -> None:
    port = closed_port()
    done = run_cli(
        ["serve", "--port", "0", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--mqtt-url",
         f"mqtt://127.0.0.1:{port}"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "serving http" not in done.stdout
    assert done.stderr.splitlines() == [
        f"error: cannot reach the MQTT broker 127.0.0.1:{port}: [Errno 111] Connection refused"
    ]


def test_demo_with_a_missing_postgresql_database_or_broker_says_so_in_one_line_before_any_training(
    tmp_path: Path, postgres_url: str
) -> None:
    url = missing_database_url(postgres_url)
    done = run_cli(["demo", "--port", "0", "--postgres", url], tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"error: cannot open the database {url}: database")
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "var" / "models").exists()  # it failed before training a model
    port = closed_port()
    done = run_cli(["demo", "--port", "0", "--mqtt", f"mqtt://127.0.0.1:{port}"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: cannot reach the MQTT broker 127.0.0.1:{port}: [Errno 111] Connection refused"
    ]


def test_demo_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(["demo", "--port", str(port)], tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound and released: connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
