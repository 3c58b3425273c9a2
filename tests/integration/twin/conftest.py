"""Real services for the twin's integration tests: a private Mosquitto per test, the API on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import uvicorn
from fastapi import FastAPI

from factorytwin.api.app import create_app
from factorytwin.config import Settings
from tests.credentials import register_served

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class BrokerTls:
    """A TLS listener's files (PEM): the broker's certificate and key, and the CA it trusts for client certificates
    (required when ``require_certificate``)."""

    cafile: Path
    certfile: Path
    keyfile: Path
    require_certificate: bool = False

    def config(self) -> str:
        """The listener's lines of ``mosquitto.conf``."""
        return (
            f"cafile {self.cafile}\ncertfile {self.certfile}\nkeyfile {self.keyfile}\n"
            f"require_certificate {'true' if self.require_certificate else 'false'}\n"
        )


class Mosquitto:
    """A private broker (so stopping it disturbs nobody) with persistence, so sessions survive a restart; with
    ``tls``, its one listener speaks TLS only (``url`` is then ``mqtts://``)."""

    def __init__(self, workdir: Path, tls: BrokerTls | None = None) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.tls = tls
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n" + (tls.config() if tls is not None else "") + "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 0\n"
            "log_type error\n" + ("user root\n" if os.geteuid() == 0 else "")
            # As root, mosquitto would switch to its own user, who cannot write the test's private directory.
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls is not None else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            if self.process.poll() is not None:
                why = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited: {why}")
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto saves its persistence file on the way out
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running private Mosquitto, stopped after the test."""
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[str]:
    """The API for ``settings`` served by uvicorn on a free port, in this event loop; yields its base URL."""
    async with serve_app(settings) as (base, _app):
        yield base


@contextlib.asynccontextmanager
async def serve_app(settings: Settings) -> AsyncIterator[tuple[str, FastAPI]]:
    """Like ``serve``, and also yields the app (its ``state.services`` once started)."""
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            task.cancel()
            raise RuntimeError("the API did not start")
        await asyncio.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    await register_served(base, app)  # every route needs a credential: admin_headers(base) has one
    try:
        yield base, app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def wait_until(probe: Callable[[], Awaitable[T]], timeout_s: float = 10.0, every_s: float = 0.05) -> T:
    """Poll ``await probe()`` until it returns something truthy, and return that; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s} s (last: {last!r})")
