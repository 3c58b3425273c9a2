"""Browser tests: the real API and simulator in a subprocess, the built dashboard, Debian's headless Chromium.

One twin per test session (API on a free port, temporary SQLite database, simulator at 60x with machines heading
to failure); each test gets a fresh page that records console errors and uncaught exceptions.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

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
USERS = {"olga": Role.OPERATOR, "vera": Role.VIEWER}
"""The dashboard users of the browser tests (all with ``PASSWORD``); pages log in as the operator by default."""


@dataclass
class Twin:
    """The running twin under test."""

    url: str
    process: subprocess.Popen[str]
    token: str
    """An admin's API token, for the tests' own reads of the API."""

    def api(self, path: str) -> httpx.Response:
        """GET an API path (``/machines``...) of the running twin, as an admin."""
        return httpx.get(f"{self.url}/api/v1{path}", timeout=10, headers={"Authorization": f"Bearer {self.token}"})


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
    # The process's output goes to a file: a pipe nobody reads would fill up and block it.
    with log_path.open("w") as log:
        proc = subprocess.Popen([*cmd, "--speed", str(SPEED)], stdout=log, stderr=subprocess.STDOUT, text=True)
    url = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        ready = [ln for ln in log_path.read_text().splitlines() if ln.startswith("READY ")]
        if ready:
            url = ready[0].split()[1]
            break
        time.sleep(0.1)
    if not url:
        proc.kill()
        pytest.fail("the twin process did not start:\n" + log_path.read_text())
    try:
        yield Twin(url, proc, token)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


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
