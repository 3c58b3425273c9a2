"""Browser tests: the real API and simulator in a subprocess, the built dashboard, Debian's headless Chromium.

One twin per test session (API on a free port, temporary SQLite database, simulator at 60x with machines heading
to failure); each test gets a fresh page that records console errors and uncaught exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Playwright, sync_playwright

from factorytwin.api.app import STATIC_DIR
from factorytwin.auth import Role
from tests.credentials import token_for, user_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Software WebGL (SwiftShader): there is no GPU on the test machines.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TWIN_PROCESS = Path(__file__).with_name("twin_process.py")
SPEED = 60.0
PASSWORD = "e2e password, long enough"
USERS = {"olga": Role.OPERATOR, "vera": Role.VIEWER, "erin": Role.ENGINEER}
"""The dashboard users of the browser tests (all with ``PASSWORD``); pages log in as the operator by default."""


EXTERNAL = "mill-04"
"""The machine of the layout that the twin process does not simulate: it reports by itself (``Device``)."""


@dataclass
class Twin:
    """The running twin under test (tests/e2e/twin_process.py)."""

    url: str
    process: subprocess.Popen[str]
    token: str
    """An admin's API token, for the tests' own reads of the API."""
    cmd: list[str] = field(default_factory=list)
    log_path: Path = Path()

    def api(self, path: str) -> httpx.Response:
        """GET an API path (``/machines``...) of the running twin, as an admin."""
        return httpx.get(f"{self.url}/api/v1{path}", timeout=10, headers={"Authorization": f"Bearer {self.token}"})

    def post(self, path: str, body: object) -> httpx.Response:
        """POST JSON to an API path of the running twin, as an admin."""
        return httpx.post(
            f"{self.url}/api/v1{path}", json=body, timeout=10, headers={"Authorization": f"Bearer {self.token}"}
        )

    def fail_on_next_command(self, machine_id: str, mode: str = "bearing") -> None:
        """Fault injection: the simulated ``machine_id`` fails just before its next command reaches it."""
        assert self.process.stdin is not None
        offset = len(self.log_path.read_text())
        self.process.stdin.write(f"fail-on-command {machine_id} {mode}\n")
        self.process.stdin.flush()
        wait_for_line(self.log_path, f"ARMED {machine_id}", self.process, after=offset)

    def stop(self) -> None:
        """Stop the API and the simulator (the page keeps its URL; the database stays)."""
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def start(self) -> None:
        """Start the twin again, on the same port and database (after ``stop``)."""
        port = self.url.rsplit(":", 1)[1]
        self.process, url = launch([*self.cmd, "--port", port], self.log_path)
        assert url == self.url, (url, self.url)


def wait_for_line(log_path: Path, prefix: str, proc: subprocess.Popen[str], after: int = 0, timeout: float = 60) -> str:
    """The first line of the process's log (from character ``after``) that starts with ``prefix``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        lines = [ln for ln in log_path.read_text()[after:].splitlines() if ln.startswith(prefix)]
        if lines:
            return lines[0]
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the twin process did not say {prefix!r}:\n" + log_path.read_text())


