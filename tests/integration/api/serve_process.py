"""``factorytwin serve`` as a real child process on a free loopback port, with the moments it became usable.

Used by the start-up test, the schemathesis test and their longer runs in ``bench/`` (``bench/startup.py``,
``bench/schemathesis.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from factorytwin.auth import Role
from tests.credentials import token_for

SERVE = [sys.executable, "-c", "from factorytwin.cli import app; app()", "serve"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServeProcess:
    """A running server process and when (seconds after it was started) it listened, answered and ingested."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    started: float
    token: str
    """An admin's API token in the server's database (every route but /health needs a credential)."""
    listening_s: float | None = None
    health_s: float | None = None
    ingest_s: float | None = None
    health_cpu_s: float | None = None
    """CPU seconds the process had used when /health first answered: the figure a loaded machine does not skew."""

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        """What the process printed so far."""
        return self.log.read_text("utf-8", errors="replace")


def _first_reading() -> dict[str, object]:
    ts = datetime.now(UTC).isoformat()
    return {"readings": [{"machine_id": "mill-01", "ts": ts, "values": {"torque": 40.0}}]}


def wait_usable(server: ServeProcess, timeout_s: float = 60.0, poll_s: float = 0.01) -> None:
    """Poll until the port accepts, ``/health`` answers 200 and a first reading is accepted (2xx), recording each
    moment; ``AssertionError`` with the process output when that takes longer than ``timeout_s``."""
    port = int(server.url.rsplit(":", 1)[1])
    deadline = server.started + timeout_s
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, timeout=5, headers=headers) as client:
        while time.perf_counter() < deadline:
            if server.process.poll() is not None:
                raise AssertionError(f"the server exited with {server.process.returncode}:\n{server.output()}")
            now = time.perf_counter() - server.started
            if server.listening_s is None:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    server.listening_s = now
            if server.listening_s is not None and server.health_s is None:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/api/v1/health").status_code == 200:
                        server.health_s = time.perf_counter() - server.started
                        server.health_cpu_s = server.cpu_s()
            if server.health_s is not None and server.ingest_s is None:
                with contextlib.suppress(httpx.HTTPError):
                    if client.post("/api/v1/telemetry", json=_first_reading()).status_code < 300:
                        server.ingest_s = time.perf_counter() - server.started
                        return
            time.sleep(poll_s)
    raise AssertionError(f"the server was not usable within {timeout_s} s:\n{server.output()}")


@contextlib.contextmanager
def serve_process(workdir: Path, env: dict[str, str] | None = None, timeout_s: float = 60.0) -> Iterator[ServeProcess]:
    """Start ``factorytwin serve`` (SQLite in ``workdir`` unless ``env`` says otherwise), wait until it is usable,
    yield it, and stop it (SIGTERM, then SIGKILL after 10 s)."""
    port = free_port()
    log = workdir / "serve.log"
    full_env = {
        **os.environ,
        "FT_DATABASE_URL": f"sqlite:///{workdir / 'factorytwin.db'}",
        "FT_MODEL_DIR": str(workdir / "models"),
        "FT_PORT": str(port),
        "FT_HOST": "127.0.0.1",
        **(env or {}),
    }
    full_env.pop("FT_MQTT_URL", None)
    token = asyncio.run(token_for(full_env["FT_DATABASE_URL"], Role.ADMIN))
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(SERVE, env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        server = ServeProcess(process, f"http://127.0.0.1:{port}", log, started, token)
        try:
            wait_usable(server, timeout_s)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