def launch(cmd: list[str], log_path: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the twin process (its output appended to ``log_path``) and wait until it serves; its URL."""
    offset = len(log_path.read_text()) if log_path.exists() else 0
    # The output goes to a file: a pipe nobody reads would fill up and block it. Stdin takes fault injections.
    with log_path.open("a") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, text=True)
    return proc, wait_for_line(log_path, "READY ", proc, after=offset).split()[1]


class Device:
    """The external machine (``EXTERNAL``) reporting by itself over HTTP, as a machine with its own gateway does:
    a reading set every second with the status it is given, until stopped. Nothing receives its commands."""

    def __init__(self, twin: Twin, machine_id: str = EXTERNAL) -> None:
        self.twin = twin
        self.machine_id = machine_id
        # in their normal bands: no process alarm, health 100 (a CNC mill's sensors, domain.CATALOGUE)
        self.values = {"air_temp": 298.0, "process_temp": 308.5, "spindle_speed": 1500.0, "torque": 40.0,
                       "power": 6.3, "tool_wear": 20.0, "vibration": 1.2, "motor_current": 20.0}  # fmt: skip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="device", daemon=True)

    def event(self, kind: str, status: str, message: str, **data: object) -> None:
        """Report an event now: kind ``status`` with status ``running``, kind ``fault`` with ``failed``..."""
        ts = datetime.now(UTC).isoformat()
        body = {"events": [{"machine_id": self.machine_id, "ts": ts, "kind": kind, "status": status,
                            "message": message, "data": data}]}  # fmt: skip
        answer = self.twin.post("/telemetry", body)
        assert answer.status_code < 300, answer.text

    def _run(self) -> None:
        while not self._stop.is_set():
            reading = {"machine_id": self.machine_id, "ts": datetime.now(UTC).isoformat(), "values": self.values}
            with contextlib.suppress(httpx.TransportError):  # the server may be down (restarting): try again later
                self.twin.post("/telemetry", reading)
            self._stop.wait(1.0)

    def __enter__(self) -> Device:
        self.event("status", "running", "started by its own panel")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


BROWSER_ZONE = "America/Chicago"
"""The browsers' time zone in these tests (the plant's is the default, UTC)."""


@dataclass
class BrowserPage:
    """A page and what it has complained about."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def login(self, twin: Twin, username: str = "olga") -> None:
        """Open a session for ``username`` in this page's browser context (its cookies are the browser's)."""
        answer = self.page.request.post(
            f"{twin.url}/api/v1/auth/login", data={"username": username, "password": PASSWORD}
        )
        assert answer.ok, answer.text()

    def goto(self, twin: Twin, hash_: str = "", user: str | None = "olga") -> None:
        """Open the dashboard at ``hash_`` (e.g. ``#/overview``), logged in as ``user`` (None: as the page is),
        and wait for the live stream."""
        if user is not None:
            self.login(twin, user)
        self.page.goto(f"{twin.url}/{hash_}")
        self.page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """The API and the simulator (at 60x, with faults on the way), until the session ends."""
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail(f"the dashboard is not built in {STATIC_DIR}: run `make web` (npm ci && npm run build in web/)")
    tmp = tmp_path_factory.mktemp("twin")
    log_path = tmp / "twin.log"
    database_url = f"sqlite:///{tmp / 'e2e.db'}"
    for name, role in USERS.items():  # before the start, so the demo finds users and creates no admin of its own
        asyncio.run(user_for(database_url, name, role, PASSWORD))
    asyncio.run(user_for(database_url, "ada", Role.ADMIN, PASSWORD))
    token = asyncio.run(token_for(database_url, Role.ADMIN))
    cmd = [sys.executable, str(TWIN_PROCESS), "--db", str(tmp / "e2e.db"), "--models", str(tmp / "models")]
    cmd += ["--speed", str(SPEED), "--external", EXTERNAL]
    proc, url = launch(cmd, log_path)
    twin = Twin(url, proc, token, cmd, log_path)
    try:
        yield twin
    finally:
        twin.stop()


@pytest.fixture(scope="session")
def playwright_() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    b = playwright_.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def bpage(browser: Browser) -> Iterator[BrowserPage]:
    """A fresh 1600x900 page recording console errors and page errors. The browser sits in another time zone than
    the plant (UTC): every time on screen must follow the plant's zone, never the browser's."""
    context = browser.new_context(viewport={"width": 1600, "height": 900}, timezone_id=BROWSER_ZONE)
    page = context.new_page()
    bp = BrowserPage(page)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            bp.errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: bp.errors.append(f"pageerror: {exc}"))
    yield bp
    context.close()


def downloaded_text(page: Page, link: Locator) -> str:
    """Click a download link and return the file it gave (UTF-8 text)."""
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path()).read_text(encoding="utf-8")


def lit_fraction(png: bytes, background: tuple[int, int, int] = (11, 14, 19), tolerance: int = 24) -> float:
    """Share of pixels of a screenshot that differ from the background colour by more than ``tolerance``."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    far = np.abs(rgb - np.array(background, dtype=np.int16)).max(axis=2) > tolerance
    return float(far.mean())


def distinct_colours(png: bytes, step: int = 32) -> int:
    """How many colours a screenshot has, quantised to ``step`` levels per channel (a blank canvas has one)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32) // step
    return len(np.unique(rgb.reshape(-1, 3) @ np.array([65536, 256, 1])))
